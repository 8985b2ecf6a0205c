"""The NTFS reader over volumes made by mkntfs and populated through ntfs-3g
(tests/fixtures/guests/make_windows.sh), and over the same volumes damaged on purpose."""

from __future__ import annotations

import random
import struct

import pytest
from fs_fixtures import walk as walk_path
from guest_images import MemVolume, partition_volume
from hypothesis import given, settings
from hypothesis import strategies as st

from imagedrop_disk.errors import FsCorrupt, NtfsUnsupported
from imagedrop_disk.fs import ntfs
from imagedrop_disk.fs.api import Node
from imagedrop_disk.fs.ntfs_index import _entries
from imagedrop_disk.fs.ntfs_records import (ATTR_LIST, DATA, INDEX_ALLOCATION, Run,
                                            apply_fixups, decode_runlist)


def open_volume(data: bytes, max_bytes: int = 64 << 20) -> tuple[ntfs.Ntfs, MemVolume]:
    volume = MemVolume(data, max_bytes=max_bytes)
    fs = ntfs.open_fs(volume)
    assert isinstance(fs, ntfs.Ntfs)
    return fs, volume


@pytest.fixture(scope="module")
def win2019_bytes() -> bytes:
    return partition_volume("win2019").data


@pytest.fixture()
def fs(win2019_bytes) -> ntfs.Ntfs:
    return open_volume(win2019_bytes)[0]


def test_boot_sector_geometry_serial_and_label(fs):
    assert fs.kind == "ntfs" and fs.case_sensitive is False
    assert fs.uuid == "1A2B3C4D5E6F7081"  # as blkid prints it for fstab's UUID=
    assert fs.label == "WIN2019"
    assert fs.boot.cluster == 4096 and fs.boot.record_size == 1024
    assert fs.root() == Node(5, "dir", 0)


def test_label_absent_reads_as_none():
    fs, _ = open_volume(partition_volume("win2022").data)
    assert fs.label is None and fs.uuid == "0000C0FFEE002022"


def test_root_listing_skips_dos_names_and_dot(fs):
    names = fs.entries(fs.root())
    assert names[:3] == ["$AttrDef", "$BadClus", "$Bitmap"]
    assert {"Windows", "Program Files", "Compressed", "$MFT"} <= set(names)
    assert "PROGRA~1" not in names and "." not in names
    assert fs.lookup(fs.root(), "progra~1") == fs.lookup(fs.root(), "Program Files")


def test_case_insensitive_lookup_through_index_allocation(fs):
    system32 = walk_path(fs, "windows/SYSTEM32")
    assert system32.kind == "dir"
    index = fs._index(system32)
    assert index.allocation is not None  # 300 entries: the index spills into INDX blocks
    names = fs.entries(system32)
    dlls = [n for n in names if n.startswith("api-ms-")]
    assert len(dlls) == 300 and dlls == sorted(dlls)
    for i in (1, 77, 150, 299, 300):
        node = fs.lookup(system32, f"API-MS-WIN-CORE-COMPONENT-L1-1-{i:03d}.DLL")
        assert node is not None and node.kind == "file" and node.size == 0
    assert fs.lookup(system32, "api-ms-win-core-component-l1-1-301.dll") is None
    assert fs.lookup(system32, "0-before-everything") is None
    assert fs.lookup(system32, "~after-everything") is None
    assert fs.entries(system32, limit=5) == names[:5]


def test_resident_and_non_resident_content(fs):
    driver = walk_path(fs, "Windows/System32/drivers/VIOSTOR.SYS")
    assert fs.read(driver, 0, 100) == b"MZ driver viostor"  # resident $DATA
    assert fs.read(driver, 3, 6) == b"driver"
    big = walk_path(fs, "Windows/big.txt")
    assert big.size == 20000 and fs.read(big, 0, big.size) == b"z" * 20000
    assert fs.read(big, 19990, 100) == b"z" * 10 and fs.read(big, 20000, 5) == b""


