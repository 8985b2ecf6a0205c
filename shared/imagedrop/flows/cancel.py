"""Cancelling an import: `K.json.cancel` or `K.cancel` uploaded, or `imagedrop cancel K.json`.

A cancel may be handled while the manifest's ingest runs in another instance, before that ingest
has recorded anything. So the cancel is first written down for this upload of the manifest
(`<state prefix>cancels/<manifest key>@<version>`), then applied to the record; the ingest reads
it before ImportImage, after it, and after recording the import, and cancels the task itself when
it finds it. Each side writes before it reads, so at least one sees the other; the terminal claim
lets only one of them announce the end.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from .. import logs
from ..errors import CloudError, PermanentCloudError
from ..state.import_claim import ImportClaim
from ..state.status_book import StatusBook
from ..model.status import StatusRecord
from ..decide.ecs_answers import TASK_CANCELLED

CANCEL_NOTE = "cancelled on request (cancel marker)"


def requested(book: StatusBook, manifest_key: str, version: str) -> bool:
    """Whether a cancel arrived for this upload of the manifest."""
    return book.store.head(book.keys.cancel(manifest_key, version)) is not None


def left_for_follower(book: StatusBook, import_id: str) -> bool:
    """Whether a cancel was left for the instance following the import."""
    return book.store.head(book.keys.repair_cancel(import_id)) is not None


def cancel(book: StatusBook, manifest_key: str,
           claim_of: Callable[[str], ImportClaim | None]) -> tuple[str, str]:
    """Apply a cancel marker to the import of `manifest_key`: (outcome, detail). `claim_of(id)` is
    what the ingest kept of an import it submitted (the ImportImage request among it)."""
    info = book.store.head(manifest_key)
    if info is not None:  # first, so that an ingest running now finds it
        book.store.put(book.keys.cancel(manifest_key, info.version), json.dumps({"at": book.now()}))
    record = book.current(manifest_key)
    if record is None or record.terminal or record.awaiting_manifest:  # a disk alone, not an import
        if info is None:
            return "ignored", "nothing to cancel"
        return "cancelled", "nothing running yet: an import of this upload of the manifest ends cancelled"
    # Left for whoever follows the import (it may be doing so now), before looking who does.
    book.store.put_if_absent(book.keys.repair_cancel(record.id),
                             json.dumps({"at": book.now(), "manifest": manifest_key}))
    lease = book.lease(record.id)
    if lease is None:
        return "cancelling", "another instance is working on the import: it ends it, or says why not"
    try:
        record = book.current(manifest_key)
        if record is None or record.terminal:
            return "ignored", "the import has ended"
        if not record.task_id and record.state == "waiting":
            record = _resolve_token(book, record, claim_of)
        return end_running(book, record)
    finally:
        lease.release()


def _resolve_token(book: StatusBook, record: StatusRecord,
                   claim_of: Callable[[str], ImportClaim | None]) -> StatusRecord:
    """ImportImage may have been carried out with its answer lost: ask again with the same
    ClientToken, which returns the same image and task, so the task is cancelled, not orphaned."""
    claim = claim_of(record.id)
    request = claim.request if claim else None
    if not request:
        return record
    try:
        image_id, task_id = book.services.ecs.import_image(request)
    except PermanentCloudError as err:  # refused: nothing of this import exists
        logs.step("cancel.token_refused", id=record.id, code=err.code)
        return record
    logs.step("cancel.resolved_token", id=record.id, image_id=image_id, task_id=task_id)
    return record.model_copy(update={"image_id": image_id, "task_id": task_id})


def end_running(book: StatusBook, record: StatusRecord) -> tuple[str, str]:
    """End a running import cancelled, holding its lease: (outcome, detail). Past the point of no
    return (finishing, or a repair build to end) the cancel stays left for the follower."""
    if record.state == "finishing":
        return "ignored", ("too late to cancel: the image is imported and being finished; the "
                           "record and the final notification say so")
    if record.state == "repairing":
        execution_id = record.repair.execution_id if record.repair else None
        if execution_id:
            try:
                book.services.ecs.cancel_image_pipeline_execution(execution_id)
            except CloudError as err:   # best effort: the marker makes the poller cancel it anyway
                logs.step("cancel.repair_refused", id=record.id, code=err.code, message=err.message)
        return "cancelling", "the repair is being cancelled; the poller ends it"
    advice = list(record.advice)
    if record.task_id and record.state in ("importing", "waiting"):
        try:
            book.services.ecs.cancel_task(record.task_id)
        except PermanentCloudError as err:
            logs.step("cancel.refused", id=record.id, code=err.code, message=err.message)
        # cancelled: by this call, by this cancel's earlier attempt, or by the ingest that saw
        # it; or past cancelling, the image made
        status = book.services.ecs.describe_task(record.task_id).status
        if status == "Finished" and record.image_id:
            advice.append(_kept(record, "the import had finished"))
        elif status not in TASK_CANCELLED:
            return "ignored", f"the import task is {status} and could not be cancelled"
    if record.state == "checking" and record.image_id:
        # The task had ended: CancelTask cannot undo it, and deleting an image nobody asked to delete
        # is not ours to do. Say it exists, or the owner believes nothing was made.
        advice.append(_kept(record, "it was already imported"))
    if book.move(record, "cancelled", CANCEL_NOTE, advice=list(dict.fromkeys(advice))) is None:
        return "ignored", "the import has ended"
    return "cancelled", ""


def _kept(record: StatusRecord, why: str) -> str:
    return (f"image {record.image_id} is kept, not checked or fixed, since {why} when the cancel "
            f"arrived: delete it (aliyun ecs DeleteImage --RegionId {record.region} --ImageId "
            f"{record.image_id}) if you do not want it")


def late_cancel_note(book: StatusBook, record: StatusRecord, point: str) -> str | None:
    """What the end says of a cancel that came past the point of no return, if one came."""
    if not left_for_follower(book, record.id):
        return None
    return (f"a cancel arrived after {point}: too late to stop it, so the import was completed; "
            f"image {record.image_id} is kept: delete it (aliyun ecs DeleteImage --RegionId "
            f"{record.region} --ImageId {record.image_id}) if you do not want it")


def cancel_unrecorded_task(book: StatusBook, rid: str, manifest_key: str,
                           claim: ImportClaim | None) -> None:
    """An import ended cancelled while an ImportImage of it was under way (its answer lost): ask
    again with its ClientToken for the task, cancel it, and name it in the record."""
    if claim is None or not claim.request or book.store.head(book.keys.submitted(rid)) is None:
        return
    record = book.current(manifest_key)
    if record is None or record.id != rid or record.task_id:
        return
    try:
        image_id, task_id = book.services.ecs.import_image(claim.request)
        book.services.ecs.cancel_task(task_id)
    except PermanentCloudError as err:
        logs.step("cancel.unrecorded_refused", id=rid, code=err.code)
        return
    book.update(record, image_id=image_id, task_id=task_id)


def end_submitted(book: StatusBook, rid: str, manifest_key: str, *, image_id: str, task_id: str,
                  same_upload: set[str], fields: dict[str, Any]) -> None:
    """The ingest found a cancel after ImportImage: cancel the task and end the import cancelled,
    once. `same_upload`: the ids this upload's records may carry (its waiting record's, its own).
    The caller holds the import's lease."""
    try:
        book.services.ecs.cancel_task(task_id)
    except PermanentCloudError as err:  # already cancelled by the cancel's own handler
        logs.step("cancel.refused", id=rid, code=err.code, message=err.message)
    note = f"{CANCEL_NOTE}: task {task_id} cancelled; image {image_id} will not be created"
    record = book.current(manifest_key)
    if record is not None and record.state == "cancelled" and record.id in same_upload:
        # The cancel ended it while ImportImage ran: one end, now with the ids it did not know.
        book.update(record, image_id=image_id, task_id=task_id)
    elif record is None or record.terminal:
        book.new(import_id=rid, manifest_key=manifest_key, state="cancelled", note=note, **fields)
    elif record.id in same_upload or record.state == "waiting":
        _move(book, record.model_copy(update={"id": rid}), note, fields)


def end_before_import(book: StatusBook, rid: str, manifest_key: str, same_upload: set[str]) -> None:
    note = f"{CANCEL_NOTE} before ImportImage: nothing was imported"
    record = book.current(manifest_key)
    if record is not None and record.state == "cancelled" and record.id in same_upload:
        return  # the cancel ended it already
    if record is None or record.terminal:
        book.new(import_id=rid, manifest_key=manifest_key, state="cancelled", note=note)
    elif record.state == "waiting":
        book.move(record.model_copy(update={"id": rid}), "cancelled", note)


def _move(book: StatusBook, record: StatusRecord, note: str, fields: dict[str, Any]) -> None:
    if not record.terminal:
        book.move(record, "cancelled", note, **{k: v for k, v in fields.items() if k != "progress"})
