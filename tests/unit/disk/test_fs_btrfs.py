"""The Btrfs reader against a real mkfs.btrfs image (subvolumes @ (the default) and @home,
zlib/lzo/zstd directories, inline, regular, prealloc and sparse files) and hostile variants."""

from __future__ import annotations

import random
import struct
import sys
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fs_fixtures import SparseVolume, random_damage_never_escapes, volume, walk, walk_everything
from imagedrop_disk.errors import FsCorrupt, LzoError
from imagedrop_disk.fs import btrfs, btrfs_data, btrfs_tree
from imagedrop_disk.fs.crc32c import btrfs_name_hash, crc32c

UUID = "b7b7b7b7-0000-4000-8000-0000000000b8"         # btrfstune -M after mkfs
MKFS_UUID = "b7b7b7b7-0000-4000-8000-0000000000b7"    # still in the tree blocks and in fstab
SMALL = b"tiny inline text " * 20
BIG = b"".join(b"record %07d compressible payload\n" % i for i in range(12000))
CODECS = {"zlib": 1, "lzo": 2, "zstd": 3}


def mixed_expected() -> bytes:
    rnd = random.Random(3)          # as make_xfs_btrfs.sh writes mixed.bin
    return b"".join(
        bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 300)))
        + b"abc" * rnd.randrange(1, 400) + bytes(rnd.randrange(0, 3000)) for _ in range(120))


def extents(fs, node):
    tree, ino = node.ref
    return [btrfs_data.parse_extent(k[2], body, "t")
            for k, body in fs._items(tree, (ino, 108, 0), (ino, 108, btrfs.U64))]


@pytest.fixture
def fs():
    return btrfs.open_fs(volume("btrfs"))


def test_superblock_and_default_subvolume(fs):
    assert (fs.kind, fs.uuid, fs.label, fs.case_sensitive) == ("btrfs", UUID, "btrfsroot", True)
    assert fs.default_subvolume() == 256 and fs.tree == 256      # set-default @
    assert fs.entries(fs.root())[:4] == ["etc", "usr", "boot", "bin"]
    assert str(__import__("uuid").UUID(bytes=fs.sb.tree_fsid)) == MKFS_UUID   # METADATA_UUID
    profiles = {c.profile for c in fs.trees.chunks.chunks}
    assert profiles == {"single", "DUP"}


def test_linux_root_in_the_default_subvolume(fs):
    assert fs.readlink(walk(fs, "etc/os-release")) == "../usr/lib/os-release"
    assert fs.readlink(walk(fs, "bin")) == "usr/bin"
    assert b"ID=fedora" in fs.read(walk(fs, "usr/lib/os-release"), 0, 4096)
    fstab = fs.read(walk(fs, "etc/fstab"), 0, 4096)
    assert fstab == f"UUID={MKFS_UUID} / btrfs subvol=@ defaults 0 0\n".encode()
    assert walk(fs, "etc/missing") is None and walk(fs, "usr/lib/os-release/x") is None


def test_subvolumes_by_id_by_name_and_across_a_path():
    vol = volume("btrfs")
    top = btrfs.open_fs(vol, subvolid=5)
    assert top.tree == 5 and top.entries(top.root()) == ["@", "@home", "top.txt"]
    home = top.lookup(top.root(), "@home")
    assert home.ref[0] == 257 and home.kind == "dir"
    assert top.read(walk(top, "@home/alice/note.txt"), 0, 100) == b"hello-home\n"
    assert top.read(walk(top, "@/etc/fstab"), 0, 5) == b"UUID="
    assert top.lookup(walk(top, "@"), "..") == top.root()
    named = btrfs.open_fs(vol, subvol="/@home/")
    assert named.tree == 257 and named.entries(named.root()) == ["alice"]
    assert btrfs.open_fs(vol, subvolid=256).entries(named.root()) == ["alice"]
    with pytest.raises(FsCorrupt, match="missing 'nope'"):
        btrfs.open_fs(vol, subvol="@/nope")
    with pytest.raises(FsCorrupt, match="not a subvolume"):
        btrfs.open_fs(vol, subvol="@/etc")
    with pytest.raises(FsCorrupt, match="no root item"):
        btrfs.open_fs(vol, subvolid=999)


