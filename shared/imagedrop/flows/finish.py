"""What happens after the image is imported and checked: fixes, family, copies, sharing, cleanup.

Every step reads what is there before acting, so running the whole thing again is harmless:
ModifyImageAttribute with the same values, CopyImage with a per-region ClientToken, sharing an
image with an account it is already shared with, deleting an object that is gone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .. import logs
from ..decide.check_compare import side_by_side
from ..errors import PermanentCloudError
from ..decide.fixes import fixes_for
from ..state.status_book import StatusBook
from ..manifest import Manifest
from ..state.ownership import named_elsewhere
from ..model.status import Problem, StatusRecord
from ..decide.ecs_answers import ImageView

COPY_DONE = ("Available", "CreateFailed", "UnAvailable")


@dataclass
class FinishOutcome:
    record: StatusRecord
    done: bool                      # False: copies still running, poll again
    problems: list[Problem] = field(default_factory=list)


def copy_token(import_id: str, region: str) -> str:
    return "cp-" + hashlib.sha256(f"{import_id}:{region}".encode()).hexdigest()[:40]


def finish(book: StatusBook, record: StatusRecord, manifest: Manifest, image: ImageView,
           detected_boot_mode: str | None) -> FinishOutcome:
    ecs = book.services.ecs
    assert record.image_id
    plan = fixes_for(image.detection_items, nvme_support=manifest.nvme_support,
                     detected_boot_mode=detected_boot_mode, image=image,
                     license_type_wanted=manifest.license_type)
    attributes = dict(plan.attributes)
    if manifest.image_family and image.family != manifest.image_family:
        attributes["ImageFamily"] = manifest.image_family
    problems: list[Problem] = []
    if attributes:
        try:
            book.guard(record.id)
            ecs.modify_image(record.image_id, attributes)
        except PermanentCloudError as err:
            problems.append(Problem(where="ModifyImageAttribute", code=err.code, rule=err.message,
                                    fix="apply it by hand in the console or with aliyun ecs ModifyImageAttribute"))
    fixes = list(dict.fromkeys(record.fixes + plan.fixes))
    advice = list(dict.fromkeys(record.advice + plan.advice))
    check = (side_by_side(record.guest, record.findings, image.detection_items)
             if image.detection_status == "Finished" else record.check)
    record = book.update(record, fixes=fixes, advice=advice, family=manifest.image_family,
                         check=check)

    copies = {region: dict(info) for region, info in record.copies.items()}
    for region in manifest.copy_to_regions:
        info = copies.setdefault(region, {})
        try:
            if not info.get("image_id"):
                book.guard(record.id)
                info["image_id"] = ecs.copy_image(record.image_id, region, name=manifest.image_name,
                                                  token=copy_token(record.id, region),
                                                  tags=[{"Key": k, "Value": v} for k, v in manifest.tag_pairs] or None)
                logs.step("copy.started", id=record.id, region=region, image_id=info["image_id"])
            if info.get("status") not in COPY_DONE:
                view = ecs.describe_image(info["image_id"], region)
                info["status"] = view.status if view else "Unknown"
                info["progress"] = f"{view.progress}%" if view and view.progress is not None else ""
        except PermanentCloudError as err:
            info["status"] = "CreateFailed"
            info["error"] = f"{err.code}: {err.message}"
    record = book.update(record, copies=copies)
    if any(info.get("status") not in COPY_DONE for info in copies.values()):
        return FinishOutcome(record, done=False)
    for region, info in copies.items():
        if info.get("status") != "Available":
            problems.append(Problem(where=f"copy_to_regions: {region}", code=info.get("error", "").split(":")[0] or None,
                                    rule=f"the copy ended {info.get('status')}: {info.get('error', '')}".rstrip(": "),
                                    fix=f"copy it again with aliyun ecs CopyImage --ImageId {record.image_id} "
                                        f"--DestinationRegionId {region}"))

    if manifest.share_with_accounts:
        targets = [(None, record.image_id)] + [(r, i["image_id"]) for r, i in copies.items()
                                                if i.get("status") == "Available"]
        for region, image_id in targets:
            try:
                book.guard(record.id)
                ecs.share_image(image_id, manifest.share_with_accounts, region)
            except PermanentCloudError as err:
                problems.append(Problem(where="share_with_accounts", code=err.code, rule=err.message,
                                        fix="check the account ids; sharing needs an unencrypted image"))
        record = book.update(record, shared_with=list(manifest.share_with_accounts))

    if manifest.delete_source_on_success and not problems:
        sources = [d.key for d in record.disks] + [record.manifest]
        kept = named_elsewhere(book.store, book.prefix, record.manifest, sources)
        for key in sources:
            if key not in kept:
                book.guard(record.id)
                book.store.delete(key)
        if kept:
            record.advice.append(f"kept {', '.join(kept)}: another manifest names "
                                 f"{'them' if len(kept) > 1 else 'it'}, so it is not this "
                                 "import's to delete")
        record = book.update(record, source_deleted=True)
    elif manifest.delete_source_on_success:
        record.advice.append("source objects kept: a finishing step had a problem")
    return FinishOutcome(record, done=True, problems=problems)
