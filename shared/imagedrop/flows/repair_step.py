"""The poller's repair steps: start an Image Builder build on the imported image, follow it on
the no-wait message schedule, then either put the repaired image in the original's place or end
the import keeping the original.

Every step is safe to run twice and under lost answers: CreateImagePipeline and
StartImagePipelineExecution carry ClientTokens derived from the import id; names are read before
they are changed; what a step learned is saved in the record before anything is deleted, so a
retry after a crash goes on from there instead of asking ECS about a template that is gone.
The swap renames the original out of the way first, then the repaired image in: a crash in
between leaves both images with their own names, and the retry completes the swap.
"""

from __future__ import annotations

import calendar
import time
from typing import Callable

from .. import logs
from ..errors import PermanentCloudError
from ..model.events import TrackMessage
from ..state.status_book import StatusBook
from ..manifest import Manifest
from ..decide.fixes import fixes_for
from ..decide.repair_items import LINUX_REPAIRS, WINDOWS_REPAIRS, RepairSelection, item_key, select_repair
from ..decide.repair_track import (ExecutionView, RepairEnded, Repaired, RepairWait, decide_repair,
                           execution_token, name_prefix, pipeline_token, unrepaired_name)
from ..services import Services
from ..model.status import Problem, RepairRecord, StatusRecord
from ..decide.ecs_answers import ImageView

FinishStage = Callable[[StatusBook, StatusRecord, TrackMessage], object]


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
    ecs = services.ecs
    pipeline_id = ecs.create_image_pipeline(
        msg.image_id, items=record.repair.items, name_prefix=name_prefix(manifest.image_name),
        token=pipeline_token(record.id), description=manifest.description,
        tags=manifest.tag_pairs, instance_type=settings.repair_instance_type,
        vswitch_id=settings.repair_vswitch_id)
    try:
        execution_id = ecs.start_image_pipeline_execution(pipeline_id,
                                                          token=execution_token(record.id))
    except PermanentCloudError:
        _delete_pipeline(services, pipeline_id)   # leave no template behind a refused start
        raise
    now = services.clock()
    record = book.update(record, repair=record.repair.model_copy(update={
        "pipeline_id": pipeline_id, "execution_id": execution_id, "status": "PREPARING"}))
    first = msg.model_copy(update={
        "stage": "repair", "attempt": msg.attempt + 1, "pipeline_id": pipeline_id,
        "execution_id": execution_id, "repair_started_at": msg.repair_started_at or now,
        "seen_at": None, "seen_progress": None})
    services.mns.send(settings.queue, first.to_body(), settings.poll_first_seconds)
    logs.step("repair.started", id=record.id, pipeline=pipeline_id, execution=execution_id,
              items=record.repair.items)
    return record


def poll(book: StatusBook, record: StatusRecord, msg: TrackMessage, manifest: Manifest,
         finish_stage: FinishStage) -> object:
    """One delivered repair message: (outcome, detail), or what the finishing stage answered."""
    services, settings = book.services, book.services.settings
    repair = record.repair or RepairRecord(original_image_id=msg.image_id)
    if repair.repaired_image_id:                 # a retry after the swap: go on from there
        return _after_swap(book, record, msg, manifest, finish_stage)
    if repair.outcome:                           # a retry after the end was decided
        gone = services.ecs.describe_image_pipeline_execution(
            repair.pipeline_id or msg.pipeline_id or "",
            repair.execution_id or msg.execution_id or "")
        return _end(book, record, msg, manifest, gone, RepairEnded(
            repair.outcome, repair.code or "RepairFailed", repair.message or "",
                                                                   ""))  # type: ignore[arg-type]
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
        return "repairing", decision.note
    if isinstance(decision, Repaired):
        assert execution is not None
        record = _swap(book, record, repair, manifest, execution, decision.image_id)
        return _after_swap(book, record, msg, manifest, finish_stage)
    return _end(book, record, msg, manifest, execution, decision)


def _seconds(execution: ExecutionView) -> int | None:
    try:
        parse = [calendar.timegm(time.strptime(t or "", "%Y-%m-%dT%H:%M:%SZ"))
                 for t in (execution.created, execution.modified)]
    except ValueError:
        return None
    return max(0, parse[1] - parse[0])