def test_subvolume_listing_and_a_nested_snapshot(fs):
    snapshot_path = "@/.snapshots/1/snapshot"
    assert fs.subvolumes() == [(256, "@"), (257, "@home"), (258, snapshot_path)]
    assert fs.subvolumes(limit=1) == [(256, "@")]
    snapshot = btrfs.open_fs(fs.trees.volume, subvol=snapshot_path)
    assert snapshot.tree == 258
    assert walk(snapshot, "after-snapshot.txt") is None
    assert walk(fs, "after-snapshot.txt") is not None
    assert snapshot.read(walk(snapshot, "c-lzo/big.txt"), 0, 20) == BIG[:20]
    assert fs.lookup(walk(fs, ".snapshots/1/snapshot"), "..") == walk(fs, ".snapshots/1")


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_compressed_files_inline_and_regular(fs, codec):
    if codec == "zstd":
        pytest.importorskip("zstandard")        # the optional extra; its absence is tested below
    small, big = walk(fs, f"c-{codec}/small.txt"), walk(fs, f"c-{codec}/big.txt")
    small_ext, big_ext = extents(fs, small), extents(fs, big)
    assert [(e.kind, e.compression) for e in small_ext] == [(btrfs_data.INLINE, CODECS[codec])]
    assert len(big_ext) > 1 and {e.compression for e in big_ext} == {CODECS[codec]}
    assert {e.kind for e in big_ext} == {btrfs_data.REGULAR}
    assert fs.read(small, 0, small.size) == SMALL
    assert fs.read(big, 0, big.size) == BIG
    for offset in (0, 4095, 131070, 200_000, len(BIG) - 7):
        assert fs.read(big, offset, 9) == BIG[offset:offset + 9]
    mixed = walk(fs, f"c-{codec}/mixed.bin")
    assert CODECS[codec] in {e.compression for e in extents(fs, mixed)}   # noise stays raw
    assert fs.read(mixed, 0, mixed.size) == mixed_expected()


