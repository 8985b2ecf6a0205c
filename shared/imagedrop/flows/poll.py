"""The poller step: one delivered track message → look at the task → wait, end, or finish.

It never sleeps. Waiting is a new message with DelaySeconds, sent before this invocation returns
(EventBridge deletes a delivered message, so a lost re-send would be a lost import). Every message
carries its attempt number; a claim per (import, attempt), taken before the step and settled once
its effects are done, makes a message delivered twice (one after the other, or to two instances at
once) run once. A step that fails releases it for the retry; a copy that finds it held by a running
(or dead) instance looks again later.
"""

from __future__ import annotations

from . import cancel as cancels
from . import poll_stages as stages
from .. import budget, logs
from ..decide.error_advice import error_advice
from ..errors import ImportEnded, PermanentCloudError, RetryableCloudError
from ..model.events import TrackMessage
from ..services import Services
from ..state import claims
from ..state.status_book import StatusBook
from .poll_adopt import adopt, adopted_elsewhere, unrecorded
from .poll_failures import fail, retry_later
from .poll_outcome import RETRY_SECONDS, PollOutcome, look_again_later, send, unsettled

ORPHAN_RETRIES = 3


def poll_event(messages: list[TrackMessage], services: Services) -> list[PollOutcome]:
    outcomes = []
    for message in messages:
        # A message not started is delivered again; one cut off halfway would hold its claim.
        budget.check(f"starting to track import {message.import_id}")
        outcomes.append(poll_one(message, services))
    return outcomes


def poll_one(msg: TrackMessage, services: Services) -> PollOutcome:
    try:
        return _claimed(msg, services)
    except RetryableCloudError as err:
        # Where the stages' own retry does not reach (the attempt's claim, the lease, the first
        # look at the record): EventBridge would redeliver this a few times, then dead-letter it,
        # and the import would be followed no more. The same message again, from us, instead;
        # should the queue refuse that too, the platform's redelivery is what is left.
        logs.step("poll.again_later", id=msg.import_id, attempt=msg.attempt, code=err.code)
        send(services, msg, RETRY_SECONDS)
        return PollOutcome(msg.import_id, "retrying", err.code)


def _claimed(msg: TrackMessage, services: Services) -> PollOutcome:
    book = StatusBook(services, msg.bucket)
    key = book.keys.poll(msg.import_id, msg.stage, msg.attempt)
    claim = claims.take(book.store, key, now=services.clock(), at=book.now())
    if claim is None:
        if unsettled(book, key):
            # Another instance runs this attempt now, or died running it: look again later (its
            # lease ends in time), so that the import is not left unfollowed.
            send(services, msg, RETRY_SECONDS)
            return PollOutcome(msg.import_id, "busy", f"attempt {msg.attempt} is being handled")
        record = book.current(msg.manifest_key)
        if record is not None and record.id == msg.import_id and record.terminal:
            return PollOutcome(msg.import_id, "ended", record.state)
        return PollOutcome(msg.import_id, "duplicate", f"attempt {msg.attempt} was handled")
    try:
        outcome = _leased(book, msg)
    except BaseException:
        claim.release()
        raise
    try:
        claim.settle(outcome=outcome.outcome)
    except RetryableCloudError as err:
        # The step is done and its next message queued; a copy of this one finds the claim
        # held and looks again until its lease ends, then finds the step's work done.
        logs.step("poll.settle_failed", id=msg.import_id, attempt=msg.attempt, code=err.code)
    return outcome


def _leased(book: StatusBook, msg: TrackMessage) -> PollOutcome:
    """Run the step holding the import's lease: no other instance follows or ends the import
    meanwhile, so what the step does cannot come after an end another instance saved."""
    lease = book.lease(msg.import_id)
    if lease is None:
        return look_again_later(book.services, msg, "another instance is working on the import")
    try:
        return _poll(book, msg)
    except ImportEnded as ended:
        logs.step("poll.found_ended", id=msg.import_id, end=ended.end)
        return PollOutcome(msg.import_id, "ended", ended.end)
    finally:
        lease.release()


def _poll(book: StatusBook, msg: TrackMessage) -> PollOutcome:
    services = book.services
    if msg.stage == "announce":
        try:
            return stages.announce_stage(book, msg)
        except RetryableCloudError as err:
            return retry_later(book, msg, err)
    record = book.current(msg.manifest_key)
    claim = unrecorded(book, record, msg)
    if claim is not None:
        record = adopt(book, record, msg, claim)
        if record is None:
            return adopted_elsewhere(book, msg)
    if record is None or record.id != msg.import_id:
        if record is None and msg.attempt < ORPHAN_RETRIES:
            # The ingest that sent this may not have written the record yet (it crashed in between,
            # and its retry is on the way). Look again shortly.
            send(services, msg.model_copy(update={"attempt": msg.attempt + 1}), 30)
            return PollOutcome(msg.import_id, "waiting_for_record")
        logs.step("poll.stale", id=msg.import_id, current=record.id if record else None)
        return PollOutcome(msg.import_id, "stale", "the manifest now belongs to another import")
    if record.terminal:
        if record.announcement_pending:
            # Its end is claimed by an instance still announcing it, or by one that died doing
            # so: look again later, when it is done or its lease is over.
            return look_again_later(services, msg, f"the end ({record.state}) is being announced")
        return PollOutcome(msg.import_id, "ended", record.state)
    try:
        if record.state in ("importing", "checking") and cancels.left_for_follower(book, record.id):
            return stages.cancel(book, msg, record)
        stage = {"finish": stages.finish_stage,
                 "repair": stages.repair_stage}.get(msg.stage, stages.import_stage)
        return stage(book, record, msg)
    except PermanentCloudError as err:
        # Retrying a refusal would only repeat it until the message is dead-lettered and the
        # import is left hanging: end it, with the code.
        return fail(book, msg, err)
    except RetryableCloudError as err:
        return retry_later(book, msg, err)


__all__ = ["poll_event", "poll_one", "PollOutcome", "error_advice"]