def test_fragmented_hive_reads_whole(fs):
    node = walk_path(fs, "Windows/System32/config/SOFTWARE")
    runs = fs._stream(node.ref, DATA, "", "SOFTWARE").runs
    assert len(runs) > 2 and len({r.lcn for r in runs}) == len(runs)
    data = fs.read(node, 0, node.size)
    assert data[:4] == b"regf" and len(data) == node.size
    hbins_size = struct.unpack_from("<I", data, 40)[0]
    assert hbins_size + 4096 == node.size
    pos = 4096  # every hive bin in its place proves the runs were joined in order
    while pos < node.size:
        assert data[pos:pos + 4] == b"hbin"
        assert struct.unpack_from("<I", data, pos + 4)[0] == pos - 4096
        pos += struct.unpack_from("<I", data, pos + 8)[0]


def test_attribute_list_spreads_data_over_extension_records(fs):
    node = walk_path(fs, "Windows/Logs/sparse-runs.log")
    base = fs.record(node.ref)
    assert any(a.type == ATTR_LIST for a in base.attrs)
    pieces = [a for a in fs.attributes(node.ref) if a.type == DATA]
    assert len(pieces) >= 2 and sorted(p.lowest_vcn for p in pieces)[1] > 0
    runs = fs._stream(node.ref, DATA, "", "log").runs
    assert any(r.lcn is None for r in runs) and len(runs) > 500
    data = fs.read(node, 0, node.size)
    for i in range(300):
        block = data[2 * i * 4096:(2 * i + 1) * 4096]
        assert block == (f"block {i:06d}\n".ljust(16) * 256).encode()
        if i < 299:
            assert data[(2 * i + 1) * 4096:(2 * i + 2) * 4096] == bytes(4096)  # sparse hole


def test_sparse_file_reads_zeros_without_reading_them(win2019_bytes):
    fs, volume = open_volume(win2019_bytes)
    node = walk_path(fs, "Windows/sparse.bin")
    before = volume.bytes_read
    data = fs.read(node, 0, node.size)
    assert data[:-4] == bytes(node.size - 4) and data[-4:] == b"tail"
    assert volume.bytes_read - before <= 4096  # only the one allocated cluster


def test_compressed_file_is_refused_not_called_corrupt(fs):
    node = walk_path(fs, "Compressed/notes.txt")
    assert node.kind == "file" and node.size == 72000
    with pytest.raises(NtfsUnsupported, match="compressed .* not supported"):
        fs.read(node, 0, 10)
    assert fs.entries(walk_path(fs, "Compressed")) == ["notes.txt"]


def test_reparse_points(fs):
    junction = fs.lookup(fs.root(), "documents and settings")
    assert junction is not None and junction.kind == "other"
    with pytest.raises(FsCorrupt, match="not a symlink"):
        fs.readlink(junction)
    assert fs.lookup(junction, "anything") is None and fs.entries(junction) == []
    wof = walk_path(fs, "Windows/System32/wof.dll")
    assert wof.kind == "file"  # it exists; its content is in a compressed stream
    with pytest.raises(NtfsUnsupported, match="WOF-compressed"):
        fs.read(wof, 0, 2)


def encode_run(length: int, delta: int) -> bytes:
    size = (length.bit_length() + 7) // 8
    off = 1
    while not -(1 << (8 * off - 1)) <= delta < 1 << (8 * off - 1):
        off += 1
    return (bytes([off << 4 | size]) + length.to_bytes(size, "little")
            + delta.to_bytes(off, "little", signed=True))


def with_fixups(record: bytearray) -> bytes:
    usa_off, usa_count = struct.unpack_from("<HH", record, 4)
    usn = record[usa_off:usa_off + 2]
    for i in range(1, usa_count):
        record[usa_off + 2 * i:usa_off + 2 * i + 2] = record[i * 512 - 2:i * 512]
        record[i * 512 - 2:i * 512] = usn
    return bytes(record)


