"""The poller step: one delivered track message → look at the task → wait, end, or finish.

It never sleeps. Waiting is a new message with DelaySeconds, sent before this invocation returns
(EventBridge deletes a delivered message, so a lost re-send would be a lost import). Every message
carries its attempt number; a claim per (import, attempt), taken before the step and settled once
its effects are done, makes a message delivered twice (one after the other, or to two instances at
once) run once. A step that fails releases it for the retry; a copy that finds it held by a running
(or dead) instance looks again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import cancel as cancels
from ..state import claims
from .. import budget, logs
from . import repair_step
from ..errors import CloudError, ImportEnded, PermanentCloudError, RetryableCloudError
from ..model.events import TrackMessage
from .finish import finish
from ..decide.error_advice import cloud_problem, error_advice
from ..state.import_claim import ImportClaim, read_claim
from ..decide.accepted import accepted
from ..state.status_book import StatusBook
from ..decide.poll_decisions import Cancelled, Failed, Imported, Wait, decide, wants_image
from ..services import Services
from ..model.status import Problem, State, StatusRecord

FINISH_POLL_SECONDS = 60
RETRY_SECONDS = 30
ORPHAN_RETRIES = 3


@dataclass(frozen=True)
class PollOutcome:
    import_id: str
    outcome: str
    detail: str = ""


def poll_event(messages: list[TrackMessage], services: Services) -> list[PollOutcome]:
    outcomes = []
    for message in messages:
        # A message not started is delivered again; one cut off halfway would hold its claim.
        budget.check(f"starting to track import {message.import_id}")
        outcomes.append(poll_one(message, services))
    return outcomes


def poll_one(msg: TrackMessage, services: Services) -> PollOutcome:
    book = StatusBook(services, msg.bucket)
    key = book.keys.poll(msg.import_id, msg.stage, msg.attempt)
    claim = claims.take(book.store, key, now=services.clock(), at=book.now())
    if claim is None:
        if _unsettled(book, key):
            # Another instance runs this attempt now, or died running it: look again later (its
            # lease ends in time), so that the import is not left unfollowed.
            _send(services, msg, RETRY_SECONDS)
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
    claim.settle(outcome=outcome.outcome)
    return outcome


def _unsettled(book: StatusBook, key: str) -> bool:
    marker = claims.held(book.store, key)
    return marker is not None and marker.unsettled


def _leased(book: StatusBook, msg: TrackMessage) -> PollOutcome:
    """Run the step holding the import's lease: no other instance follows or ends the import
    meanwhile, so what the step does cannot come after an end another instance saved."""
    lease = book.lease(msg.import_id)
    if lease is None:
        return _look_again_later(book.services, msg, "another instance is working on the import")
    try:
        return _poll(book, msg)
    except ImportEnded as ended:
        logs.step("poll.found_ended", id=msg.import_id, end=ended.end)
        return PollOutcome(msg.import_id, "ended", ended.end)
    finally:
        lease.release()


def _poll(book: StatusBook, msg: TrackMessage) -> PollOutcome:
    services = book.services
    record = book.current(msg.manifest_key)
    claim = _unrecorded(book, record, msg)
    if claim is not None:
        record = _adopt(book, record, msg, claim)
        if record is None:
            return _adopted_elsewhere(book, msg)
    if record is None or record.id != msg.import_id:
        if record is None and msg.attempt < ORPHAN_RETRIES:
            # The ingest that sent this may not have written the record yet (it crashed in between,
            # and its retry is on the way). Look again shortly.
            _send(services, msg.model_copy(update={"attempt": msg.attempt + 1}), 30)
            return PollOutcome(msg.import_id, "waiting_for_record")
        logs.step("poll.stale", id=msg.import_id, current=record.id if record else None)
        return PollOutcome(msg.import_id, "stale", "the manifest now belongs to another import")
    if record.terminal:
        if record.announcement_pending:
            # Its end is claimed by an instance still announcing it, or by one that died doing
            # so: look again later, when it is done or its lease is over.
            return _look_again_later(services, msg, f"the end ({record.state}) is being announced")
        return PollOutcome(msg.import_id, "ended", record.state)
    try:
        if record.state in ("importing", "checking") and cancels.left_for_follower(book, record.id):
            return _cancel(book, msg, record)
        stage = {"finish": _finish_stage, "repair": _repair_stage}.get(msg.stage, _import_stage)
        return stage(book, record, msg)
    except PermanentCloudError as err:
        # Retrying a refusal would only repeat it until the message is dead-lettered and the
        # import is left hanging: end it, with the code.
        return _fail(book, msg, err)
    except RetryableCloudError as err:
        return _retry_later(book, msg, err)


def _cancel(book: StatusBook, msg: TrackMessage, record: StatusRecord) -> PollOutcome:
    """A cancel that another instance left for this one (it was following the import then)."""
    outcome, detail = cancels.end_running(book, record)
    return PollOutcome(msg.import_id, outcome, detail)


def _unrecorded(book: StatusBook, record: StatusRecord | None, msg: TrackMessage) -> ImportClaim | None:
    """The claim of this message's import when the ingest queued the message, then did not live to
    record the import (its retries ran out in between): the record is missing or still waiting,
    and the import never ended."""
    if record is not None and record.state != "waiting":
        return None
    if record is not None and record.id != msg.import_id and \
            book.store.head(book.keys.terminal(msg.import_id)) is not None:
        return None  # a late copy of a message of an import that has ended since
    claim = _claim(book, msg)
    return claim if claim is not None and claim.manifest == msg.manifest_key else None


def _adopt(book: StatusBook, record: StatusRecord | None, msg: TrackMessage,
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


def _adopted_elsewhere(book: StatusBook, msg: TrackMessage) -> PollOutcome:
    """The import could not be recorded here: ended, or `importing` claimed by another instance
    (which may have died holding it: looked at again until its lease is over)."""
    if book.ended(msg.import_id):
        return PollOutcome(msg.import_id, "ended")
    return _look_again_later(book.services, msg, "importing is being recorded by another instance")


def _retry_later(book: StatusBook, msg: TrackMessage, err: RetryableCloudError) -> PollOutcome:
    """Throttling, 5xx or the network outlasted every try. EventBridge would redeliver this message
    a few times, then dead-letter it and leave the import hanging: run the step again from a message
    of our own instead, until the import's deadline, then end the import with the error."""
    services = book.services
    if services.clock() - msg.started_at >= services.settings.deadline_hours * 3600:
        return _fail(book, msg, err)
    logs.step("poll.retry_later", id=msg.import_id, attempt=msg.attempt, code=err.code, message=err.message)
    try:
        _send(services, msg.model_copy(update={"attempt": msg.attempt + 1}), RETRY_SECONDS)
    except RetryableCloudError:
        _note_stalled(book, msg, err)
        raise
    return PollOutcome(msg.import_id, "retrying", err.code)


