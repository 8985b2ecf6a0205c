"""One catalogue of image-check items (imagedrop_disk.facts.check_items): every consumer — findings,
the check comparison, advice, repair and the emulator's check — reads every item from it, and
the items real guests show (GUESTOS.Grub, OnlineResizeFS, RtcTimeMode) are predicted."""

from __future__ import annotations

import pytest

from guest_memory import MemoryGuestFiles
from imagedrop.decide import fixes, repair_items
from imagedrop.decide.check_compare import NO_RISK, predicted_risk
from imagedrop_disk.facts.check_items import ITEMS, PREDICTED, find
from imagedrop_disk.facts.findings import findings_for
from imagedrop_disk.facts.linux import linux_facts
from imagedrop_disk.facts.model import GuestFacts
from imagedrop_disk.model import Inspection
from imagedrop_emulator.ecs.backend import builder_rules
from imagedrop_emulator.ecs.backend.detection import detection_items
from imagedrop_emulator.ecs.backend.models import FakeDisk, FakeImage

ELF_X86 = b"\x7fELF\x02\x01\x01" + bytes(11) + b"\x3e\x00" + bytes(44)


def _image(guest: GuestFacts) -> FakeImage:
    inspection = Inspection(format="qcow2", virtual_size=1 << 30, file_size=1 << 20,
                            importable=True, os_type="linux", partition_table="gpt",
                            guest=guest, findings=findings_for(guest))
    return FakeImage("m-1", "cn-hangzhou", "web", 0.0,
                     [FakeDisk(1, 20, "QCOW2", inspection=inspection)])


def _at_risk(item_name: str) -> GuestFacts:
    """A Linux guest whose facts put exactly `item_name` at risk (found by the predicates)."""
    values = {"virtio": False, "nvme": False, "fstab_root": "device", "dhcp": False,
              "selinux": "enforcing", "cloud_init": False, "grub_root": "device",
              "growpart": False, "rtc_local": True}
    item = find(item_name)
    assert item is not None
    return GuestFacts(os_type="linux", **{f: values[f] for f in item.facts if f in values})


@pytest.mark.parametrize("item", PREDICTED, ids=[i.name for i in PREDICTED])
def test_every_consumer_reads_every_predicted_item(item) -> None:
    assert item.risk in ("High", "Medium") and item.facts and item.risk_code
    assert all(f in GuestFacts.model_fields for f in item.facts)
    guest = _at_risk(item.name)
    found = {f.item: f for f in findings_for(guest)}
    assert found[item.name].risk == item.risk                            # findings
    assert predicted_risk(item.name, guest, list(found.values())) == item.risk   # comparison
    assert predicted_risk(item.name, guest, []) == NO_RISK
    assert fixes.LINUX_ADVICE[item.key] == item.advice                    # advice
    if item.repair:                                                       # repair
        assert repair_items.LINUX_REPAIRS[item.key] == item.repair
        assert builder_rules.REPAIRS_CHECK_ITEM[item.key] == item.repair
    checked = {i["Name"]: i for i in detection_items(_image(guest))}     # the emulator
    assert checked[item.name] == {"Name": item.name, "Value": item.at_risk,
                                  "RiskLevel": item.risk, "RiskCode": item.risk_code}


def test_every_item_has_advice_and_one_entry() -> None:
    assert len({i.key for i in ITEMS}) == len(ITEMS)
    for item in ITEMS:
        assert item.advice or item.windows_advice or item.windows_repair, item.name
        advice = item.advice and fixes.LINUX_ADVICE[item.key] == item.advice
        windows = item.windows_advice and fixes.WINDOWS_ADVICE[item.key] == item.windows_advice
        assert advice or windows or item.windows_repair == repair_items.WINDOWS_REPAIRS[item.key]
        if item.template_repair:
            assert fixes.REPAIR_ITEMS[item.key] == item.template_repair


def _facts(tree: dict) -> GuestFacts:
    base = {"/etc/os-release": "ID=debian\nVERSION_ID=12\n", "/bin/sh": ELF_X86}
    return linux_facts(MemoryGuestFiles({**base, **tree}), "ext4")


def _grub_cfg(root: str) -> dict:
    return {"/boot/grub/grub.cfg": f"menuentry 'Debian' {{\n  linux /vmlinuz-6.1.0-18-amd64 "
                                   f"root={root} ro quiet\n}}\n"}


def test_grub_booting_root_by_device_name_is_predicted() -> None:
    facts = _facts(_grub_cfg("/dev/sda1"))
    assert facts.grub_root == "device"
    grub, = [f for f in findings_for(facts) if f.item == "GUESTOS.Grub"]
    assert grub.risk == "High" and "root=UUID" in grub.fix
    by_uuid = _facts(_grub_cfg("UUID=1234-abcd"))
    assert by_uuid.grub_root == "uuid"
    assert "GUESTOS.Grub" not in {f.item for f in findings_for(by_uuid)}


def test_growpart_absent_is_predicted_and_present_is_fine() -> None:
    absent = _facts({"/usr/bin/cloud-init": "#!/usr/bin/python3\n"})
    assert absent.growpart is False
    resize, = [f for f in findings_for(absent) if f.item == "GUESTOS.OnlineResizeFS"]
    assert resize.risk == "Medium" and "growpart" in resize.fact
    present = _facts({"/usr/bin/growpart": "#!/bin/sh\n"})
    assert present.growpart is True
    assert predicted_risk("GUESTOS.OnlineResizeFS", present, findings_for(present)) == NO_RISK


@pytest.mark.parametrize("adjtime,local", [("0.0 0 0.0\n0\nLOCAL\n", True),
                                           ("0.0 0 0.0\n0\nUTC\n", False),
                                           ("0.0 0 0.0\n", None), (None, None)])
def test_rtc_time_mode_where_the_guest_tells(adjtime: str | None, local: bool | None) -> None:
    facts = _facts({"/etc/adjtime": adjtime} if adjtime is not None else {})
    assert facts.rtc_local is local
    predicted = predicted_risk("GUESTOS.RtcTimeMode", facts, findings_for(facts))
    assert predicted == {True: "Medium", False: NO_RISK, None: None}[local]
    if local:
        checked = {i["Name"]: i for i in detection_items(_image(facts))}
        assert checked["GUESTOS.RtcTimeMode"]["Value"] == "LOCAL"