def test_fragmented_mft(fs, win2019_bytes):
    """The second half of the MFT moved elsewhere and record 0's runlist rewritten to say so."""
    (run,) = fs.mft.runs
    half, cluster = run.length // 2, fs.boot.cluster
    rest = run.length - half
    zero = bytes(rest * cluster)
    dest = next(c for c in range(fs.total_clusters - rest, 0, -rest)
                if win2019_bytes[c * cluster:(c + rest) * cluster] == zero)
    data = bytearray(win2019_bytes)
    moved = slice((run.lcn + half) * cluster, (run.lcn + run.length) * cluster)
    data[dest * cluster:(dest + rest) * cluster] = data[moved]
    data[moved] = bytes(rest * cluster)  # nothing left where the old runlist points
    at = run.lcn * cluster
    record = bytearray(apply_fixups(bytes(data[at:at + 1024]), b"FILE", "record 0"))
    pos = struct.unpack_from("<H", record, 0x14)[0]
    while struct.unpack_from("<I", record, pos)[0] != DATA:
        pos += struct.unpack_from("<I", record, pos + 4)[0]
    length, run_off = struct.unpack_from("<I", record, pos + 4)[0], \
        struct.unpack_from("<H", record, pos + 0x20)[0]
    runlist = encode_run(half, run.lcn) + encode_run(rest, dest - run.lcn) + b"\0"
    new_len = (run_off + len(runlist) + 7) & ~7
    attr = bytearray(record[pos:pos + run_off] + runlist.ljust(new_len - run_off, b"\0"))
    struct.pack_into("<I", attr, 4, new_len)
    used = struct.unpack_from("<I", record, 0x18)[0]
    body = record[:pos] + attr + record[pos + length:used]
    assert len(body) <= 1024
    struct.pack_into("<I", body, 0x18, len(body))
    data[at:at + 1024] = with_fixups(body.ljust(1024, b"\0"))

    moved_fs, _ = open_volume(bytes(data))
    assert [(r.length, r.lcn) for r in moved_fs.mft.runs] == [(half, run.lcn), (rest, dest)]
    hive = walk_path(moved_fs, "Windows/System32/config/SOFTWARE")
    assert hive.ref >= half * cluster // 1024  # its record lies in the moved half
    assert moved_fs.read(hive, 0, 4) == b"regf"
    assert moved_fs.entries(walk_path(moved_fs, "Windows/System32")) == \
        fs.entries(walk_path(fs, "Windows/System32"))


def test_not_ntfs_is_none():
    assert ntfs.open_fs(MemVolume(bytes(1 << 20))) is None
    assert ntfs.open_fs(MemVolume(b"")) is None


# -- hostile volumes -------------------------------------------------------------------------

def record_offset(fs: ntfs.Ntfs, number: int) -> int:
    run = fs.mft.runs[0]
    assert run.length * fs.boot.cluster > (number + 1) * fs.boot.record_size
    return run.lcn * fs.boot.cluster + number * fs.boot.record_size


def patch(data: bytes, offset: int, raw: bytes) -> bytes:
    return data[:offset] + raw + data[offset + len(raw):]


def test_boot_sector_fields_out_of_range(win2019_bytes):
    for offset, raw, words in [(0x0B, struct.pack("<H", 1000), "bytes per sector"),
                               (0x0D, b"\x03", "sectors per cluster"),
                               (0x40, b"\x05", "MFT record size"),
                               (0x40, b"\xe0", "MFT record size"),
                               (0x30, struct.pack("<Q", 1 << 40), "outside")]:
        with pytest.raises(FsCorrupt, match=words):
            ntfs.open_fs(MemVolume(patch(win2019_bytes, offset, raw)))