def _swap(book: StatusBook, record: StatusRecord, repair: RepairRecord, manifest: Manifest,
          execution: ExecutionView, repaired_id: str) -> StatusRecord:
    """The original out of the way, the repaired image in; saved before anything is deleted."""
    ecs = book.services.ecs
    name = manifest.image_name
    original_id = repair.original_image_id or record.image_id or ""
    away = unrepaired_name(name, record.id)
    original = ecs.describe_image_raw(original_id)
    if original is not None and original.get("ImageName") == name:
        ecs.modify_image(original_id, {"ImageName": away})
    repaired = ecs.describe_image_raw(repaired_id)
    if repaired is not None and repaired.get("ImageName") != name:
        ecs.modify_image(repaired_id, {"ImageName": name})
    checked = bool(repaired and (repaired.get("DetectionOptions") or {}).get("Status"))
    advice = record.advice
    if not checked and original is not None:
        advice = list(dict.fromkeys([*advice, *_unrepaired_advice(original, repaired_id, repair,
                                                                  manifest)]))
    return book.update(record, image_id=repaired_id, advice=advice,
                       repair=repair.model_copy(update={
        "status": execution.status, "repaired_image_id": repaired_id,
        "original_renamed_to": away, "instance_seconds": _seconds(execution), "checked": checked}))


def _unrepaired_advice(original: dict, repaired_id: str, repair: RepairRecord,
                       # type: ignore[type-arg]
                       manifest: Manifest) -> list[str]:
    """Without a check of the repaired image, the original's risks the repair did not cover still
    stand: their advice, pointed at the repaired image."""
    view = ImageView.from_wire(original)
    table = WINDOWS_REPAIRS if (view.os_type or manifest.os_type) == "windows" else LINUX_REPAIRS
    left = [i for i in view.detection_items if table.get(item_key(i.name)) not in repair.items]
    target = ImageView.from_wire({**original, "ImageId": repaired_id})
    return fixes_for(left, nvme_support="unsupported", detected_boot_mode=None, image=target,
                     license_type_wanted=None).advice


def _after_swap(book: StatusBook, record: StatusRecord, msg: TrackMessage, manifest: Manifest,
                finish_stage: FinishStage) -> object:
    repair = record.repair
    assert repair is not None and repair.repaired_image_id
    ecs = book.services.ecs
    if repair.pipeline_id:
        _delete_pipeline(book.services, repair.pipeline_id)
    problems: list[Problem] = []
    if not manifest.keep_unrepaired and repair.original_image_id and not repair.original_deleted:
        try:
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
            return "ended", ""
        record = moved
    following = msg.model_copy(update={"stage": "finish", "image_id": repair.repaired_image_id})
    return finish_stage(book, record, following)


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
         execution: ExecutionView | None, decision: RepairEnded) -> tuple[str, str]:
    """End the import keeping the original: the build's image removed, then its template."""
    services = book.services
    repair = (record.repair or RepairRecord()).model_copy(update={
        "outcome": decision.outcome, "code": decision.code, "message": decision.message,
        **({"status": execution.status, "instance_seconds": _seconds(execution)}
           if execution is not None else {})})
    record = book.update(record, repair=repair)   # what was decided survives the cleanup
    leftover = execution.result_image if execution is not None else None
    if leftover and leftover != repair.original_image_id:
        try:
            services.ecs.delete_image(leftover)
        except PermanentCloudError as err:
            if not err.code.endswith("NotFound"):
                raise
    if repair.pipeline_id and (execution is None or execution.status in
                               ("SUCCESS", "PARTITION_SUCCESS", "FAILED", "TEST_FAILED",
                                "CANCELLED")):
        _delete_pipeline(services, repair.pipeline_id)
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
    return decision.outcome, decision.code


def _delete_pipeline(services: Services, pipeline_id: str) -> None:
    try:
        services.ecs.delete_image_pipeline(pipeline_id)
    except PermanentCloudError as err:
        if not err.code.endswith("NotFound"):
            raise