def _note_stalled(book: StatusBook, msg: TrackMessage, err: RetryableCloudError) -> None:
    """Only the redelivery of this message is left; should it be dead-lettered too, the record says
    why the import stopped moving (best effort: the store may be failing as well)."""
    problem = Problem(where=f"import {msg.import_id}", code=err.code,
                      rule=f"the poller could not go on ({err.message}) nor queue its next poll",
                      fix="the step is retried a few times; if this stays, the import is no longer "
                          f"followed: look for image {msg.image_id} in the console, or upload the "
                          "manifest again to import anew")
    try:
        # the step may have moved it since
        record = book.current(msg.manifest_key)
        if record is not None and record.id == msg.import_id and not record.terminal:
            book.update(record, problems=[*record.problems, problem])
    except CloudError:
        pass


def _fail(book: StatusBook, msg: TrackMessage, err: CloudError) -> PollOutcome:
    record = book.current(msg.manifest_key)
    if record is None or record.terminal or record.id != msg.import_id:
        return PollOutcome(msg.import_id, "ended")
    problem = cloud_problem(err)
    advice = list(record.advice)
    if record.state == "repairing" and record.repair is not None:
        advice.append(_abandon_repair(book, record))
    elif record.state in ("checking", "finishing") and msg.image_id:
        # The import itself worked: whoever reads "failed" must know the image exists.
        advice.append(f"image {msg.image_id} was imported and is kept; what the manifest asked after the "
                      f"import may be undone: finish it by hand, or delete the image (aliyun ecs "
                      f"DeleteImage --RegionId {record.region} --ImageId {msg.image_id}) and upload the "
                      f"manifest again")
    return _end(book, msg, record, "failed", f"{err.service} refused: {err.code}", err.code,
                problems=[problem], advice=advice)


