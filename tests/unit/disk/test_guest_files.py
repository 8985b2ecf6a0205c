"""The guest's files through container, partitions, cache and budget: the root found, /boot
mounted, symlinks followed, and hostile file systems read as None with a note."""

from __future__ import annotations

import pytest

from imagedrop_disk.errors import BudgetExceeded
from imagedrop_disk import BytesSource, CountingSource
from imagedrop_disk.fs import mount
from imagedrop_disk.fs.cache import BlockCache
from imagedrop_disk.fs.mount import Opened, open_volumes
from imagedrop_disk.fs.paths import MountedFiles
from imagedrop_disk.fs.volumes import SliceVolume, volumes_of
from imagedrop_disk.cluster_map import GUEST_MAX_BYTES, GUEST_MAX_READS, BudgetedSource
from imagedrop_disk.inspect import inspect_with_guest
from imagedrop_disk.partitions import read_layout
from imagedrop_disk.qcow2 import Qcow2Guest, parse_header

from guest_helpers import GUESTS, guest_bytes, open_fixture

FIXTURES = sorted(p.name[:-3] for p in GUESTS.glob("*.gz"))


def test_root_is_found_and_symlinks_are_followed():
    inspection, g = open_fixture("ubuntu-gpt-ext4.qcow2")
    assert (g.root_fs, g.os_type) == ("ext4", "linux")
    assert inspection.partition_table == "gpt"
    f = g.files
    assert "ID=ubuntu" in f.read_text("/etc/os-release")  # ../usr/lib/os-release
    assert f.read_bytes("/bin/sh", 0, 4) == b"\x7fELF"     # /bin -> usr/bin
    assert f.read_bytes("/bin/sh", 18, 2) == (62).to_bytes(2, "little")
    assert f.listdir("/lib/modules") == ["5.15.0-91-generic"]  # /lib -> usr/lib
    assert f.kind("/lib/modules/5.15.0-91-generic/kernel/drivers/block/virtio_blk.ko.xz") == "file"
    assert (f.kind("/bin"), f.lkind("/bin"), f.readlink("/bin")) == ("dir", "symlink", "usr/bin")
    assert "ID=ubuntu" in f.read_text("/etc/self/self/self/os-release")
    assert "ID=ubuntu" in f.read_text("/etc/abs-link")      # /usr/lib/../lib/os-release
    assert "ID=ubuntu" in f.read_text("/etc/up-link")       # `..` above / stays at /
    assert f.read_text("/etc/../etc/./hostname") == "testhost\n"
    assert f.kind("/nonexistent") is None and f.read_text("/etc/nonexistent") is None
    assert f.listdir("/etc/hostname") is None and f.read_text("/etc") is None


def test_a_symlink_loop_is_none_with_a_note():
    _, g = open_fixture("ubuntu-gpt-ext4.qcow2")
    assert g.files.read_text("/etc/loop-a") is None
    assert g.files.kind("/etc/loop-b/x") is None
    assert any("/etc/loop-a" in n and "symlink loop" in n for n in g.notes)


def test_case_insensitive_lookup_when_the_file_system_says_so():
    _, g = open_fixture("ubuntu-gpt-ext4.qcow2")
    fs = g.files.root_fs
    assert g.files.read_text("/ETC/Hostname") is None
    fs.case_sensitive = False
    assert MountedFiles(fs).read_text("/ETC/Hostname") == "testhost\n"


@pytest.mark.parametrize("name, how", [
    ("el8-arm64-mbr-boot.qcow2", "ext2"),          # fstab UUID=
    ("debian-gpt-boot-label.qcow2", "ext4"),       # fstab LABEL=
    ("debian-gpt-boot-nofstab.qcow2", "ext4"),     # no fstab line: a kernel at its top
])
def test_boot_is_mounted_from_its_own_partition(name, how):
    _, g = open_fixture(name)
    assert g.mounts == {"/boot": "partition 1"}
    assert g.files.mounts[("boot",)].kind == how
    names = g.files.listdir("/boot")
    assert any(n.startswith("vmlinuz-") for n in names)
    assert g.files.kind("/boot/../etc/fstab") == "file"  # `..` leaves the mount
    fstab_says = "nofstab" not in name
    assert any("fstab does not say" in n for n in g.notes) != fstab_says


def test_arm64_ext3_root_and_ext2_boot_content():
    _, g = open_fixture("el8-arm64-mbr-boot.qcow2")
    assert (g.root_fs, g.os_type) == ("ext3", "linux")
    assert g.files.read_bytes("/bin/sh", 18, 2) == (183).to_bytes(2, "little")
    entries = g.files.listdir("/boot/loader/entries")
    assert entries == ["0123-4.18.0-513.5.1.el8_9.aarch64.conf"]
    assert "console=ttyS0" in g.files.read_text(f"/boot/loader/entries/{entries[0]}")


def test_a_disk_without_partition_table_is_one_volume():
    inspection, g = open_fixture("fedora-bare-inline.qcow2")
    assert inspection.partition_table == "none" and g.root_fs == "ext4"
    assert "ID=fedora" in g.files.read_text("/etc/os-release")


