"""The real guests (tests/fixtures/real_guests, built from Debian's archive): every fact the
inspection reads matches what the built root file system really holds (truth.json), the
findings are those the facts call for, and all of it within the guest read budget."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "real_guests"))

from guests import GUESTS  # noqa: E402

from imagedrop_disk import FileSource, inspect  # noqa: E402
from imagedrop_disk.cluster_map import GUEST_MAX_BYTES, GUEST_MAX_READS  # noqa: E402

pytestmark = pytest.mark.timeout(3600)  # the first test may build the corpus
NAMES = [g.name for g in GUESTS]
PLATFORMS = {"debian": "Debian"}        # os-release ID → ECS Platform, for this corpus
SELINUX_ABSENT = None


def expected_items(truth: dict) -> set[str]:
    """The findings the truth calls for, item by item."""
    items = set()
    if truth["virtio"] is False:
        items.add("GUESTOS.Virtio")
    if truth["nvme"] is False:
        items.add("GUESTOS.Nvme")
    if truth["fstab_devices"] or truth["fstab_root"] == "device":
        items.add("GUESTOS.Fstab")
    if truth["dhcp"] is False or truth["mac_pinned"] is True:
        items.add("GUESTOS.Dhcp")
    if truth["cloud_init"] is False:
        items.add("GUESTOS.CloudInit")
    if truth["grub_root"] == "device":
        items.add("GUESTOS.Grub")
    if truth["growpart"] is False:
        items.add("GUESTOS.OnlineResizeFS")
    if truth["rtc_local"] is True:
        items.add("GUESTOS.RtcTimeMode")
    return items


@pytest.fixture(scope="module")
def inspected(real_guests):
    return {name: inspect(FileSource(guest.image)) for name, guest in real_guests.items()}


@pytest.mark.parametrize("name", NAMES)
def test_every_fact_matches_the_built_guest(name, real_guests, inspected):
    truth, result = real_guests[name].truth, inspected[name]
    assert result.guest is not None, result.details
    facts = result.guest.model_dump()
    wanted = dict(truth["guest"], platform=PLATFORMS[truth["guest"]["distro"]])
    assert wanted.pop("selinux") is SELINUX_ABSENT and facts["selinux"] is None
    got = {key: facts[key] for key in wanted}
    assert got == wanted, [n for n in result.guest.notes]
    assert (result.format, result.boot_mode, result.partition_table) == \
        (truth["format"], truth["disk"]["boot_mode"], truth["disk"]["partition_table"])
    assert result.importable, result.problems


@pytest.mark.parametrize("name", NAMES)
def test_within_the_read_budget(name, inspected):
    result = inspected[name]
    assert result.reads <= GUEST_MAX_READS and result.bytes_read <= GUEST_MAX_BYTES, \
        (result.reads, result.bytes_read)
    assert not any("budget" in note for note in result.guest.notes), result.guest.notes


@pytest.mark.parametrize("name", NAMES)
def test_findings_are_those_the_guest_calls_for(name, real_guests, inspected):
    truth, result = real_guests[name].truth["guest"], inspected[name]
    found = {f.item: f for f in result.findings}
    assert set(found) == expected_items(truth)
    evidence = real_guests[name].truth["evidence"]
    source = result.guest.virtio_source or ""
    if evidence["builtin"] and "virtio_blk" in evidence["builtin"]:
        assert "built into" in source
    elif evidence["initrd_modules"] is None:
        assert "no initramfs" in source
    else:
        assert "initramfs" in source
    if "GUESTOS.Virtio" in found:
        assert found["GUESTOS.Virtio"].fact == source


def test_the_corpus_differs_where_imports_differ(real_guests):
    truths = [g.truth for g in real_guests.values()]
    seen = {key: {repr(t["guest"][key]) for t in truths} for key in (
        "virtio", "cloud_init", "fstab_root", "mac_pinned", "architecture", "root_fs", "version",
        "grub_root", "growpart")}
    assert seen["virtio"] == {"True", "False"} and seen["cloud_init"] == {"True", "False"}
    assert seen["growpart"] == {"True", "False"} and {"'uuid'", "'device'"} <= seen["grub_root"]
    assert {"'uuid'", "'device'", "'lvm'"} <= seen["fstab_root"]
    assert {"'x86_64'", "'arm64'"} <= seen["architecture"]
    assert {"'ext4'", "'xfs'", "'btrfs'"} <= seen["root_fs"]
    assert {"'11'", "'12'", "'13'"} <= seen["version"]
    assert {t["format"] for t in truths} == {"qcow2", "vhd", "vmdk"}
    assert {t["disk"]["boot_mode"] for t in truths} == {"BIOS", "UEFI", "UEFI-Preferred"}
