"""The stages of following an import, one per kind of track message: the import task (wait,
fail, start a repair, or move on to finishing), the repair's build, finishing the image, and an
announcement the ingest could not finish."""

from __future__ import annotations

from . import cancel as cancels
from . import repair_step
from .. import logs
from ..decide.poll_decisions import Cancelled, Failed, Imported, Wait, decide, wants_image
from ..errors import PermanentCloudError
from ..model.events import TrackMessage
from ..model.status import Problem, StatusRecord
from ..state.status_book import StatusBook
from .finish import finish
from .poll_outcome import PollOutcome, claim_of, end, look_again_later, moved_elsewhere, send

FINISH_POLL_SECONDS = 60


def cancel(book: StatusBook, msg: TrackMessage, record: StatusRecord) -> PollOutcome:
    """A cancel that another instance left for this one (it was following the import then)."""
    outcome, detail = cancels.end_running(book, record)
    return PollOutcome(msg.import_id, outcome, detail)


def announce_stage(book: StatusBook, msg: TrackMessage) -> PollOutcome:
    """A state the ingest saved but could not announce on any of its tries: loading the record
    announces it (`StatusBook.current`), or another instance is doing so; look again then."""
    record = book.current(msg.manifest_key)
    if record is None or record.id != msg.import_id:
        return PollOutcome(msg.import_id, "stale", "the manifest now belongs to another import")
    if record.announcement_pending:
        return look_again_later(book.services, msg, f"{record.state} is being announced")
    return PollOutcome(msg.import_id, "announced", record.state)


def import_stage(book: StatusBook, record: StatusRecord, msg: TrackMessage) -> PollOutcome:
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
        send(services, decision.message, decision.delay)
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
        return end(book, msg, record, "failed", f"{decision.code}: {decision.message}",
                   decision.code, problems=[problem])
    if isinstance(decision, Cancelled):
        return end(book, msg, record, "cancelled", decision.note)
    assert isinstance(decision, Imported)
    if record.state in ("importing", "checking", "repairing"):
        claim = claim_of(book, msg)
        manifest = claim.parsed_manifest() if claim else None
        findings = claim.findings if claim else None
        chosen = repair_step.selection_for(manifest, services, image, findings) \
            if manifest is not None and image is not None else None
        if chosen is not None and chosen.wanted:
            started = repair_step.start(book, record, msg, manifest,  # type: ignore[arg-type]
                                        chosen, decision.note)
            if started is None:
                return moved_elsewhere(book, msg, "repairing")
            return PollOutcome(msg.import_id, "repairing")
    if record.state != "finishing" and cancels.left_for_follower(book, record.id):
        return cancel(book, msg, record)   # the last moment a cancel stops the import
    if record.state != "finishing":  # else a retry: the first delivery moved it, then failed to finish
        moved = book.move(record, "finishing", decision.note, progress="100%")
        if moved is None:
            return moved_elsewhere(book, msg, "finishing")
        record = moved
    return finish_stage(book, record, msg.model_copy(update={"stage": "finish"}))


def repair_stage(book: StatusBook, record: StatusRecord, msg: TrackMessage) -> PollOutcome:
    claim = claim_of(book, msg)
    manifest = claim.parsed_manifest() if claim else None
    if record.state == "finishing":   # a retry: the swap was done, the finishing steps were not
        return finish_stage(book, record, msg.model_copy(update={"stage": "finish",
                                                                  "image_id": record.image_id}))
    if manifest is None:
        problem = Problem(where=f"import {msg.import_id}", rule="its claim record is gone",
                          fix="look for the images in the console; upload the manifest again "
                              "to retry")
        return end(book, msg, record, "failed", "cannot follow the repair: its claim record is gone",
                   "lost", problems=[problem])
    step = repair_step.poll(book, record, msg, manifest)
    if isinstance(step, repair_step.FinishNext):
        return finish_stage(book, step.record, step.message)
    return PollOutcome(msg.import_id, step.outcome, step.detail)


def finish_stage(book: StatusBook, record: StatusRecord, msg: TrackMessage) -> PollOutcome:
    services = book.services
    claim = claim_of(book, msg)
    manifest = claim.parsed_manifest() if claim else None
    image = services.ecs.describe_image(msg.image_id)
    if manifest is None or image is None:
        what = "its claim record" if manifest is None else f"image {msg.image_id}"
        problem = Problem(where=f"import {msg.import_id}", rule=f"{what} is gone",
                          fix="look for the image in the console; upload the manifest again to retry")
        return end(book, msg, record, "failed", f"cannot finish: {what} is gone", "lost",
                   problems=[problem])
    if record.state != "finishing":
        moved = book.move(record, "finishing", f"image {msg.image_id} is {image.status}")
        if moved is None:
            return moved_elsewhere(book, msg, "finishing")
        record = moved
    outcome = finish(book, record, manifest, image, claim.detected_boot_mode if claim else None)
    if not outcome.done:
        pending = {r: i.get("status") for r, i in outcome.record.copies.items()}
        send(services, msg.model_copy(update={"attempt": msg.attempt + 1, "stage": "finish"}),
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
    return end(book, msg, outcome.record, "succeeded", note, problems=outcome.problems,
               advice=advice)