@pytest.mark.parametrize("name, path, why", [
    ("hostile-badmagic.qcow2", "/etc/os-release", "extent header magic"),
    ("hostile-pastend.qcow2", "/etc/os-release", "ends past the file system"),
    ("hostile-baddepth.qcow2", "/usr/lib/os-release", "extent tree"),
    ("hostile-dirloop.qcow2", "/var/tmp/fragmented", "outside the file system"),
    ("hostile-truncated.raw", "/var/tmp/fragmented", "truncated"),
    ("hostile-truncated-qcow2.qcow2", "/var/tmp/anything", "truncated"),
])
def test_hostile_structures_read_as_none_with_a_note(name, path, why):
    _, g = open_fixture(name)
    assert g.files is not None
    assert g.files.read_bytes(path, 0, 1 << 20) is None
    assert any(n.startswith(path) and why in n for n in g.notes), g.notes


def test_a_billion_entry_directory_claim_is_refused_with_a_note():
    _, g = open_fixture("hostile-bigdir.qcow2")
    assert g.files is None and g.root_fs is None
    assert any("claims 4398046511104 bytes" in n for n in g.notes)
    assert any("root file system was not found" in n for n in g.notes)


def _crawl(g, limit: int = 400) -> int:
    """Every directory and the head of every file, breadth first, as a facts reader might."""
    seen, queue = 0, ["/"]
    while queue and seen < limit:
        path = queue.pop(0)
        seen += 1
        for name in g.files.listdir(path, limit=64) or []:
            child = path.rstrip("/") + "/" + name
            kind = g.files.kind(child)
            if kind == "dir" and g.files.lkind(child) == "dir":
                queue.append(child)
            elif kind == "file":
                g.files.read_bytes(child, 0, 4096)
    return seen


@pytest.mark.parametrize("name", FIXTURES)
def test_crawling_any_fixture_stays_within_the_budget(name):
    inspection, g = inspect_with_guest(BytesSource(guest_bytes(name)),
                                       lambda g: (g, _crawl(g) if g.files else 0))
    assert inspection.reads <= GUEST_MAX_READS
    assert inspection.bytes_read <= GUEST_MAX_BYTES
    assert g[0].root_fs is not None or g[0].notes


def test_the_budget_stops_the_guest_phase_and_says_so():
    counting = CountingSource(BytesSource(bytes(range(256)) * 4096))
    budget = BudgetedSource(counting)
    budget.enter_guest_phase(max_reads=3, max_bytes=64 * 1024)
    budget.read(0, 10)
    budget.read(4096, 10)
    budget.read(0, 5)  # cached: free
    budget.read(8192, 10)
    with pytest.raises(BudgetExceeded, match="3 reads"):
        budget.read(16384, 10)
    assert counting.reads == 3


def test_container_tables_are_read_in_windows_in_the_guest_phase():
    counting = CountingSource(BytesSource(bytes(512 * 1024)))
    budget = BudgetedSource(counting)
    budget.read_table(70000, 8, "t")
    budget.read_table(70016, 8, "t")
    assert counting.reads == 2                 # container phase: exact reads
    budget.enter_guest_phase()
    budget.read_table(200000, 8, "t")
    budget.read_table(200800, 8, "t")
    assert counting.reads == 3 and counting.bytes_read == 16 + 64 * 1024


def test_block_cache_reads_aligned_blocks_and_forgets_the_oldest():
    data = bytes(i % 251 for i in range(1 << 20))
    calls: list[tuple[int, int]] = []

    def fetch(offset: int, length: int) -> bytes:
        calls.append((offset, length))
        return data[offset:offset + length]

    cache = BlockCache(fetch, len(data) - 100, block=4096, max_blocks=2)
    assert cache.read(5000, 10) == data[5000:5010]
    assert cache.read(4096, 4096) == data[4096:8192]
    assert calls == [(4096, 4096)]
    assert cache.read(8000, 200) == data[8000:8200]   # spans two blocks
    assert calls[-1] == (8192, 4096)
    cache.read(0, 1)                                   # evicts block 1 (4096)
    cache.read(4096, 1)
    assert calls[-1] == (4096, 4096)
    end = len(data) - 100
    assert cache.read(end - 10, 100) == data[end - 10:end]
    assert cache.read(end, 10) == b""


def _opened(name: str) -> tuple[list[SliceVolume], list[Opened]]:
    src = BudgetedSource(BytesSource(guest_bytes(name)))
    src.enter_guest_phase()
    guest = Qcow2Guest(src, parse_header(src.read(0, 4096), src))
    layout = read_layout(guest.read, guest.virtual_size)
    volumes, _ = volumes_of(guest.read, guest.virtual_size, layout.spans)
    return volumes, open_volumes(volumes, [])