def test_fixup_mismatch_names_the_record(fs, win2019_bytes):
    at = record_offset(fs, 5) + 510  # the root directory's first sector's last two bytes
    bad, _ = open_volume(patch(win2019_bytes, at, b"\xde\xad"))
    with pytest.raises(FsCorrupt, match="MFT record 5: fix-up mismatch in sector 1"):
        bad.root()
    with pytest.raises(FsCorrupt, match="fix-up mismatch"):
        apply_fixups(b"FILE" + struct.pack("<HH", 48, 3) + bytes(40) + b"\x07\x00" + bytes(974),
                     b"FILE", "x")


def test_runlists_past_the_end_and_loops():
    with pytest.raises(FsCorrupt, match="outside the volume"):
        decode_runlist(b"\x21\x04\xff\x7f\x00", 0, 3, 1000, "x")
    with pytest.raises(FsCorrupt, match="outside the volume"):  # negative delta below 0
        decode_runlist(b"\x11\x04\x10\x11\x04\x80\x00", 0, 7, 1000, "x")
    with pytest.raises(FsCorrupt, match="past VCN"):
        decode_runlist(b"\x11\x08\x10\x00", 0, 3, 1000, "x")
    with pytest.raises(FsCorrupt, match="header"):
        decode_runlist(b"\x19\x01", 0, 3, 1000, "x")
    assert decode_runlist(b"\x11\x02\x10\x01\x02\x11\x02\xfe\x00", 0, 5, 1000, "x") == (
        Run(0, 2, 16), Run(2, 2, None), Run(4, 2, 14))
    # a runlist that revisits the same clusters over and over stops at the run cap
    endless = b"\x11\x01\x05" + b"\x11\x01\x00" * 5000 + b"\x00"
    with pytest.raises(FsCorrupt, match="runs"):
        decode_runlist(endless, 0, 10**9, 1000, "x")


def test_data_run_pointing_past_the_image_is_corrupt(fs, win2019_bytes):
    node = walk_path(fs, "Windows/big.txt")
    truncated = win2019_bytes[:fs._stream(node.ref, DATA, "", "x").runs[0].lcn * 4096]
    small, _ = open_volume(truncated)
    small_node = walk_path(small, "Windows/big.txt")
    with pytest.raises(FsCorrupt, match="truncated"):
        small.read(small_node, 0, 100)


def test_absurd_data_size_is_corrupt(fs, win2019_bytes):
    node = walk_path(fs, "Windows/big.txt")
    rec = record_offset(fs, node.ref)
    raw = apply_fixups(win2019_bytes[rec:rec + 1024], b"FILE", "x")
    pos = struct.unpack_from("<H", raw, 0x14)[0]
    while struct.unpack_from("<I", raw, pos)[0] != DATA:
        pos += struct.unpack_from("<I", raw, pos + 4)[0]
    bad, volume = open_volume(patch(win2019_bytes, rec + pos + 0x30, struct.pack("<Q", 1 << 60)))
    with pytest.raises(FsCorrupt, match="runs map"):
        bad.read(walk_path(bad, "Windows/big.txt"), 0, 1 << 30)
    assert volume.bytes_read < 1 << 20


def test_cyclic_index_is_caught(fs, win2019_bytes):
    system32 = walk_path(fs, "Windows/System32")
    index = fs._index(system32)
    first = index.root_entries()[0]
    assert first.subnode is not None
    vcn = first.subnode
    at = vcn * index.vcn_unit
    run = next(r for r in index.allocation.runs if r.vcn * 4096 <= at < (r.vcn + r.length) * 4096)
    block_at = run.lcn * 4096 + at - run.vcn * 4096
    block = apply_fixups(win2019_bytes[block_at:block_at + 4096], b"INDX", "x")
    entry = 0x18 + struct.unpack_from("<I", block, 0x18)[0]
    length = struct.unpack_from("<H", block, entry + 8)[0]
    flags_at, vcn_at = block_at + entry + 12, block_at + entry + length - 8
    assert (entry + length) % 512 not in range(510 - length, 512)  # clear of the fix-up slots
    looped = patch(win2019_bytes, flags_at, struct.pack("<I", 1))
    looped = patch(looped, vcn_at, struct.pack("<q", vcn))  # that node's first child: itself
    bad, volume = open_volume(looped)
    bad_system32 = walk_path(bad, "Windows/System32")
    with pytest.raises(FsCorrupt, match="visited twice"):
        bad.entries(bad_system32)
    with pytest.raises(FsCorrupt, match="visited twice|deeper"):
        bad.lookup(bad_system32, "0-sorts-first")