def test_zstd_without_the_extra_is_a_named_refusal(fs, monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(FsCorrupt, match="install the zstd extra"):
        fs.read(walk(fs, "c-zstd/big.txt"), 0, 10)


def test_uncompressed_inline_regular_prealloc_and_holes(fs):
    inline = walk(fs, "inline.txt")
    assert [e.kind for e in extents(fs, inline)] == [btrfs_data.INLINE]
    assert fs.read(inline, 0, 100) == b"inline data\n"
    rnd = random.Random(7)
    expected = bytes(rnd.getrandbits(8) for _ in range(20000))
    assert fs.read(walk(fs, "random.bin"), 0, 20000) == expected
    prealloc = walk(fs, "prealloc.bin")
    assert [e.kind for e in extents(fs, prealloc)] == [btrfs_data.PREALLOC]
    assert fs.read(prealloc, 0, 65536) == bytes(65536)
    holes = walk(fs, "holes.bin")
    data = fs.read(holes, 0, holes.size)
    assert len(extents(fs, holes)) == 2 and holes.size == 2097152
    assert data == b"H" * 4096 + bytes(1048576 - 4096) + b"T" * 4096 + bytes(1048576 - 4096)
    assert fs.read(holes, 4090, 12) == b"H" * 6 + bytes(6)
    assert fs.read(holes, 2097150, 10) == bytes(2)


def test_long_symlink_and_a_big_directory(fs):
    link = walk(fs, "long-link")
    assert fs.readlink(link) == "/" + "".join(f"long-target-{i:04d}/" for i in range(1, 41)) + "end"
    many = walk(fs, "many")
    names = fs.entries(many, limit=1000)
    assert names == [f"entry-{i}" for i in range(1, 301)]
    assert fs.entries(many, limit=7) == names[:7]
    assert all(fs.lookup(many, n).kind == "file" for n in ("entry-1", "entry-150", "entry-300"))
    assert fs.lookup(many, "entry-301") is None
    assert fs.lookup(many, "..") == fs.root() and fs.lookup(many, ".") == many


def test_crc32c_and_the_name_hash():
    assert crc32c(b"123456789") == 0xE3069283
    assert btrfs_name_hash(b"default") == 0x8DBFC2D2


def test_other_volumes_are_not_btrfs():
    assert btrfs.open_fs(SparseVolume(1 << 20, {})) is None
    assert btrfs.open_fs(volume("xfs-v5")) is None
    assert btrfs.open_fs(SparseVolume(4096, {})) is None


# --- hostile variants ---------------------------------------------------------------------

def _superblock_with(vol: SparseVolume, offset: int, data: bytes) -> SparseVolume:
    raw = bytearray(vol.read(0x10000, 4096))
    raw[offset:offset + len(data)] = data
    raw[0:4] = struct.pack("<I", crc32c(bytes(raw[0x20:])))
    return vol.patched(0x10000, bytes(raw))


def test_superblock_checksum_and_fields():
    vol = volume("btrfs")
    with pytest.raises(FsCorrupt, match="checksum"):
        btrfs.open_fs(vol.patched(0x10000 + 0x12B, b"X"))
    with pytest.raises(FsCorrupt, match="node size"):
        btrfs.open_fs(_superblock_with(vol, 0x94, struct.pack("<I", 12345)))


def test_raid_profiles_are_refused_by_name():
    vol = volume("btrfs")
    sys_chunk_type = 0x32B + 17 + 24
    raid0 = _superblock_with(vol, sys_chunk_type, struct.pack("<Q", 0x2 | 0x8))
    with pytest.raises(FsCorrupt, match="RAID0 chunk"):
        btrfs.open_fs(raid0)


def _node_at(fs, logical: int) -> int:
    return fs.trees.chunks.physical(logical, fs.sb.nodesize)


def test_corrupt_tree_nodes_are_refused(fs):
    vol = fs.trees.volume
    leaf = _node_at(fs, fs._root(256).bytenr)
    level = fs._root(256).level
    for patch, words in [
        ((0x60, struct.pack("<I", 100_000)), "items"),              # nritems beyond the node
        ((0x30, struct.pack("<Q", 12345)), "bytenr 12345"),         # a node copied elsewhere
        ((0x64, bytes([level + 1])), "expected"),                    # level mismatch
        ((0x65 + 25, bytes(17)), "out of order"),                    # second key zeroed
    ]:
        bad = btrfs.open_fs(vol.patched(leaf + patch[0], patch[1]))
        with pytest.raises(FsCorrupt, match=words):
            walk_everything(bad)


def test_truncated_image_gives_fs_corrupt():
    vol = volume("btrfs")
    short = vol.truncated(22 * 1024 * 1024)        # the metadata chunk is cut off
    with pytest.raises(FsCorrupt):
        walk_everything(btrfs.open_fs(short))


def test_extent_past_the_end_and_absurd_sizes(fs):
    with pytest.raises(FsCorrupt, match="in no chunk"):
        fs.trees.chunks.physical(1 << 50, 4096)
    body = bytearray(53)
    struct.pack_into("<QBBHB", body, 8, 1 << 30, 1, 0, 0, 1)           # zlib, regular
    struct.pack_into("<QQQQ", body, 21, 4096, 4096, 0, 1 << 30)
    with pytest.raises(FsCorrupt, match="compressed extent"):
        btrfs_data.parse_extent(0, bytes(body), "t")
    inline = bytearray(30)
    struct.pack_into("<QBBHB", inline, 8, 1 << 40, 1, 0, 0, 0)
    with pytest.raises(FsCorrupt, match="inline extent"):
        btrfs_data.parse_extent(0, bytes(inline), "t")


def test_compression_bombs_stop_at_the_cap():
    bomb = zlib.compress(bytes(50_000_000), 9)
    assert len(btrfs_data.decompress(1, bomb, 4096, 4096, "t")) == 4096
    with pytest.raises(FsCorrupt, match="zlib"):
        btrfs_data.decompress(1, b"not zlib at all", 10, 4096, "t")
    # one LZO segment that claims a run far beyond a sector
    segment = bytes([0x00]) + bytes(200) + b"\x01" + b"x" * 10
    framed = struct.pack("<II", 8 + len(segment), len(segment)) + segment
    with pytest.raises(FsCorrupt, match="lzo"):
        btrfs_data.decompress(2, framed, 1 << 20, 4096, "t")


def test_lzo_streams_good_and_hostile():
    from imagedrop_disk.fs import lzo
    # 5 literals "abcde", then a 3-byte match at distance 5 (M2 form), then the end marker
    stream = bytes([17 + 5]) + b"abcde" + bytes([0x40 | (4 << 2), 0]) + b"\x11\x00\x00"
    assert lzo.decompress(stream, 100) == b"abcdeabc"
    with pytest.raises(LzoError, match="distance"):
        lzo.decompress(bytes([17 + 1]) + b"a" + bytes([0x40 | (7 << 2), 9]) + b"\x11\0\0", 100)
    with pytest.raises(LzoError, match="input ends"):
        lzo.decompress(bytes([17 + 2]) + b"ab", 100)
    with pytest.raises(LzoError, match="exceeds"):
        lzo.decompress(bytes([17 + 200]) + b"a" * 200, 100)


def test_random_metadata_damage_never_escapes_the_reader():
    clean = volume("btrfs")
    fs = btrfs.open_fs(clean)
    metadata = [fs.trees.chunks.physical(c.logical, 1) // 4096 for c in fs.trees.chunks.chunks
                if c.profile == "DUP"]
    blocks = sorted(b for b in clean.blocks
                    if any(m <= b < m + 8 * 1024 * 1024 // 4096 for m in metadata))
    random_damage_never_escapes(clean, blocks, btrfs.open_fs, seed=5)


def test_a_chunk_on_another_device_is_named():
    vol = volume("btrfs")
    stripes = 0x32B + 17 + 48                       # the system chunk is DUP: both copies
    elsewhere = _superblock_with(_superblock_with(vol, stripes, struct.pack("<Q", 2)),
                                 stripes + 32, struct.pack("<Q", 2))
    with pytest.raises(FsCorrupt, match="no copy on this device"):
        btrfs.open_fs(elsewhere)


def test_reads_are_clipped_and_capped(fs, monkeypatch):
    holes = walk(fs, "holes.bin")
    assert fs.read(holes, -5, 10) == b"" and fs.read(holes, holes.size + 1, 10) == b""
    monkeypatch.setattr(btrfs, "MAX_READ", 1000)
    assert len(fs.read(holes, 0, holes.size)) == 1000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=5000))
def test_lzo_never_fails_otherwise_nor_exceeds_its_limit(data, limit):
    from imagedrop_disk.fs import lzo
    try:
        assert len(lzo.decompress(data, limit)) <= limit
    except LzoError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=4, max_size=400))
