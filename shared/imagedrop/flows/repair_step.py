"""The poller's repair steps: start an Image Builder build on the imported image, follow it on
the no-wait message schedule, then either put the repaired image in the original's place or end
the import keeping the original.

Every step is safe to run twice and under lost answers: CreateImagePipeline and
StartImagePipelineExecution carry ClientTokens derived from the import id; names are read before
they are changed; what a step learned is saved in the record before anything is deleted, so a
retry after a crash goes on from there instead of asking ECS about a template that is gone.
The swap names the repaired image in the record first, then renames the original out of the way
and the repaired image in, each name written to the record before it is given: a crash in between
leaves every image named in the record, and the retry completes the swap. A swap ECS refuses (the
name taken meanwhile) puts the original back under the manifest's name when it can, and ends the
import saying which image holds which name.

A step returns what the poller does next (`Ended` or `FinishNext`); it never calls back into it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import logs
from . import cancel as cancels
from .repair_swap import SwapFailed, delete_pipeline, seconds, swap
from ..errors import PermanentCloudError
from ..model.events import TrackMessage
from ..state.status_book import StatusBook
from ..manifest import Manifest
from ..decide.repair_items import RepairSelection, select_repair
from ..decide.repair_track import (ExecutionView, RepairEnded, Repaired, RepairWait, decide_repair,
                           execution_token, name_prefix, pipeline_token)
from ..services import Services
from ..model.status import Problem, RepairRecord, StatusRecord
from ..decide.ecs_answers import ImageView



@dataclass(frozen=True)
class Ended:
    """The step is over: what the poller answers."""

    outcome: str
    detail: str = ""


@dataclass(frozen=True)
class FinishNext:
    """The repaired image is in place: the poller runs the finishing stage on it."""

    record: StatusRecord
    message: TrackMessage


RepairNext = Ended | FinishNext


def selection_for(manifest: Manifest, services: Services, image: ImageView,
                  findings: list[dict] | None = None) -> RepairSelection:  # type: ignore[type-arg]
    """What this import repairs: the manifest's `repair`, else the deployment's default."""
    setting = manifest.repair
    if setting is None:
        setting = services.settings.repair if services.settings.repair != "forbid" else "off"
    return select_repair(image.detection_items, findings or [], setting,
                         image.os_type or manifest.os_type)


def start(book: StatusBook, record: StatusRecord, msg: TrackMessage, manifest: Manifest,
          chosen: RepairSelection, note: str) -> StatusRecord | None:
    """Move to `repairing`, create the template and start its build, queue the first poll.
    None when another delivery already ended the import."""
    services, settings = book.services, book.services.settings
    if record.state != "repairing":
        repair = RepairRecord(items=chosen.items, reasons=chosen.reasons,
                              original_image_id=msg.image_id)
        moved = book.move(record, "repairing", f"{note}; repairing {', '.join(chosen.items)} "
                          "with ECS Image Builder", repair=repair)
        if moved is None:
            return None
        record = moved
    assert record.repair is not None
    if cancels.left_for_follower(book, record.id):   # nothing built yet: end it here
        if record.repair.pipeline_id:   # made by an earlier try of this step
            delete_pipeline(services, record.repair.pipeline_id)
        book.move(record, "cancelled", f"{cancels.CANCEL_NOTE} before the repair's build started",
                  advice=[*record.advice, f"the imported image {msg.image_id} is kept, unrepaired, "
                          f"under {manifest.image_name}: delete it if you do not want it"])
        return None
    ecs = services.ecs
    book.guard(record.id)
    pipeline_id = ecs.create_image_pipeline(
        msg.image_id, items=record.repair.items, name_prefix=name_prefix(manifest.image_name),
        token=pipeline_token(record.id), description=manifest.description,
        tags=manifest.tag_pairs, instance_type=settings.repair_instance_type,
        vswitch_id=settings.repair_vswitch_id)
    record = book.update(record, repair=record.repair.model_copy(update={"pipeline_id": pipeline_id}))
    assert record.repair is not None
    try:
        book.guard(record.id)
        execution_id = ecs.start_image_pipeline_execution(pipeline_id,
                                                          token=execution_token(record.id))
    except PermanentCloudError:
        delete_pipeline(services, pipeline_id)   # leave no template behind a refused start
        raise
    record = book.update(record, repair=record.repair.model_copy(update={
        "pipeline_id": pipeline_id, "execution_id": execution_id, "status": "PREPARING"}))
    follow(book, record, msg)
    logs.step("repair.started", id=record.id, pipeline=pipeline_id, execution=execution_id,
              items=record.repair.items)
    return record


def follow(book: StatusBook, record: StatusRecord, msg: TrackMessage) -> None:
    """Queue the build's first poll (again, when the step that started it failed after: a copy
    that was sent already is a duplicate of the same attempt)."""
    assert record.repair is not None
    settings = book.services.settings
    first = msg.model_copy(update={
        "stage": "repair", "attempt": msg.attempt + 1, "pipeline_id": record.repair.pipeline_id,
        "execution_id": record.repair.execution_id,
        "repair_started_at": msg.repair_started_at or book.services.clock(),
        "seen_at": None, "seen_progress": None})
    book.services.mns.send(settings.queue, first.to_body(), settings.poll_first_seconds)


def poll(book: StatusBook, record: StatusRecord, msg: TrackMessage, manifest: Manifest) -> RepairNext:
    """One delivered repair message: what the poller does next."""
    services, settings = book.services, book.services.settings
    repair = record.repair or RepairRecord(original_image_id=msg.image_id)
    if repair.repaired_image_id and repair.swapped:   # a retry after the swap: go on from there
        return _after_swap(book, record, msg, manifest)
    if repair.repaired_image_id and not repair.outcome:   # a retry inside the swap: complete it
        return _swap_then_finish(book, record, repair, msg, manifest, None, repair.repaired_image_id)
    if repair.outcome:                           # a retry after the end was decided
        gone = services.ecs.describe_image_pipeline_execution(
            repair.pipeline_id or msg.pipeline_id or "",
            repair.execution_id or msg.execution_id or "")
        return _end(book, record, msg, manifest, gone, RepairEnded(
            repair.outcome, repair.code or "RepairFailed",  # type: ignore[arg-type]
            repair.message or "", ""))
    assert msg.pipeline_id and msg.execution_id
    marker = book.store.head(book.keys.repair_cancel(record.id)) is not None
    execution = services.ecs.describe_image_pipeline_execution(msg.pipeline_id, msg.execution_id)
    decision = decide_repair(msg, execution, services.clock(), cancel_requested=marker,
                             first_seconds=settings.poll_first_seconds,
                             max_seconds=settings.poll_max_seconds,
                             deadline_seconds=settings.deadline_hours * 3600)
    logs.step("repair.decided", id=record.id, status=execution.status if execution else None,
              decision=type(decision).__name__)
    if isinstance(decision, RepairWait):
        if decision.cancel:
            try:
                services.ecs.cancel_image_pipeline_execution(msg.execution_id)
            except PermanentCloudError as err:   # it moved on meanwhile: the next poll sees where
                logs.step("repair.cancel_refused", id=record.id, code=err.code)
        services.mns.send(settings.queue, decision.message.to_body(), decision.delay)
        if execution is not None and execution.status != repair.status:
            book.update(record, repair=repair.model_copy(update={"status": execution.status}))
        return Ended("repairing", decision.note)
    if isinstance(decision, Repaired):
        assert execution is not None
        return _swap_then_finish(book, record, repair, msg, manifest, execution, decision.image_id)
    return _end(book, record, msg, manifest, execution, decision)


def _swap_then_finish(book: StatusBook, record: StatusRecord, repair: RepairRecord,
                      msg: TrackMessage, manifest: Manifest, execution: ExecutionView | None,
                      repaired_id: str) -> RepairNext:
    swapped = swap(book, record, repair, manifest, execution, repaired_id)
    if isinstance(swapped, SwapFailed):
        book.move(swapped.record, "failed",
                  f"repair failed: the names could not be swapped ({swapped.code})",
                  problems=[*swapped.record.problems, swapped.problem], repair=swapped.repair)
        return Ended("failed", swapped.code)
    return _after_swap(book, swapped, msg, manifest)


def _after_swap(book: StatusBook, record: StatusRecord, msg: TrackMessage,
                manifest: Manifest) -> RepairNext:
    repair = record.repair
    assert repair is not None and repair.repaired_image_id
    ecs = book.services.ecs
    if repair.pipeline_id:
        delete_pipeline(book.services, repair.pipeline_id)
    problems: list[Problem] = []
    if not manifest.keep_unrepaired and repair.original_image_id and not repair.original_deleted:
        try:
            book.guard(record.id)
            ecs.delete_image(repair.original_image_id)
        except PermanentCloudError as err:
            if not err.code.endswith("NotFound"):
                problems.append(Problem(where=f"image {repair.original_image_id}", code=err.code,
                                        rule="the unrepaired original could not be deleted: "
                                             f"{err.message}",
                                        fix=f"delete it by hand: aliyun ecs DeleteImage "
                                            f"--RegionId {record.region} "
                                            f"--ImageId {repair.original_image_id}"))
        if not problems:
            repair = repair.model_copy(update={"original_deleted": True})
    fixes = list(dict.fromkeys([*record.fixes, repair_summary(repair, manifest)]))
    record = book.update(record, repair=repair, fixes=fixes,
                         problems=[*record.problems, *problems])
    if record.state == "repairing":
        moved = book.move(record, "finishing", f"repaired image {repair.repaired_image_id} "
                          f"replaced {repair.original_image_id}")
        if moved is None:
            return Ended("ended")
        record = moved
    following = msg.model_copy(update={"stage": "finish", "image_id": repair.repaired_image_id})
    return FinishNext(record, following)


def repair_summary(repair: RepairRecord, manifest: Manifest) -> str:
    """What the terminal notification says about the repair."""
    kept = (f"kept as {repair.original_renamed_to}" if not repair.original_deleted
            else "deleted")
    minutes = f"about {max(1, round(repair.instance_seconds / 60))} min" \
        if repair.instance_seconds is not None else "for the length of the build"
    check = ("its image check is the one shown" if repair.checked else
             "Image Builder ran no image check on it (it has no switch for one): the check "
             "shown is the original's")
    return (f"repaired by ECS Image Builder ({', '.join(repair.items)}): image "
            f"{repair.repaired_image_id} now carries {manifest.image_name} and replaced "
            f"{repair.original_image_id} ({kept}); build {repair.execution_id} billed a temporary "
            f"pay-as-you-go instance for {minutes}; {check}")


def _end(book: StatusBook, record: StatusRecord, msg: TrackMessage, manifest: Manifest,
         execution: ExecutionView | None, decision: RepairEnded) -> Ended:
    """End the import keeping the original: the build's image removed, then its template."""
    services = book.services
    repair = (record.repair or RepairRecord()).model_copy(update={
        "outcome": decision.outcome, "code": decision.code, "message": decision.message,
        **({"status": execution.status, "instance_seconds": seconds(execution)}
           if execution is not None else {})})
    record = book.update(record, repair=repair)   # what was decided survives the cleanup
    leftover = execution.result_image if execution is not None else None
    if leftover and leftover != repair.original_image_id:
        try:
            book.guard(record.id)
            services.ecs.delete_image(leftover)
        except PermanentCloudError as err:
            if not err.code.endswith("NotFound"):
                raise
    if repair.pipeline_id and (execution is None or execution.status in
                               ("SUCCESS", "PARTITION_SUCCESS", "FAILED", "TEST_FAILED",
                                "CANCELLED")):
        delete_pipeline(services, repair.pipeline_id)
    original = repair.original_image_id or msg.image_id
    advice = [*record.advice, f"the imported image {original} is kept, unrepaired, under "
              f"{manifest.image_name}: use it as it is, repair it by hand (see the advice above), "
              "or upload the manifest again to retry the repair"]
    if repair.instance_seconds is not None:
        advice.append(f"build {repair.execution_id} billed a temporary pay-as-you-go instance "
                      f"for about {max(1, round(repair.instance_seconds / 60))} min")
    problem = Problem(where=f"repair build {repair.execution_id or msg.execution_id}",
                      rule=decision.message, code=decision.code,
                      fix=decision.advice or "nothing to do: the original image is kept")
    book.move(record, decision.outcome, f"repair {decision.outcome}: {decision.code}",
              problems=[*record.problems, problem], advice=list(dict.fromkeys(advice)))
    return Ended(decision.outcome, decision.code)
