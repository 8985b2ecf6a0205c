"""select_repair: (ECS check items, guest findings, manifest repair, os type) → RepairItem list.
Pure: a table of cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from imagedrop.decide.repair_items import select_repair
from imagedrop.decide.ecs_answers import DetectionItem

FSTAB = DetectionItem("GUESTOS.Fstab", "Abnormal", "High", "Fstab.Device")
CLOUDINIT = DetectionItem("GUESTOS.CloudInit", "NotInstalled", "Medium", "CloudInit.NotInstalled")
VIRTIO_OK = DetectionItem("GUESTOS.Virtio", "Supported")
RESIZE = DetectionItem("GUESTOS.OnlineResizeFS", "NotSupported", "Low")
PLATFORM = DetectionItem("GUESTOS.Platform", "Ubuntu")
SYSTEM = DetectionItem("GUESTOS.SystemImage", "NotSystemImage", "High")
BCD = DetectionItem("GUESTOS.BCD", "Abnormal", "High")
RTC = DetectionItem("GUESTOS.RtcTimeMode", "Local", "Low")


@dataclass(frozen=True)
class Finding:             # the shape guest inspection reports
    item: str
    risk: str
    fact: str = ""
    fix: str = ""


VIRTIO_FINDING = Finding("GUESTOS.Virtio", "High", "no virtio_blk for kernel 5.14")
SELINUX_FINDING = Finding("GUESTOS.Selinux", "Medium", "SELINUX=enforcing")


@pytest.mark.parametrize("check, findings, setting, os_type, items", [
    # off, or not set: nothing, whatever is at risk
    ([FSTAB, CLOUDINIT], [VIRTIO_FINDING], "off", "linux", []),
    ([FSTAB, CLOUDINIT], [], None, "linux", []),
    # auto: the check's risks that have a repair, in the API's order
    ([CLOUDINIT, FSTAB, VIRTIO_OK, PLATFORM], [], "auto", "linux", ["fstab", "cloudinit"]),
    ([RESIZE, RTC], [], "auto", "linux", ["growpart", "standardizedtimezone"]),
    ([VIRTIO_OK, PLATFORM], [], "auto", "linux", []),
    # auto: a finding fills in only where the check has no such item
    ([FSTAB, VIRTIO_OK], [VIRTIO_FINDING, SELINUX_FINDING], "auto", "linux", ["fstab", "selinux"]),
    ([], [VIRTIO_FINDING], "auto", "linux", ["virtio"]),
    ([], [Finding("GUESTOS.Virtio", "")], "auto", "linux", []),
    # a list: exactly those, whatever the check says
    ([VIRTIO_OK], [], ["virtio", "grub"], "linux", ["virtio", "grub"]),
    ([FSTAB], [], ["grub"], "linux", ["grub"]),
    # windows: its own table
    ([BCD, CLOUDINIT], [], "auto", "windows", ["bcd"]),
    ([RTC], [], "auto", "windows", ["standardizedtimezone"]),
    # dict-shaped check items (wire names) work too
    ([{"Name": "GUESTOS.Grub", "RiskLevel": "High"}], [], "auto", "linux", ["grub"]),
], ids=repr)
def test_selection(check: list[Any], findings: list[Any], setting: Any, os_type: str,
                   items: list[str]) -> None:
    assert select_repair(check, findings, setting, os_type).items == items


def test_reasons_and_risks_no_item_repairs() -> None:
    chosen = select_repair([FSTAB, SYSTEM], [VIRTIO_FINDING], "auto", "linux")
    assert chosen.items == ["fstab", "virtio"]
    assert chosen.reasons["fstab"] == "the image check found GUESTOS.Fstab at risk (High)"
    assert "no virtio_blk" in chosen.reasons["virtio"]
    assert chosen.unrepairable == ["GUESTOS.SystemImage"] and chosen.wanted