def test_compressed_frames_of_noise_are_fs_corrupt_or_bounded(data):
    for codec in (1, 2):
        try:
            assert len(btrfs_data.decompress(codec, data, 4096, 4096, "t")) <= 4096
        except FsCorrupt:
            pass


def _with_default(vol: SparseVolume, tree: int) -> SparseVolume:
    """The image with the root tree's `default` entry pointing at `tree` (5: never set)."""
    fs = btrfs.open_fs(vol)
    leaf = fs.sb.root
    assert fs.sb.root_level == 0
    raw, nritems = fs.trees.node(leaf, 0)
    wanted = (6, 84, btrfs_name_hash(b"default"))
    for i in range(nritems):
        if btrfs_tree.parse_key(raw, 101 + i * 25) == wanted:
            offset = struct.unpack_from("<I", raw, 101 + i * 25 + 17)[0]
            at = fs.trees.chunks.physical(leaf, 1) + 101 + offset
            return vol.patched(at, struct.pack("<Q", tree))
    raise AssertionError("no default entry")


def test_open_system_finds_the_subvolume_holding_etc():
    vol = volume("btrfs")
    assert btrfs.open_system(vol).tree == 256                     # the default holds etc/
    ubuntu_like = _with_default(vol, 5)
    assert btrfs.open_fs(ubuntu_like).tree == 5                   # the default: the top level
    system = btrfs.open_system(ubuntu_like)
    assert system.tree == 256 and system.lookup(system.root(), "etc").kind == "dir"
    assert btrfs.open_system(SparseVolume(1 << 20, {})) is None
