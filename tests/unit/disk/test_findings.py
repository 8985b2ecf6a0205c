"""Findings: one per fact that is known and wrong for ECS, named as the image check names it;
none for a fine or unknown fact; text a person can act on, for Linux and Windows facts."""

from __future__ import annotations

import pytest

from guest_memory import TREES, guest
from imagedrop_disk.facts.findings import findings_for
from imagedrop_disk.facts.linux import linux_facts
from imagedrop_disk.facts.model import GuestFacts

FINE_LINUX = GuestFacts(os_type="linux", distro="ubuntu", virtio=True, nvme=True,
                        cloud_init=True, fstab_root="uuid", fstab_devices=[], selinux="disabled",
                        dhcp=True, mac_pinned=False, serial_console=True)


def items(facts: GuestFacts) -> dict[str, object]:
    return {f.item: f for f in findings_for(facts)}


def test_fine_facts_make_no_finding():
    assert findings_for(FINE_LINUX) == []


def test_unknown_facts_make_no_finding():
    assert findings_for(GuestFacts()) == []
    assert findings_for(GuestFacts(os_type="linux")) == []
    assert findings_for(GuestFacts(os_type="windows")) == []


@pytest.mark.parametrize("change, item, risk, words", [
    ({"virtio": False}, "GUESTOS.Virtio", "High", ["virtio_blk", "initramfs"]),
    ({"nvme": False}, "GUESTOS.Nvme", "Medium", ["nvme"]),
    ({"cloud_init": False}, "GUESTOS.CloudInit", "Medium", ["cloud-init"]),
    ({"selinux": "enforcing"}, "GUESTOS.Selinux", "Medium", ["SELINUX=disabled"]),
    ({"dhcp": False}, "GUESTOS.Dhcp", "High", ["static", "DHCP"]),
    ({"mac_pinned": True}, "GUESTOS.Dhcp", "High", ["MAC", "HWADDR"]),
    ({"fstab_devices": ["/dev/sda1 on /", "/dev/xvdb1 on /data"]}, "GUESTOS.Fstab", "High",
     ["/dev/sda1 on /", "/dev/xvdb1 on /data", "UUID="]),
    ({"fstab_root": "device"}, "GUESTOS.Fstab", "High", ["UUID="]),
])
def test_each_wrong_fact_makes_its_finding(change, item, risk, words):
    found = items(FINE_LINUX.model_copy(update=change))
    assert list(found) == [item]
    finding = found[item]
    assert finding.risk == risk
    text = finding.fact + " " + finding.fix
    for word in words:
        assert word in text


@pytest.mark.parametrize("change", [
    {"selinux": "permissive"}, {"selinux": None}, {"dhcp": None}, {"mac_pinned": None},
    {"fstab_devices": None}, {"fstab_root": "lvm"}, {"virtio": None}, {"cloud_init": None},
])
def test_fine_or_unknown_variants_make_none(change):
    assert findings_for(FINE_LINUX.model_copy(update=change)) == []


def test_many_device_entries_are_summarised():
    devices = [f"/dev/sd{chr(97 + i)}1 on /d{i}" for i in range(9)]
    finding = items(FINE_LINUX.model_copy(update={"fstab_devices": devices}))["GUESTOS.Fstab"]
    assert "and 4 more" in finding.fact and "/dev/sde1" in finding.fact
    assert "/dev/sdf1" not in finding.fact


def test_windows_facts_name_windows_fixes():
    facts = GuestFacts(os_type="windows", distro="windows", virtio=False, cloud_init=False,
                       nvme=False)
    found = items(facts)
    assert set(found) == {"GUESTOS.Virtio"}  # ECS checks cloud-init on Linux only
    assert "viostor" in found["GUESTOS.Virtio"].fix and "netkvm" in found["GUESTOS.Virtio"].fix
    assert "initramfs" not in found["GUESTOS.Virtio"].fix


@pytest.mark.parametrize("name", sorted(TREES))
def test_every_tree_findings_follow_its_facts(name):
    files, expected = guest(name)
    found = items(linux_facts(files, "ext4"))
    assert ("GUESTOS.Virtio" in found) == (expected.get("virtio") is False)
    assert ("GUESTOS.CloudInit" in found) == (expected.get("cloud_init") is False)
    assert ("GUESTOS.Selinux" in found) == (expected.get("selinux") == "enforcing")
    assert ("GUESTOS.Dhcp" in found) == (expected.get("dhcp") is False
                                         or expected.get("mac_pinned") is True)
    assert ("GUESTOS.Fstab" in found) == bool(expected.get("fstab_devices")
                                              or expected.get("fstab_root") == "device")
    for finding in found.values():
        assert finding.fact and finding.fix and finding.risk in ("High", "Medium")