def _abandon_repair(book: StatusBook, record: StatusRecord) -> str:
    """The repair cannot go on: remove its template if ECS lets us; say what is kept and left."""
    repair = record.repair
    assert repair is not None
    left = ""
    if repair.pipeline_id:
        try:
            book.services.ecs.delete_image_pipeline(repair.pipeline_id)
        except CloudError as err:
            if not err.code.endswith("NotFound"):
                left = (f"; the repair's template {repair.pipeline_id} is left (ECS answered "
                        f"{err.code}): delete it once its build ends (aliyun ecs "
                        f"DeleteImagePipeline --RegionId {record.region} "
                        f"--ImagePipelineId {repair.pipeline_id})")
    name = repair.names.get(repair.original_image_id or "") or "its name"
    return (f"the imported image {repair.original_image_id} is kept, unrepaired, under {name}: "
            "use it as it is, repair it by hand, or upload the manifest again" + left)


def _end(book: StatusBook, msg: TrackMessage, record: StatusRecord, state: State, note: str,
         detail: str = "", **fields: Any) -> PollOutcome:
    """End the import in `state`, or say who else is ending it."""
    if book.move(record, state, note, **fields) is None:
        return _moved_elsewhere(book, msg, state)
    return PollOutcome(msg.import_id, state, detail)


def _moved_elsewhere(book: StatusBook, msg: TrackMessage, state: str) -> PollOutcome:
    """Another instance holds `state`'s claim. Settled: it moved the import on and follows it.
    Not settled: it is moving it now, or died doing so; look again later, so that the import is
    taken over once the claim's lease is over rather than left where it is."""
    if _unsettled(book, book.claim_key(msg.import_id, state)):
        return _look_again_later(book.services, msg, f"{state} is being entered by another instance")
    return PollOutcome(msg.import_id, "ended")


def _look_again_later(services: Services, msg: TrackMessage, why: str) -> PollOutcome:
    """Another instance holds what this step needs: the next attempt runs after RETRY_SECONDS."""
    _send(services, msg.model_copy(update={"attempt": msg.attempt + 1}), RETRY_SECONDS)
    return PollOutcome(msg.import_id, "busy", why)


def _send(services: Services, msg: TrackMessage, delay: int) -> None:
    services.mns.send(services.settings.queue, msg.to_body(), delay)


def _import_stage(book: StatusBook, record: StatusRecord, msg: TrackMessage) -> PollOutcome:
    services, settings = book.services, book.services.settings
    if record.repair is not None and record.repair.execution_id:
        # The repair started: its own messages follow the import. Queued again, in case the step
        # that started it failed before queuing them (a copy already sent is a duplicate).
        repair_step.follow(book, record, msg)
        return PollOutcome(msg.import_id, "duplicate",
                           "the import stage is over: the repair started")
    task = services.ecs.describe_task(msg.task_id)
    image = services.ecs.describe_image(msg.image_id) if wants_image(task, msg) else None
    decision = decide(msg, task, image, services.clock(), first_seconds=settings.poll_first_seconds,
                      max_seconds=settings.poll_max_seconds,
                      deadline_seconds=settings.deadline_hours * 3600,
                      detection_requested=msg.image_check)
    logs.step("poll.decided", id=msg.import_id, attempt=msg.attempt, task=task.status,
              progress=task.progress, decision=type(decision).__name__)
    if isinstance(decision, Wait):
        assert decision.message is not None
        _send(services, decision.message, decision.delay)
        progress = f"{decision.progress}%" if decision.progress is not None else record.progress
        if decision.state != record.state:
            book.move(record, decision.state, decision.note, progress=progress)
        else:
            book.update(record, progress=progress)
        return PollOutcome(msg.import_id, "waiting", decision.note)
    if isinstance(decision, Failed):
        if decision.cancel_task:
            try:
                services.ecs.cancel_task(msg.task_id)
            except PermanentCloudError as err:
                logs.step("poll.cancel_refused", id=msg.import_id, code=err.code)
        problem = Problem(where=f"import task {msg.task_id}", rule=decision.message, code=decision.code,
                          fix=decision.advice)
        return _end(book, msg, record, "failed", f"{decision.code}: {decision.message}",
                    decision.code, problems=[problem])
    if isinstance(decision, Cancelled):
        return _end(book, msg, record, "cancelled", decision.note)
    assert isinstance(decision, Imported)
    if record.state in ("importing", "checking", "repairing"):
        claim = _claim(book, msg)
        manifest = claim.parsed_manifest() if claim else None
        findings = claim.findings if claim else None
        chosen = repair_step.selection_for(manifest, services, image, findings) \
            if manifest is not None and image is not None else None
        if chosen is not None and chosen.wanted:
            started = repair_step.start(book, record, msg, manifest,  # type: ignore[arg-type]
                                        chosen, decision.note)
            if started is None:
                return _moved_elsewhere(book, msg, "repairing")
            return PollOutcome(msg.import_id, "repairing")
    if record.state != "finishing" and cancels.left_for_follower(book, record.id):
        return _cancel(book, msg, record)   # the last moment a cancel stops the import
    if record.state != "finishing":  # else a retry: the first delivery moved it, then failed to finish
        moved = book.move(record, "finishing", decision.note, progress="100%")
        if moved is None:
            return _moved_elsewhere(book, msg, "finishing")
        record = moved
    return _finish_stage(book, record, msg.model_copy(update={"stage": "finish"}))


