"""The XFS and Btrfs readers behind the guest-file layer: the block cache, the volumes, the
mount logic and the symlink-following paths, as the inspection drives them, with its reads
counted."""

from __future__ import annotations

import pytest

from fs_fixtures import volume
from imagedrop_disk.fs import btrfs, mount, xfs
from imagedrop_disk.fs.cache import BLOCK, BlockCache
from imagedrop_disk.fs.volumes import SliceVolume

EXPECTED = {"xfs-v5": ("xfs", "rocky"), "xfs-v4": ("xfs", "centos"),
            "btrfs": ("btrfs", "fedora")}


def test_the_readers_are_registered():
    assert xfs.open_fs in mount.OPENERS and btrfs.open_system in mount.OPENERS


def _mounted(name: str):
    vol = volume(name)
    cache = BlockCache(vol.read, vol.size)
    mounted = mount.mount_guest([SliceVolume(cache.read, 0, vol.size, "the whole disk")])
    return mounted, cache


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_facts_read_through_symlinks_in_a_few_cached_reads(name):
    mounted, cache = _mounted(name)
    kind, distro = EXPECTED[name]
    files = mounted.files
    assert mounted.root.fs.kind == kind and mounted.os_type == "linux"
    assert f"ID={distro}" in files.read_text("/etc/os-release")       # ../usr/lib/os-release
    assert files.read_bytes("/bin/sh", 0, 4) == b"\x7fELF"             # bin -> usr/bin
    assert files.read_text("/etc/fstab").startswith("UUID=")
    assert files.kind("/etc/selinux/config") is None
    assert "os-release" in files.listdir("/etc")
    assert files.kind("/bin") == "dir"
    # the whole sequence, mount included: a handful of 64 KiB reads
    assert cache.misses <= 12 and cache.misses * BLOCK <= 1024 * 1024, cache.misses


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_symlink_loops_end_with_a_note(name):
    mounted, _cache = _mounted(name)
    files = mounted.files
    assert files.read_text("/loop-a") is None
    assert any("symlink loop" in note for note in files.notes)
    if name.startswith("xfs"):
        assert files.kind("/dirs/up/dirs/up/dirs/up/etc") == "dir"


def test_a_corrupt_file_system_is_a_note_not_a_crash():
    vol = volume("xfs-v5")
    fs = xfs.open_fs(vol)
    etc = fs.lookup(fs.root(), "etc")
    damaged = vol.patched(fs.inode_offset(etc.ref), b"XX")
    cache = BlockCache(damaged.read, damaged.size)
    mounted = mount.mount_guest([SliceVolume(cache.read, 0, damaged.size, "the whole disk")])
    files = mounted.files
    assert files.read_text("/etc/fstab") is None
    assert any("no inode magic" in note for note in files.notes)


class _MbrDisk:
    """A raw disk: an MBR whose one Linux partition (type 0x83) at 1 MiB holds a fixture."""

    START = 1024 * 1024

    def __init__(self, name: str):
        self.fs_volume = volume(name)
        sectors = self.fs_volume.size // 512
        entry = bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + (self.START // 512).to_bytes(4, "little") \
            + sectors.to_bytes(4, "little")
        self.mbr = bytes(446) + entry + bytes(48) + b"\x55\xaa"
        self.size = self.START + self.fs_volume.size

    def read(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        head = (self.mbr + bytes(self.START - 512))[offset:min(end, self.START)] \
            if offset < self.START else b""
        tail_from = max(offset, self.START)
        tail = self.fs_volume.read(tail_from - self.START, end - tail_from) if end > tail_from \
            else b""
        return head + tail


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_inspection_reads_the_guest_in_a_few_ranged_reads(name):
    from imagedrop_disk.inspect import inspect_with_guest

    def use(guest):
        files = guest.files
        return (guest.root_fs, guest.os_type, files.read_text("/etc/os-release"),
                files.read_bytes("/bin/sh", 0, 4))

    inspection, (root_fs, os_type, release, elf) = inspect_with_guest(_MbrDisk(name), use)
    kind, distro = EXPECTED[name]
    assert (inspection.partition_table, root_fs, os_type) == ("mbr", kind, "linux")
    assert f"ID={distro}" in release and elf == b"\x7fELF"
    # container and guest together, well inside the inspection's targets (40 reads, 4 MiB)
    assert inspection.reads <= 20 and inspection.bytes_read <= 1024 * 1024
