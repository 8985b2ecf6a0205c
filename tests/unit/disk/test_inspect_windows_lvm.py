"""End to end: the Windows and LVM fixture disks (make_windows.sh, make_lvm.sh) inspected the way
`imagedrop inspect` does it — container, partition table, LVM expansion, block cache, read
budget, NTFS or ext4, the registry, the facts and findings."""

from __future__ import annotations

import pytest
from guest_helpers import guest_bytes, open_fixture

from imagedrop_disk import BytesSource, inspect
from imagedrop_disk.cluster_map import GUEST_MAX_BYTES, GUEST_MAX_READS

WINDOWS = {
    "win2019.qcow2": ("Windows Server 2019", "x86_64", True, True, "10.0.17763"),
    "win2022.qcow2": ("Windows Server 2022", "x86_64", False, False, "10.0.20348"),
    "win11.qcow2": ("Other Windows", "arm64", False, True, "10.0.22631"),
}


@pytest.mark.parametrize("name", sorted(WINDOWS))
def test_windows_guest_within_the_budget(name):
    result = inspect(BytesSource(guest_bytes(name)))
    guest = result.guest
    assert guest is not None and guest.os_type == "windows" and guest.root_fs == "ntfs"
    platform, arch, virtio, cloudbase, version = WINDOWS[name]
    assert (guest.platform, guest.architecture, guest.virtio, guest.cloud_init, guest.version) \
        == (platform, arch, virtio, cloudbase, version)
    assert result.reads <= GUEST_MAX_READS and result.bytes_read <= GUEST_MAX_BYTES
    items = {f.item for f in result.findings}
    assert ("GUESTOS.Virtio" in items) == (not virtio)
    assert "GUESTOS.CloudInit" not in items  # ECS checks cloud-init on Linux only


def test_lvm_root_is_found_in_a_logical_volume_of_three_segments():
    result = inspect(BytesSource(guest_bytes("lvm.qcow2")))
    guest = result.guest
    assert guest is not None
    assert result.reads <= GUEST_MAX_READS and result.bytes_read <= GUEST_MAX_BYTES
    assert (guest.distro, guest.version, guest.root_fs, guest.fstab_root) == \
        ("rocky", "9.3", "ext4", "lvm")
    assert any("vg-sys/data is not read: it has a striped segment of 2 stripes" in n
               for n in guest.notes)
    assert any("vg-sys/home is not read: a segment lies on PV pv1" in n for n in guest.notes)
    _, opened = open_fixture("lvm.qcow2")
    assert opened.files.read_text("/etc/fstab").startswith("/dev/mapper/vg--sys-root / ext4")
