"""Image check items → ModifyImageAttribute fixes and advice, as tables of cases."""

from __future__ import annotations

import json
import re

import pytest

from imagedrop.decide.fixes import FixPlan, fixes_for, item_name
from imagedrop.decide.ecs_answers import DetectionItem, ImageView

LINUX = ImageView(status="Available", image_id="m-1", boot_mode="BIOS", nvme_support=None,
                  license_type="Auto", os_type="linux", architecture="x86_64")
WINDOWS = ImageView(status="Available", image_id="m-2", boot_mode="BIOS", license_type="Auto",
                    os_type="windows", architecture="x86_64")

NVME_OK = DetectionItem("GUESTOS.Nvme", "Supported")
NVME_MISSING = DetectionItem("GUESTOS.Nvme", "Unsupported", "High", "NVMe.NotInstallded")


def plan(items: list[DetectionItem], *, nvme: str = "auto", boot: str | None = None,
         image: ImageView = LINUX, license: str | None = None) -> FixPlan:
    return fixes_for(items, nvme_support=nvme, detected_boot_mode=boot, image=image,  # type: ignore[arg-type]
                     license_type_wanted=license)


@pytest.mark.parametrize("case, items, nvme, image, expected", [
    ("driver found, auto", [NVME_OK], "auto", LINUX, {"Features.NvmeSupport": "supported"}),
    ("driver found, supported", [NVME_OK], "supported", LINUX, {"Features.NvmeSupport": "supported"}),
    ("driver found, manifest says unsupported", [NVME_OK], "unsupported", LINUX, {}),
    ("driver missing, manifest says supported", [NVME_MISSING], "supported", LINUX, {}),
    ("driver missing, auto", [NVME_MISSING], "auto", LINUX, {}),
    ("no nvme item", [DetectionItem("GUESTOS.Dhcp", "Supported")], "auto", LINUX, {}),
    ("already marked", [NVME_OK], "auto", ImageView("Available", nvme_support="supported"), {}),
    ("short name", [DetectionItem("Nvme", "Supported")], "auto", LINUX, {"Features.NvmeSupport": "supported"}),
    ("lower case", [DetectionItem("nvme", "supported")], "auto", LINUX, {"Features.NvmeSupport": "supported"}),
    ("no risk but unclear value", [DetectionItem("Nvme", "Unknown")], "auto", LINUX, {}),
    ("no risk, no value", [DetectionItem("Nvme", None)], "auto", LINUX, {}),
    ("value says supported but at risk", [DetectionItem("Nvme", "Supported", "Medium")], "auto", LINUX, {}),
])
def test_nvme_table(case: str, items: list[DetectionItem], nvme: str, image: ImageView,
                    expected: dict[str, str]) -> None:
    assert plan(items, nvme=nvme, image=image).attributes == expected, case


def test_manifest_supported_but_driver_missing_is_advice_not_a_change() -> None:
    result = plan([NVME_MISSING], nvme="supported")
    assert "Features.NvmeSupport" not in result.attributes
    assert any("manifest says nvme_support supported" in a and "dracut" in a for a in result.advice)
    assert any('"repairItems": ["nvme"]' in a for a in result.advice)


def test_image_already_marked_but_driver_missing_is_a_warning() -> None:
    marked = ImageView("Available", nvme_support="supported", os_type="linux")
    result = plan([NVME_MISSING], nvme="supported", image=marked)
    assert result.attributes == {}
    assert any("marked NVMe-supported" in a for a in result.advice)


def test_nvme_fix_says_why() -> None:
    result = plan([NVME_OK])
    assert result.fixes == [result.fixes[0]] and "nvme_support is auto" in result.fixes[0]


@pytest.mark.parametrize("case, boot, image, expected", [
    ("both ways, BIOS image", "UEFI-Preferred", LINUX, {"BootMode": "UEFI-Preferred"}),
    ("both ways, already", "UEFI-Preferred", ImageView("Available", boot_mode="UEFI-Preferred"), {}),
    ("UEFI only", "UEFI", LINUX, {}),
    ("BIOS only", "BIOS", LINUX, {}),
    ("unknown", None, LINUX, {}),
    ("arm64 boots UEFI only", "UEFI-Preferred", ImageView("Available", boot_mode="UEFI", architecture="arm64"), {}),
])
def test_boot_mode_table(case: str, boot: str | None, image: ImageView, expected: dict[str, str]) -> None:
    assert plan([], boot=boot, image=image).attributes == expected, case


@pytest.mark.parametrize("case, wanted, image, expected, advised", [
    ("BYOL asked", "BYOL", WINDOWS, {"LicenseType": "BYOL"}, False),
    ("BYOL already", "BYOL", ImageView("Available", license_type="BYOL"), {}, False),
    ("nothing asked", None, WINDOWS, {}, False),
    ("Aliyun asked but image is Auto", "Aliyun", WINDOWS, {}, True),
])
def test_license_table(case: str, wanted: str | None, image: ImageView, expected: dict[str, str],
                       advised: bool) -> None:
    result = plan([], image=image, license=wanted)
    assert result.attributes == expected, case
    assert any("LicenseType" in a for a in result.advice) is advised


