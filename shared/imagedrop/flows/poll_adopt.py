"""Adopting an import its ingest never recorded: the ingest queued the track message, then did not
live to record the import. The poller records it from its claim, as the ingest would have, before
following it (or ends it, when a cancel came meanwhile)."""

from __future__ import annotations

from . import cancel as cancels
from .. import logs
from ..decide.accepted import accepted
from ..model.events import TrackMessage
from ..model.status import StatusRecord
from ..state.import_claim import ImportClaim
from ..state.status_book import StatusBook
from .poll_outcome import PollOutcome, claim_of, look_again_later


def unrecorded(book: StatusBook, record: StatusRecord | None, msg: TrackMessage) -> ImportClaim | None:
    """The claim of this message's import when the ingest queued the message, then did not live to
    record the import (its retries ran out in between): the record is missing or still waiting,
    and the import never ended."""
    if record is not None and record.state != "waiting":
        return None
    if record is not None and record.id != msg.import_id and \
            book.store.head(book.keys.terminal(msg.import_id)) is not None:
        return None  # a late copy of a message of an import that has ended since
    claim = claim_of(book, msg)
    return claim if claim is not None and claim.manifest == msg.manifest_key else None


def adopt(book: StatusBook, record: StatusRecord | None, msg: TrackMessage,
          claim: ImportClaim) -> StatusRecord | None:
    """Record the import as the ingest would have, from its claim, before following it."""
    note, fields = accepted(msg.image_id, msg.task_id,
                            image_name=(claim.spec or {}).get("image_name"),
                            disks=claim.records, manifest_etag=claim.manifest_etag,
                            advice=claim.advice, filled=claim.filled, guest=claim.guest,
                            findings=claim.findings)
    version = claim.version
    if version and cancels.requested(book, msg.manifest_key, version):
        # Cancelled while its ingest was dying: cancel the task instead of following it.
        cancels.end_submitted(book, msg.import_id, msg.manifest_key, image_id=msg.image_id,
                              task_id=msg.task_id, same_upload={msg.import_id}, fields=fields)
        return None
    logs.step("poll.adopted", id=msg.import_id, manifest=msg.manifest_key)
    if record is None:
        return book.new(import_id=msg.import_id, manifest_key=msg.manifest_key, state="importing",
                        note=note, **fields)
    return book.move(record.model_copy(update={"id": msg.import_id}), "importing", note, **fields)


def adopted_elsewhere(book: StatusBook, msg: TrackMessage) -> PollOutcome:
    """The import could not be recorded here: ended, or `importing` claimed by another instance
    (which may have died holding it: looked at again until its lease is over)."""
    if book.ended(msg.import_id):
        return PollOutcome(msg.import_id, "ended")
    return look_again_later(book.services, msg, "importing is being recorded by another instance")
