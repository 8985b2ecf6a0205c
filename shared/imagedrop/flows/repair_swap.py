"""The repair's name swap: the repaired image takes the manifest's name, the original moves out of
the way.

Every image of the repair is named in the record, by the name it carries, before its name
changes; a rename ECS refuses (the name taken meanwhile, by an image that is not the import's)
puts back what was renamed, so the original is under the manifest's name again when ECS lets it,
and the failure says which image holds which name.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass

from ..decide.ecs_answers import ImageView
from ..decide.fixes import fixes_for
from ..decide.repair_items import LINUX_REPAIRS, WINDOWS_REPAIRS, item_key
from ..decide.repair_track import ExecutionView, unrepaired_name
from ..errors import PermanentCloudError
from ..manifest import Manifest
from ..model.status import Problem, RepairRecord, StatusRecord
from ..services import Services
from ..state.status_book import StatusBook


@dataclass(frozen=True)
class SwapFailed:
    """ECS refused a rename: the record as left, the repair as it ended, and why."""

    record: StatusRecord
    repair: RepairRecord
    problem: Problem
    code: str


def seconds(execution: ExecutionView) -> int | None:
    try:
        parse = [calendar.timegm(time.strptime(t or "", "%Y-%m-%dT%H:%M:%SZ"))
                 for t in (execution.created, execution.modified)]
    except ValueError:
        return None
    return max(0, parse[1] - parse[0])


def swap(book: StatusBook, record: StatusRecord, repair: RepairRecord, manifest: Manifest,
          execution: ExecutionView | None, repaired_id: str) -> StatusRecord | SwapFailed:
    """The original out of the way, the repaired image in; each image named in the record before
    its name changes, and everything saved before anything is deleted."""
    ecs = book.services.ecs
    name = manifest.image_name
    original_id = repair.original_image_id or record.image_id or ""
    away = unrepaired_name(name, record.id)
    original = ecs.describe_image_raw(original_id)
    repaired = ecs.describe_image_raw(repaired_id)
    names = {**repair.names, **{i: str(raw.get("ImageName") or "") for i, raw in
                                ((original_id, original), (repaired_id, repaired)) if raw}}
    repair = repair.model_copy(update={
        "repaired_image_id": repaired_id, "names": names,
        **({"status": execution.status, "instance_seconds": seconds(execution)}
           if execution is not None else {})})
    record = book.update(record, repair=repair)   # the repaired image is named before any rename
    renames = [(original_id, name, away)] if original is not None else []
    renames.append((repaired_id, names.get(repaired_id, ""), name))
    done: list[tuple[str, str]] = []
    for image_id, before, after in renames:
        if names.get(image_id) != before or before == after:
            continue
        record, repair = _named(book, record, repair, image_id, after)
        try:
            book.guard(record.id)
            ecs.modify_image(image_id, {"ImageName": after})
        except PermanentCloudError as err:
            record, repair = _named(book, record, repair, image_id, before)
            return _swap_failed(book, record, repair, manifest, err, done, (image_id, after))
        done.append((image_id, before, after))
    checked = bool(repaired and (repaired.get("DetectionOptions") or {}).get("Status"))
    advice = record.advice
    if not checked and original is not None:
        advice = list(dict.fromkeys([*advice, *_unrepaired_advice(original, repaired_id, repair,
                                                                  manifest)]))
    return book.update(record, image_id=repaired_id, advice=advice, repair=repair.model_copy(
        update={"original_renamed_to": repair.names.get(original_id, away), "checked": checked,
                "swapped": True}))


def _named(book: StatusBook, record: StatusRecord, repair: RepairRecord, image_id: str,
           name: str) -> tuple[StatusRecord, RepairRecord]:
    repair = repair.model_copy(update={"names": {**repair.names, image_id: name}})
    return book.update(record, repair=repair), repair


def _swap_failed(book: StatusBook, record: StatusRecord, repair: RepairRecord, manifest: Manifest,
                 err: PermanentCloudError, done: list[tuple[str, str, str]],
                 refused: tuple[str, str]) -> SwapFailed:
    """ECS refused a rename: put back what was renamed (the original under the manifest's name),
    then end the import saying which of its images holds which name."""
    ecs = book.services.ecs
    for image_id, before, after in reversed(done):
        record, repair = _named(book, record, repair, image_id, before)
        try:
            ecs.modify_image(image_id, {"ImageName": before})
        except PermanentCloudError:   # taken meanwhile: it keeps the name it was given
            record, repair = _named(book, record, repair, image_id, after)
    if repair.pipeline_id:
        delete_pipeline(book.services, repair.pipeline_id)
    original, repaired = repair.original_image_id or "", repair.repaired_image_id or ""
    held = "; ".join(f"image {i} is named {repair.names.get(i) or '(unnamed)'}"
                     for i in (original, repaired))
    rule = (f"image {refused[0]} could not be renamed {refused[1]} ({err.message}), so the "
            f"repaired image does not carry {manifest.image_name}; this import's images now: "
            f"{held}")
    fix = (f"the repaired image {repaired} is kept: rename it (aliyun ecs ModifyImageAttribute "
           f"--RegionId {record.region} --ImageId {repaired} --ImageName <name>) or delete it "
           f"(aliyun ecs DeleteImage --RegionId {record.region} --ImageId {repaired})")
    if repair.names.get(original) != manifest.image_name:
        fix += (f"; {manifest.image_name} is held by an image that is not this import's, and "
                f"the original {original} is under {repair.names.get(original)}")
    problem = Problem(where=f"repair of {record.manifest}", code=err.code, rule=rule, fix=fix)
    repair = repair.model_copy(update={"outcome": "failed", "code": err.code,
                                       "message": err.message})
    return SwapFailed(record, repair, problem, err.code)


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


def delete_pipeline(services: Services, pipeline_id: str) -> None:
    try:
        services.ecs.delete_image_pipeline(pipeline_id)
    except PermanentCloudError as err:
        if not err.code.endswith("NotFound"):
            raise