def test_all_three_fixes_together() -> None:
    result = plan([NVME_OK], boot="UEFI-Preferred", license="BYOL")
    assert result.attributes == {"Features.NvmeSupport": "supported", "BootMode": "UEFI-Preferred",
                                 "LicenseType": "BYOL"}
    assert len(result.fixes) == 3 and bool(result.attributes)


@pytest.mark.parametrize("name, words, repair", [
    ("GUESTOS.Virtio", "virtio_blk", "virtio"),
    ("GUESTOS.Fstab", "UUID", "fstab"),
    ("GUESTOS.Grub", "grub", "grub"),
    ("GUESTOS.Dhcp", "DHCP", "dhcp"),
    ("GUESTOS.Selinux", "SELINUX=disabled", "selinux"),
    ("GUESTOS.OnlineResizeFS", "growpart", "growpart"),
    ("GUESTOS.CloudInit", "cloud-init", "cloudinit"),
    ("GUESTOS.CloudAssistant", "aliyun-assist", "assist"),
    ("GUESTOS.SecurityCenterAgent", "aegis", "aegis"),
    ("GUESTOS.RtcTimeMode", "UTC", None),
    ("GUESTOS.SystemImage", "system disk", None),
    ("GUESTOS.SupportMocInstanceTypes", "kernel", None),
])
def test_linux_at_risk_items_become_advice(name: str, words: str, repair: str | None) -> None:
    # Given one at-risk Linux item and a healthy one
    items = [DetectionItem(name, "Unsupported", "Medium", "X.Y"), DetectionItem("GUESTOS.Platform", "Ubuntu")]
    # When planned
    result = plan(items)
    # Then no change, advice naming the item and what to do, and the repair template when it helps
    assert result.attributes == {}
    assert any(a.startswith(f"image check {name} (Medium, X.Y): ") and words in a for a in result.advice)
    assert not any("Platform" in a for a in result.advice)
    repair_lines = [a for a in result.advice if "ACS-ECS-RepairImage" in a]
    if repair:
        (line,) = repair_lines
        params = json.loads(re.search(r"--Parameters '(.*?)'", line).group(1))  # type: ignore[union-attr]
        assert params["repairItems"] == [repair] and params["repairImageId"] == "m-1"
    else:
        assert repair_lines == []


def test_repair_items_are_collected_once_each() -> None:
    items = [DetectionItem("GUESTOS.Fstab", None, "High"), DetectionItem("Dhcp", None, "Medium"),
             NVME_MISSING, DetectionItem("fstab", None, "High")]
    (line,) = [a for a in plan(items).advice if "ACS-ECS-RepairImage" in a]
    params = json.loads(re.search(r"--Parameters '(.*?)'", line).group(1))  # type: ignore[union-attr]
    assert params["repairItems"] == ["fstab", "dhcp", "nvme"]


@pytest.mark.parametrize("name, words", [
    ("Virtio", "virtio drivers for Windows"), ("Hotfix", "KB5009624"), ("BCD", "bcdedit"),
    ("BootMgr", "bcdboot"), ("Xen", "Xen PV"), ("Sysprep", "Sysprep"),
])
def test_windows_items_get_windows_advice_and_no_linux_repair(name: str, words: str) -> None:
    result = plan([DetectionItem(name, None, "High")], image=WINDOWS)
    assert any(words in a for a in result.advice)
    assert not any("ACS-ECS-RepairImage" in a and "StartExecution" in a for a in result.advice)
    assert any("Linux-only" in a for a in result.advice)


def test_unknown_at_risk_item_still_gets_advice() -> None:
    result = plan([DetectionItem("GUESTOS.Brandnew", "x", "High", "New.Risk")])
    assert result.advice == ["image check GUESTOS.Brandnew (High, New.Risk): see the image check "
                             "report of this image in the ECS console (Images → Check) for what to change"]


def test_nothing_at_risk_means_nothing_to_say() -> None:
    items = [DetectionItem("GUESTOS.Virtio", "Supported"), DetectionItem("GUESTOS.Fstab", "Normal")]
    assert plan(items) == FixPlan()


@pytest.mark.parametrize("name, short", [("GUESTOS.Nvme", "nvme"), ("Nvme", "nvme"), ("nvme", "nvme"),
                                         ("GUESTOS.OnlineResizeFS", "onlineresizefs"),
                                         (" guestos.Cloud_Init ", "cloudinit")])
def test_item_names_match_leniently(name: str, short: str) -> None:
    assert item_name(name) == short


def test_a_boot_mode_item_resolved_by_the_fix_is_not_also_advice() -> None:
    # Given a disk that boots both ways, imported as BIOS, and a check that flags the boot mode
    item = DetectionItem("GUESTOS.BootMode", "UEFI-Preferred", "Medium", "BootMode.Mismatch")
    image = ImageView(status="Available", boot_mode="BIOS", os_type="linux", architecture="x86_64")
    # When the fixes are planned
    plan = fixes_for([item], nvme_support="auto", detected_boot_mode="UEFI-Preferred", image=image,
                     license_type_wanted=None)
    # Then the boot mode is fixed, and not also reported as something to do by hand
    assert plan.attributes["BootMode"] == "UEFI-Preferred"
    assert not any("BootMode" in line for line in plan.advice)
