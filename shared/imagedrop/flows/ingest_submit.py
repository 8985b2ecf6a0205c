"""Submitting a planned import: ImportImage, the first track message, then the record that says
`importing`; or, while ECS is not answering yet, a record that says why nothing happened. A cancel
that lands meanwhile ends the import here."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import cancel as cancels
from .. import logs
from ..decide.accepted import accepted
from ..decide.error_advice import cloud_problem, error_advice
from ..decide.plan import ImportPlan
from ..decide.poll_decisions import next_poll
from ..errors import PermanentCloudError, RetryableCloudError
from ..model.events import TrackMessage
from ..model.status import Problem
from ..state import claims
from ..state.status_book import StatusBook
from .ingest_outcome import IngestOutcome, wait_id
from .ingest_refusals import reject

if TYPE_CHECKING:
    from ..ports import ObjectInfo


def guest_fields(plan: ImportPlan) -> dict[str, Any]:
    """What the disk told about the guest, as the claim keeps it (JSON)."""
    return {"filled": plan.filled, "guest": plan.guest.model_dump(mode="json") if plan.guest else None,
            "findings": [f.model_dump(mode="json") for f in plan.findings]}


def submit(book: StatusBook, rid: str, manifest_key: str, plan: ImportPlan, image_name: str,
           manifest: ObjectInfo) -> IngestOutcome:
    services = book.services
    # Left before ImportImage: a cancel that ends the import meanwhile knows a task may exist.
    book.store.put_if_absent(book.keys.submitted(rid), json.dumps({"at": book.now()}))
    ended = book.ended(rid)
    if ended:
        return IngestOutcome(manifest_key, "duplicate", f"import {rid} already ended {ended}")
    try:
        image_id, task_id = services.ecs.import_image(plan.request)
    except PermanentCloudError as err:
        problem = cloud_problem(err, "ImportImage")
        return reject(book, rid, manifest_key, [problem], f"ECS refused the import: {err.code}")
    except RetryableCloudError as err:
        _note_retry(book, rid, manifest_key, err)
        raise  # the platform retries the invocation; the ClientToken keeps that safe
    logs.step("import.submitted", id=rid, image_id=image_id, task_id=task_id)
    total = sum(d.size or 0 for d in plan.disks)
    started = services.clock()
    message = TrackMessage(import_id=rid, bucket=book.bucket, manifest_key=manifest_key,
                           region=services.settings.region, task_id=task_id, image_id=image_id,
                           attempt=0, started_at=started, total_bytes=total,
                           image_check=plan.detection)
    delay = next_poll(attempt=0, elapsed=0.0, total_bytes=total, progress=None,
                      first_seconds=services.settings.poll_first_seconds,
                      max_seconds=services.settings.poll_max_seconds)
    # The tracking message goes out before the record says "importing": a crash in between is
    # retried by the platform, and ImportImage with the same ClientToken returns the same task.
    services.mns.send(services.settings.queue, message.to_body(), delay)
    note, fields = accepted(image_id, task_id, image_name=image_name, disks=plan.disks,
                            manifest_etag=manifest.etag, advice=plan.notes, **guest_fields(plan))
    # A cancel handled while this ran (its handler found nothing to cancel yet) ends the import:
    # looked for before recording it, and again after, since the cancel may land in between.
    lease = book.lease(rid)
    if lease is None:   # a poller adopting it, or a cancel: that instance records or ends it
        return IngestOutcome(manifest_key, "submitted", f"{image_id} {task_id}; recorded elsewhere")
    try:
        return _record_submitted(book, rid, manifest_key, manifest, image_id, task_id, note, fields)
    finally:
        lease.release()


def _record_submitted(book: StatusBook, rid: str, manifest_key: str, manifest: ObjectInfo,
                      image_id: str, task_id: str, note: str,
                      fields: dict[str, Any]) -> IngestOutcome:
    same_upload = {rid, wait_id(f"{manifest_key}@{manifest.version}")}
    for recorded in (False, True):
        record = book.current(manifest_key)
        cancelled = (record is not None and record.state == "cancelled"
                     and record.id in same_upload)
        if cancelled or cancels.requested(book, manifest_key, manifest.version):
            cancels.end_submitted(book, rid, manifest_key, image_id=image_id, task_id=task_id,
                                  same_upload=same_upload, fields=fields)
            return IngestOutcome(manifest_key, "cancelled", f"{image_id} {task_id} cancelled")
        if recorded:
            break
        if record is None or record.terminal:
            book.new(import_id=rid, manifest_key=manifest_key, state="importing", note=note, **fields)
        elif record.id == rid and record.state != "waiting":
            pass  # a duplicate delivery got here second; the first one recorded it
        else:
            book.move(record.model_copy(update={"id": rid}), "importing", note, **fields)
    return IngestOutcome(manifest_key, "submitted", f"{image_id} {task_id}")


def _note_retry(book: StatusBook, rid: str, manifest_key: str, err: RetryableCloudError) -> None:
    """Say why nothing happened yet, where people look, before the invocation fails and is retried.
    If every retry fails, this is what the status record keeps saying."""
    problem = Problem(where="ImportImage", rule=err.message, code=err.code,
                      fix=f"{error_advice(err.code)} The platform retries this on its own; if the "
                          f"record still says so later, run: imagedrop replay {manifest_key}")
    note = f"ImportImage not accepted yet ({err.code}); retrying"
    lease = book.lease(rid)   # not while another instance records the import
    if lease is None:
        return
    try:
        _note_waiting(book, rid, manifest_key, note, problem)
    finally:
        lease.release()


def _note_waiting(book: StatusBook, rid: str, manifest_key: str, note: str,
                  problem: Problem) -> None:
    if book.ended(rid) or claims.held(book.store, book.claim_key(rid, "importing")):
        return  # another instance got the answer and recorded the import
    record = book.current(manifest_key)
    if record is None or record.terminal or record.awaiting_manifest:
        book.new(import_id=rid, manifest_key=manifest_key, state="waiting", note=note, progress=note,
                 problems=[problem])
    elif record.state == "waiting":
        book.update(record, id=rid, progress=note, problems=[problem])
