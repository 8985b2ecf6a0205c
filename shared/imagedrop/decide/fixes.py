"""Image check results → metadata fixes and advice (pure: no I/O, no SDK).

Only three things can be fixed without touching the guest, all with ModifyImageAttribute:
NVMe support (when the check found the driver and the manifest allows it), `UEFI-Preferred` boot
mode (when the disk boots both ways), and `LicenseType=BYOL` (when the manifest asks for it).
Everything else at risk becomes advice: what to change inside the image, and how to have the
OOS public template `ACS-ECS-RepairImage` build a repaired copy. Nothing the manifest did not
allow is ever changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from imagedrop_disk.facts.check_items import item_key as item_name
from imagedrop_disk.facts.check_items import linux_advice, template_repairs, windows_advice

from .ecs_answers import DetectionItem, ImageView

NvmeWanted = Literal["auto", "supported", "unsupported"]
DRIVER_PRESENT = frozenset({"supported", "support", "installed", "true", "yes", "ok", "normal", "pass"})

# Advice per check item and the template's repairItems, keyed by the lower-cased name without
# the `GUESTOS.` prefix (from the catalogue of check items).
LINUX_ADVICE: dict[str, str] = linux_advice()
WINDOWS_ADVICE: dict[str, str] = windows_advice()
REPAIR_ITEMS: dict[str, str] = template_repairs()


@dataclass
class FixPlan:
    attributes: dict[str, str] = field(default_factory=dict)   # ModifyImageAttribute wire params
    fixes: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)


def _label(item: DetectionItem) -> str:
    risk = ", ".join(x for x in (item.risk_level, item.risk_code) if x)
    return f"image check {item.name}" + (f" ({risk})" if risk else "")


def _nvme(item: DetectionItem | None, wanted: NvmeWanted, image: ImageView, plan: FixPlan) -> None:
    if item is None:
        return
    present = not item.at_risk and (item.value or "").strip().lower() in DRIVER_PRESENT
    marked = (image.nvme_support or "").lower() == "supported"
    if present and wanted in ("auto", "supported") and not marked:
        plan.attributes["Features.NvmeSupport"] = "supported"
        plan.fixes.append("Features.NvmeSupport set to supported: the image check found the NVMe "
                          f"driver ({item.name}={item.value}) and the manifest's nvme_support is {wanted}")
    elif present and wanted == "unsupported":
        plan.advice.append(f"{_label(item)}: the NVMe driver is present but nvme_support is "
                           "unsupported in the manifest, so NVMe-only instance types are not offered; "
                           "set nvme_support to auto to allow them")
    elif not present and item.at_risk:
        if marked:
            plan.advice.append(f"{_label(item)}: the image is marked NVMe-supported but the check "
                               "found no NVMe driver, so instances with NVMe disks may not boot; "
                               f"{LINUX_ADVICE['nvme']}")
        elif wanted == "supported":
            plan.advice.append(f"{_label(item)}: the manifest says nvme_support supported but the "
                               "check found no NVMe driver, so Features.NvmeSupport was not set; "
                               f"{LINUX_ADVICE['nvme']}")
        else:
            plan.advice.append(f"{_label(item)}: {LINUX_ADVICE['nvme']}")


# The template's required `baseImageId`: the public image it boots to repair the imported disk.
REPAIR_BASE_IMAGES = {"x86_64": "aliyun_3_x64_20G_alibase_20230727.vhd",
                      "arm64": "aliyun_3_arm64_20G_alibase_20230731.vhd"}


def _repair_line(items: list[str], image: ImageView) -> str:
    base = REPAIR_BASE_IMAGES["arm64" if image.architecture == "arm64" else "x86_64"]
    params = {"regionId": "<region>", "repairImageId": image.image_id or "<image id>",
              "repairItems": items, "baseImageId": base, "zoneId": "<zone>",
              "instanceType": "<instance type>", "vSwitchId": "<vsw-…>",
              "securityGroupId": "<sg-…>"}
    return ("to repair these in the cloud, run the OOS public template ACS-ECS-RepairImage (ECS "
            "console: Images → the image → Repair, or `aliyun oos StartExecution --TemplateName "
            f"ACS-ECS-RepairImage --Parameters '{json.dumps(params, ensure_ascii=False)}'`); it "
            "builds a new repaired image and leaves this one unchanged")


def fixes_for(items: list[DetectionItem], *, nvme_support: NvmeWanted,
              detected_boot_mode: str | None, image: ImageView,
              license_type_wanted: str | None) -> FixPlan:
    """The metadata fixes and advice for an image whose check finished with `items`.

    - `Features.NvmeSupport=supported` only when an item named like nvme has no risk and a value
      meaning present, `nvme_support` is auto or supported, and the image is not already marked.
    - `BootMode=UEFI-Preferred` when the disk was detected to boot both ways (not on arm64).
    - `LicenseType=BYOL` when the manifest asks for BYOL and the image has another.
    - Every other at-risk item → advice; Linux ones also → `repairItems` for ACS-ECS-RepairImage.
    """
    plan = FixPlan()
    windows = (image.os_type or "").lower() == "windows"
    nvme_item = next((i for i in items if item_name(i.name) == "nvme"), None)
    _nvme(nvme_item, nvme_support, image, plan)

    if (detected_boot_mode == "UEFI-Preferred" and image.boot_mode != "UEFI-Preferred"
            and (image.architecture or "").lower() != "arm64"):
        plan.attributes["BootMode"] = "UEFI-Preferred"
        plan.fixes.append(f"BootMode set to UEFI-Preferred (was {image.boot_mode or 'unset'}): the "
                          "disk has both a BIOS boot path and an EFI system partition, so it can "
                          "run on instance types that boot either way")

    if license_type_wanted and license_type_wanted != image.license_type:
        if license_type_wanted == "BYOL":
            plan.attributes["LicenseType"] = "BYOL"
            plan.fixes.append(f"LicenseType set to BYOL (was {image.license_type or 'unset'}), as "
                              "the manifest's license_type asks")
        else:
            plan.advice.append(f"the image's LicenseType is {image.license_type or 'unset'} but the "
                               f"manifest asks for {license_type_wanted}; only BYOL can be set after "
                               "the import, so import again to change it")

    repair: list[str] = []
    for item in items:
        key = item_name(item.name)
        if key == "nvme" or not item.at_risk:
            if key == "nvme" and item.at_risk and not windows:
                repair.append("nvme")
            continue
        if key == "bootmode" and "BootMode" in plan.attributes:
            continue  # the fix above resolves it
        tables = (WINDOWS_ADVICE, LINUX_ADVICE) if windows else (LINUX_ADVICE, WINDOWS_ADVICE)
        text = tables[0].get(key) or tables[1].get(key) or (
            "see the image check report of this image in the ECS console (Images → Check) for "
            "what to change")
        plan.advice.append(f"{_label(item)}: {text}")
        if not windows and key in REPAIR_ITEMS and REPAIR_ITEMS[key] not in repair:
            repair.append(REPAIR_ITEMS[key])
    if repair:
        plan.advice.append(_repair_line(repair, image))
    elif windows and any(i.at_risk for i in items):
        plan.advice.append("the console's Repair (ACS-ECS-RepairImage) is Linux-only: fix these "
                           "inside the Windows VM, export the disk again and import it again")
    return plan
