"""The ingest's refusals: an import the manifest, its disks or the cloud rule out, an ingest out
of time, and a new upload refused while an import of the manifest runs. Each says so in the
status record (or, for the last, in a notification of its own). And an ingest that fails while
a state it saved is still to be announced leaves that to the poller."""

from __future__ import annotations

from typing import Any

from .. import logs
from ..budget import OutOfTime
from ..decide.error_advice import cloud_problem, error_advice
from ..decide.plan import import_id
from ..errors import CloudError, PermanentCloudError
from ..model.events import ObjectCreated, TrackMessage
from ..model.state_keys import CANCEL_SUFFIX
from ..model.status import Event, Problem, StatusRecord
from ..services import Services
from ..state.status_book import StatusBook
from .ingest_outcome import IngestOutcome, wait_id


def manifest_key_of(created: ObjectCreated) -> str:
    key = created.key_candidates()[0]
    return key if key.endswith(".json") else key + ".json"


def record_refusal(services: Services, created: ObjectCreated, err: PermanentCloudError) -> None:
    if created.key_candidates()[0].endswith(".json" + CANCEL_SUFFIX):
        return
    manifest_key = manifest_key_of(created)
    book = StatusBook(services, created.bucket)
    problem = cloud_problem(err)
    try:
        record = book.current(manifest_key)
        if record is None or not record.running:
            rid = import_id(created.bucket, manifest_key, created.etag or "", [])
            if record is None or record.terminal:
                book.new(import_id=rid, manifest_key=manifest_key, state="rejected",
                         note=f"{err.service} refused: {err.code}", problems=[problem])
            else:
                book.move(record.model_copy(update={"id": rid}), "rejected",
                          f"{err.service} refused: {err.code}", problems=[problem])
    except PermanentCloudError:
        pass  # cannot even write the record (no permission): the log line above is all we have


def record_out_of_time(book: StatusBook, manifest_key: str, err: OutOfTime) -> None:
    """End the import this invocation was preparing as failed, saying what took too long, unless
    another import of the manifest is under way (this was a late duplicate of its event)."""
    record = book.finish_pending_announcement(book.load(manifest_key))
    if record is not None and record.running:
        return
    problem = Problem(where=manifest_key, rule=str(err), code="function_timeout",
                      fix=f"{error_advice('function_timeout')} Then run: imagedrop replay {manifest_key}")
    note = f"ingest ran out of time while {err.doing}"
    if record is None or record.terminal:
        rid = wait_id(manifest_key, kind="timeout")
        book.new(import_id=rid, manifest_key=manifest_key, state="failed", note=note, problems=[problem])
    else:
        book.move(record, "failed", note, problems=[problem])


def reject(book: StatusBook, rid: str, manifest_key: str, problems: list[Problem], note: str,
           **fields: Any) -> IngestOutcome:
    record = book.current(manifest_key)
    if record and record.id == rid and record.terminal:
        return IngestOutcome(manifest_key, "duplicate", f"already {record.state}")
    if record and record.running:
        return IngestOutcome(manifest_key, "busy", f"import {record.id} is {record.state}")
    if record and record.state == "waiting":
        book.move(record.model_copy(update={"id": rid}), "rejected", note, problems=problems, **fields)
    else:
        book.new(import_id=rid, manifest_key=manifest_key, state="rejected", note=note, problems=problems,
                 **fields)
    return IngestOutcome(manifest_key, "rejected", "; ".join(p.line() for p in problems))


def announce_refusal(book: StatusBook, running: StatusRecord, rid: str, manifest_key: str,
                     changed: list[str]) -> None:
    logs.step("import.refused_while_running", id=rid, running=running.id, manifest=manifest_key)
    # A record of its own, announced but not saved: the running import's image, task and notes
    # must not appear in a notification that says "rejected".
    at = book.now()
    note = f"refused: import {running.id} of this manifest is still {running.state}"
    refusal = StatusRecord(id=rid, state="rejected", bucket=running.bucket, manifest=manifest_key,
                           region=running.region, created_at=at, updated_at=at,
                           history=[Event(at=at, state="rejected", note=note)], problems=[Problem(
        where=", ".join(changed), rule=f"was uploaded again while import {running.id} is {running.state}",
        fix=f"wait for it to end (imagedrop watch {manifest_key}) or cancel it (imagedrop cancel "
            f"{manifest_key}), then upload the manifest again")])
    if not book.announce_once(refusal):
        logs.step("import.refusal_already_announced", id=rid, manifest=manifest_key)


ANNOUNCE_AFTER_SECONDS = 60


def leave_pending_announcement(services: Services, created: ObjectCreated) -> None:
    """This invocation is failing with a state saved but not announced: the platform retries it
    a few times, and should every retry fail too, nothing else would load the record again (a
    refusal has no poller). A message of our own makes the poller finish it (best effort: the
    queue may be failing too, and then the retries are what is left)."""
    book = StatusBook(services, created.bucket)
    try:
        record = book.load(manifest_key_of(created))
        if record is None or not record.announcement_pending:
            return
        message = TrackMessage(import_id=record.id, bucket=created.bucket,
                               manifest_key=record.manifest, region=services.settings.region,
                               started_at=services.clock(), stage="announce")
        services.mns.send(services.settings.queue, message.to_body(), ANNOUNCE_AFTER_SECONDS)
        logs.step("ingest.announcement_left", id=record.id, state=record.state)
    except CloudError:
        pass