@pytest.mark.parametrize("spec, found", [
    ("UUID=33333333-0000-4000-8000-00000000000B", "partition 1"),   # case does not matter
    ("/dev/disk/by-uuid/33333333-0000-4000-8000-00000000000b", "partition 1"),
    ("LABEL=BOOT", "partition 1"),
    ("/dev/disk/by-label/BOOT", "partition 1"),
    ("PARTUUID=0a0a0a0a-0000-4000-8000-0000000000c1", "partition 1"),
    ("/dev/sda1", "partition 1"), ("/dev/vda1", "partition 1"), ("/dev/nvme0n1p1", "partition 1"),
    ("/dev/xvda2", "partition 2"),
    ("LABEL=boot", None), ("UUID=00000000-0000-0000-0000-000000000000", None), ("/dev/sda9", None),
])
def test_fstab_specs_name_volumes(spec, found):
    _, opened = _opened("debian-gpt-boot-label.qcow2")
    match = mount._match(spec, opened)
    assert (match.volume.name if match else None) == found


def test_a_volume_expander_turns_one_partition_into_its_volumes(monkeypatch):
    """How the LVM reader plugs in: a PV partition becomes named logical volumes."""
    def as_lvm(volume: SliceVolume, notes: list[str]):
        if volume.name != "partition 2":
            return None
        return [SliceVolume(volume.disk, volume.start, volume.length, "vg0/root", "lvm",
                            {"devices": "/dev/mapper/vg0-root /dev/vg0/root"})]

    monkeypatch.setattr(mount, "VOLUME_EXPANDERS", [as_lvm])
    _, opened = _opened("debian-gpt-boot-label.qcow2")
    assert [o.volume.name for o in opened] == ["partition 1", "vg0/root"]
    assert mount._match("/dev/mapper/vg0-root", opened).volume.name == "vg0/root"
    _, g = inspect_with_guest(BytesSource(guest_bytes("debian-gpt-boot-label.qcow2")),
                              lambda g: g)
    assert g.mounts == {"/boot": "partition 1"}


def test_an_opener_that_fails_on_hostile_bytes_is_a_note_not_a_crash(monkeypatch):
    def broken(volume):
        raise IndexError("index out of range")

    monkeypatch.setattr(mount, "OPENERS", [broken, *mount.OPENERS])
    _, g = inspect_with_guest(BytesSource(guest_bytes("ubuntu-gpt-ext4.qcow2")), lambda g: g)
    assert g.files is None
    assert any("partition 2: the file system cannot be read (unexpected structure: IndexError"
               in n for n in g.notes)


@pytest.mark.parametrize("seed", range(40))
def test_random_damage_to_file_system_metadata_never_escapes(seed):
    """Bytes flipped in the superblock, descriptors, inode table and directories of a raw ext4:
    whatever they say, the guest reads answer or say why, within the budget."""
    import random

    rng = random.Random(seed)
    image = bytearray(guest_bytes("hostile-truncated.raw"))
    fs_meta = (1024, 1024 + 2048) if seed % 4 == 0 else (0, 160 * 1024)
    for _ in range(rng.choice((1, 4, 32))):
        image[rng.randrange(*fs_meta)] = rng.randrange(256)
    try:
        inspection, found = inspect_with_guest(BytesSource(bytes(image)),
                                               lambda g: (g, _crawl(g, 60) if g.files else 0))
    except Exception as exc:  # the container phase may refuse it in one line, never crash
        from imagedrop_disk.errors import DiskError
        assert isinstance(exc, DiskError), exc
        return
    assert inspection.reads <= GUEST_MAX_READS and inspection.bytes_read <= GUEST_MAX_BYTES
    guest, _ = found
    assert guest.files is not None or guest.notes


def test_root_in_a_logical_partition_and_boot_by_device_name():
    inspection, g = open_fixture("centos7-mbr-logical-root.qcow2")
    assert inspection.details["partitions"] == ["0x83", "0x05"]  # the container phase stops here
    assert (g.root_fs, g.mounts) == ("ext4", {"/boot": "partition 1"})  # fstab: /dev/sda1
    assert g.files.read_text("/etc/fstab").startswith("/dev/sda5 / ")
    assert g.files.kind("/boot/vmlinuz-3.10.0-1160.el7.x86_64") == "file"


def test_partition_spans_say_where_each_partition_lies():
    gpt, _ = _opened("debian-gpt-boot-label.qcow2")
    assert [(v.name, v.start, v.size, v.attrs["partuuid"]) for v in gpt] == [
        ("partition 1", 1 << 20, 2 << 20, "0a0a0a0a-0000-4000-8000-0000000000c1"),
        ("partition 2", 3 << 20, gpt[1].size, "0a0a0a0a-0000-4000-8000-0000000000c2")]
    mbr, _ = _opened("el8-arm64-mbr-boot.qcow2")
    assert [(v.name, v.start, v.size, v.type) for v in mbr] == [
        ("partition 1", 2048 * 512, 8192 * 512, "0x83"),
        ("partition 2", 10240 * 512, 14 * 2**20 - 10240 * 512, "0x83")]
    bare, _ = _opened("fedora-bare-inline.qcow2")
    assert [(v.name, v.start) for v in bare] == [("the whole disk", 0)]