def _claim(book: StatusBook, msg: TrackMessage) -> ImportClaim | None:
    return read_claim(book.store, book.keys.claim(msg.import_id))


def _repair_stage(book: StatusBook, record: StatusRecord, msg: TrackMessage) -> PollOutcome:
    claim = _claim(book, msg)
    manifest = claim.parsed_manifest() if claim else None
    if record.state == "finishing":   # a retry: the swap was done, the finishing steps were not
        return _finish_stage(book, record, msg.model_copy(update={"stage": "finish",
                                                                   "image_id": record.image_id}))
    if manifest is None:
        problem = Problem(where=f"import {msg.import_id}", rule="its claim record is gone",
                          fix="look for the images in the console; upload the manifest again "
                              "to retry")
        return _end(book, msg, record, "failed", "cannot follow the repair: its claim record is gone",
                    "lost", problems=[problem])
    step = repair_step.poll(book, record, msg, manifest)
    if isinstance(step, repair_step.FinishNext):
        return _finish_stage(book, step.record, step.message)
    return PollOutcome(msg.import_id, step.outcome, step.detail)


def _finish_stage(book: StatusBook, record: StatusRecord, msg: TrackMessage) -> PollOutcome:
    services = book.services
    claim = _claim(book, msg)
    manifest = claim.parsed_manifest() if claim else None
    image = services.ecs.describe_image(msg.image_id)
    if manifest is None or image is None:
        what = "its claim record" if manifest is None else f"image {msg.image_id}"
        problem = Problem(where=f"import {msg.import_id}", rule=f"{what} is gone",
                          fix="look for the image in the console; upload the manifest again to retry")
        return _end(book, msg, record, "failed", f"cannot finish: {what} is gone", "lost",
                    problems=[problem])
    if record.state != "finishing":
        moved = book.move(record, "finishing", f"image {msg.image_id} is {image.status}")
        if moved is None:
            return _moved_elsewhere(book, msg, "finishing")
        record = moved
    outcome = finish(book, record, manifest, image, claim.detected_boot_mode if claim else None)
    if not outcome.done:
        pending = {r: i.get("status") for r, i in outcome.record.copies.items()}
        _send(services, msg.model_copy(update={"attempt": msg.attempt + 1, "stage": "finish"}),
              FINISH_POLL_SECONDS)
        return PollOutcome(msg.import_id, "finishing", f"copies: {pending}")
    note = f"image {msg.image_id} is ready"
    if outcome.record.copies:
        note += " in " + ", ".join([book.services.settings.region, *outcome.record.copies])
    if outcome.problems:
        note += f" ({len(outcome.problems)} finishing problem(s))"
    late = cancels.late_cancel_note(book, outcome.record, "the import was finishing"
                                    if outcome.record.repair is None else "the repair's build succeeded")
    advice = list(dict.fromkeys([*outcome.record.advice, *([late] if late else [])]))
    return _end(book, msg, outcome.record, "succeeded", note, problems=outcome.problems,
                advice=advice)


__all__ = ["poll_event", "poll_one", "PollOutcome", "error_advice"]