def everything(fs) -> int:
    """Walks every directory and reads every file it can; returns how many nodes it saw."""
    seen, stack = 0, [fs.root()]
    while stack and seen < 2000:
        node = stack.pop()
        seen += 1
        if node.kind == "dir":
            for name in fs.entries(node, limit=400):
                child = fs.lookup(node, name)
                if child is not None and name != "." and child.ref != node.ref:
                    stack.append(child)
        elif node.kind == "file":
            try:
                fs.read(node, 0, 1 << 16)
            except NtfsUnsupported:
                pass
    return seen


def test_whole_walk_of_the_clean_volume(fs):
    assert everything(fs) > 300


@pytest.mark.parametrize("cut", [64 * 1024, 2 << 20, 4 << 20, 8 << 20])
def test_truncated_volumes_never_crash(win2019_bytes, cut):
    try:
        fs, volume = open_volume(win2019_bytes[:cut])
        everything(fs)
    except FsCorrupt:
        pass


class DamagedVolume(MemVolume):
    """The clean bytes with a few bytes changed, without copying the whole volume."""

    def __init__(self, data: bytes, damage: dict[int, int]):
        super().__init__(data, max_bytes=256 << 20)
        self.damage = damage

    def read(self, offset: int, length: int) -> bytes:
        out = bytearray(super().read(offset, length))
        for at, value in self.damage.items():
            if offset <= at < offset + len(out):
                out[at - offset] = value
        return bytes(out)


def test_random_damage_to_metadata_never_crashes_or_reads_without_bound(fs, win2019_bytes):
    mft_at = record_offset(fs, 0)
    regions = [(mft_at, 400 * 1024)]
    system32 = fs._index(walk_path(fs, "Windows/System32"))
    regions += [(r.lcn * 4096, r.length * 4096) for r in system32.allocation.runs]
    rng = random.Random(2019)
    outcomes = {"ok": 0, "corrupt": 0}
    for _ in range(20):
        damage = {}
        for _ in range(rng.randint(1, 20)):
            start, length = rng.choice(regions)
            damage[start + rng.randrange(length)] = rng.randrange(256)
        try:
            damaged = ntfs.open_fs(DamagedVolume(win2019_bytes, damage))
            everything(damaged)
            outcomes["ok"] += 1
        except FsCorrupt:
            outcomes["corrupt"] += 1
    assert outcomes["corrupt"] > 0


def test_index_allocation_attribute_is_named_i30(fs):
    system32 = walk_path(fs, "Windows/System32")
    names = {a.name for a in fs.attributes(system32.ref) if a.type == INDEX_ALLOCATION}
    assert names == {"$I30"}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(0, 64), st.integers(-1, 1 << 20))
def test_any_runlist_bytes_decode_or_are_corrupt(raw, first, highest):
    try:
        runs = decode_runlist(raw, first, highest, 1 << 16, "fuzz")
    except FsCorrupt:
        return
    assert all(r.length > 0 and (r.lcn is None or 0 <= r.lcn < 1 << 16) for r in runs)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=16, max_size=2048))
def test_any_index_node_bytes_parse_or_are_corrupt(raw):
    try:
        entries = _entries(raw, 0, "fuzz")
    except FsCorrupt:
        return
    assert entries[-1].name is None  # a node always ends with its last (keyless) entry
