"""The XFS reader against real mkfs.xfs images (v5 with CRCs and ftype, v4 without; inode
numbers above 2^32) and against hostile variants of them."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fs_fixtures import (GUESTS, SparseVolume, random_damage_never_escapes, volume, walk,
                         walk_everything)
from imagedrop_disk.errors import BudgetExceeded, FsCorrupt
from imagedrop_disk.fs import xfs, xfs_dir
from imagedrop_disk.fs.crc32c import crc32c
from imagedrop_disk.fs.xfs_map import BmbtWalker

# name → (sb_uuid, label, distro); the v5 image was given a new UUID after mkfs (xfs_admin -U)
VERSIONS = {"xfs-v5": ("5f5f5f5f-0000-4000-8000-000000000055", "xfsfive", "rocky"),
            "xfs-v4": ("4f4f4f4f-0000-4000-8000-000000000004", "xfsfour", "centos")}
FRAG_BLOCKS = 600


def frag_expected() -> bytes:
    out = bytearray((FRAG_BLOCKS - 1) * 8192 + 4096)
    for i in range(FRAG_BLOCKS):
        out[i * 8192:i * 8192 + 4096] = i.to_bytes(4, "big") * 1024
    return bytes(out)


@pytest.fixture(params=sorted(VERSIONS))
def image(request):
    vol = volume(request.param)
    return request.param, vol, xfs.open_fs(vol)


def test_superblock_names_the_file_system_as_fstab_does(image):
    name, _vol, fs = image
    uuid, label, _distro = VERSIONS[name]
    assert (fs.kind, fs.uuid, fs.label, fs.case_sensitive) == ("xfs", uuid, label, True)
    assert fs.sb.v5 == (name == "xfs-v5") and fs.sb.ftype == (name == "xfs-v5")
    assert fs.sb.inodesize == (512 if name == "xfs-v5" else 256)
    assert fs.sb.dirblksize == (4096 if name == "xfs-v5" else 8192)


def test_uuid_is_sb_uuid_not_the_metadata_uuid():
    vol = volume("xfs-v5")
    fs = xfs.open_fs(vol)
    head = vol.read(0, 512)
    assert struct.unpack_from(">I", head, 216)[0] & 0x4                  # META_UUID
    assert head[248:264].hex() == "5f5f5f5f000040008000000000000005"      # the mkfs one
    assert fs.uuid == "5f5f5f5f-0000-4000-8000-000000000055"
    # the image's own fstab still names the UUID it had at install time
    assert fs.read(walk(fs, "etc/fstab"), 0, 100).startswith(
        b"UUID=5f5f5f5f-0000-4000-8000-000000000005 /")


def test_linux_root_with_relative_symlinks(image):
    name, _vol, fs = image
    assert fs.readlink(walk(fs, "etc/os-release")) == "../usr/lib/os-release"
    assert fs.readlink(walk(fs, "bin")) == "usr/bin"
    release = walk(fs, "usr/lib/os-release")
    assert f"ID={VERSIONS[name][2]}" in fs.read(release, 0, 4096).decode()
    fstab_uuid = VERSIONS[name][0][:-2]       # v5: the UUID before xfs_admin -U changed it
    assert fs.read(walk(fs, "etc/fstab"), 0, 100).startswith(f"UUID={fstab_uuid}".encode())
    assert fs.read(walk(fs, "usr/bin/sh"), 0, 4)[:4] == b"\x7fELF"
    assert walk(fs, "etc/missing") is None and walk(fs, "usr/bin/sh/x") is None


@pytest.mark.parametrize("form, count, fmt, leaf_magics", [
    ("short", 3, xfs.LOCAL, None),
    ("block", 40, xfs.EXTENTS, None),
    ("leaf", 400, xfs.EXTENTS, {0xD2F1, 0x3DF1}),
    ("node", 3000, xfs.BTREE, {0xFEBE, 0x3EBE}),
])
def test_every_directory_form(image, form, count, fmt, leaf_magics):
    name, _vol, fs = image
    directory = walk(fs, f"dirs/{form}")
    inode = fs.inode(directory.ref)
    # the fixture really holds this form: the fork format and the block at the leaf offset
    assert inode.fmt == fmt
    if form == "block":
        assert inode.size == fs.sb.dirblksize
    if leaf_magics:
        head = fs._read_mapped(inode, xfs_dir.LEAF_OFFSET, 16)
        assert struct.unpack_from(">H", head, 8)[0] in leaf_magics
    names = fs.entries(directory, limit=10_000)
    assert len(names) == min(count, 4096) and len(set(names)) == count
    assert "." not in names and ".." not in names
    last = names[-1] if form != "short" else "f3"
    assert fs.lookup(directory, last).kind == "file"
    assert fs.lookup(directory, "no-such-entry") is None
    assert fs.lookup(directory, "..") == walk(fs, "dirs")
    assert fs.lookup(directory, ".") == directory
    assert fs.entries(directory, limit=2) == names[:2]


def test_contents_found_in_leaf_and_node_directories(image):
    _name, _vol, fs = image
    leaf = walk(fs, "dirs/leaf/leaf-entry-with-a-longish-name-399")
    node = walk(fs, "dirs/node/node-entry-with-a-longer-name-2999")
    assert fs.read(leaf, 0, 100) == b"leafdata\n" and fs.read(node, 0, 100) == b"nodedata\n"


def test_fragmented_file_reads_through_its_map(image):
    name, vol, fs = image
    frag = walk(fs, "frag.bin")
    expected = frag_expected()
    assert frag.size == len(expected)
    assert fs.inode(frag.ref).fmt == (xfs.BTREE if name == "xfs-v5" else xfs.EXTENTS)
    assert fs.read(frag, 0, frag.size) == expected
    for offset in (0, 4090, 8190, 300 * 8192 - 3, len(expected) - 10):
        assert fs.read(frag, offset, 20) == expected[offset:offset + 20]
    assert fs.read(frag, len(expected), 10) == b""


def test_holes_and_unwritten_extents_read_as_zeros(image):
    name, _vol, fs = image
    sparse = walk(fs, "sparse.bin")
    data = fs.read(sparse, 0, sparse.size)
    expected = bytearray(1048576)
    for i, off in enumerate((0, 40960, 409600)):
        expected[off:off + 5000] = bytes([65 + i]) * 5000
    assert data == bytes(expected)
    if name == "xfs-v5":
        unwritten = walk(fs, "unwritten.bin")
        assert unwritten.size == 65536 and fs.read(unwritten, 0, 65536) == bytes(65536)
        assert any(e.unwritten for e in fs._extents(fs.inode(unwritten.ref), 0, 16))
    assert fs.read(walk(fs, "empty"), 0, 10) == b""


def test_local_and_remote_symlinks(image):
    name, _vol, fs = image
    local = walk(fs, "local-link")
    assert fs.inode(local.ref).fmt == xfs.LOCAL and fs.readlink(local) == "short-target"
    remote = walk(fs, "remote-link")
    target = fs.readlink(remote)
    assert fs.inode(remote.ref).fmt == xfs.EXTENTS and len(target) == remote.size == 684
    assert target == "/" + "".join(f"long-target-{i:04d}/" for i in range(1, 41)) + "end"
    if name == "xfs-v5":
        assert fs._read_mapped(fs.inode(remote.ref), 0, 4) == b"XSLM"


def test_shortform_with_eight_byte_inode_numbers():
    fs = xfs.open_fs(volume("xfs-i8"))
    expected = {line.split()[1]: int(line.split()[0])
                for line in (GUESTS / "xfs-i8-inodes.txt").read_text().splitlines()}
    root = fs.inode(fs.sb.rootino)
    assert root.fmt == xfs.LOCAL and root.fork[1] > 0          # i8count
    assert fs.sb.inodesize == 1024 and fs.sb.nrext64           # 64-bit extent counters
    assert max(expected.values()) > 2**32
    for path, ino in expected.items():
        node = walk(fs, path)
        assert node.ref == ino and fs.read(node, 0, 20) == f"in {path.split('/')[0]}\n".encode()
        raw = fs.volume.read(fs.inode_offset(ino), 128)
        assert struct.unpack_from(">Q", raw, 120)[0] & xfs.NREXT64_FLAG
        assert struct.unpack_from(">I", raw, 76)[0] == 0 and fs.inode(ino).nextents == 1


def test_other_volumes_are_not_xfs():
    assert xfs.open_fs(SparseVolume(1 << 20, {})) is None
    assert xfs.open_fs(volume("btrfs")) is None


# --- hostile variants ---------------------------------------------------------------------

def _fs5():
    vol = volume("xfs-v5")
    return vol, xfs.open_fs(vol)


def _inode_offset(fs, ino: int) -> int:
    return fs.inode_offset(ino)


def _sb_patched(vol: SparseVolume, offset: int, data: bytes) -> SparseVolume:
    """The v5 superblock with `data` at `offset` and its checksum made right again."""
    sb = bytearray(vol.read(0, 512))
    sb[offset:offset + len(data)] = data
    sb[224:228] = bytes(4)
    return vol.patched(0, bytes(sb[:224]) + struct.pack("<I", crc32c(bytes(sb))))


def test_corrupt_superblock_fields_are_named():
    vol, _fs = _fs5()
    with pytest.raises(FsCorrupt, match="checksum"):
        xfs.open_fs(vol.patched(108, b"X"))                 # the label, CRC left stale
    with pytest.raises(FsCorrupt, match="allocation groups"):
        xfs.open_fs(_sb_patched(vol, 124, b"\x07"))        # agblklog
    with pytest.raises(FsCorrupt, match="block size"):
        xfs.open_fs(_sb_patched(vol, 4, struct.pack(">I", 3000)))
    with pytest.raises(FsCorrupt, match="sector size"):
        xfs.open_fs(vol.patched(102, struct.pack(">H", 3)))


def test_truncated_image_gives_fs_corrupt():
    vol, fs = _fs5()
    short = xfs.open_fs(vol.truncated(64 * 1024))
    with pytest.raises(FsCorrupt):
        walk_everything(short)


def test_extent_past_the_end_is_refused():
    vol, fs = _fs5()
    node = walk(fs, "usr/lib/os-release")
    rec_at = _inode_offset(fs, node.ref) + 176
    rec = int.from_bytes(vol.read(rec_at, 16), "big")
    rec |= ((1 << 52) - 1) << 21                          # startblock: the largest there is
    bad = xfs.open_fs(vol.patched(rec_at, rec.to_bytes(16, "big")))
    with pytest.raises(FsCorrupt, match="past the end"):
        bad.read(node, 0, 100)


def test_absurd_extent_count_is_refused():
    vol, fs = _fs5()
    node = walk(fs, "sparse.bin")
    bad = xfs.open_fs(vol.patched(_inode_offset(fs, node.ref) + 76, b"\xff\xff\xff\xff"))
    with pytest.raises(FsCorrupt, match="extents do not fit"):
        bad.read(node, 0, 10)


def test_bmbt_loops_and_bad_levels_are_refused():
    vol, fs = _fs5()
    node = walk(fs, "frag.bin")
    inode = fs.inode(node.ref)
    walker = BmbtWalker(inode.fork, lambda b: b"", fs.sb.blocksize, True, node.ref, "t")
    leaf_at = fs._fsblock_offset(walker.root_ptrs[0], 1, "t")
    looped = xfs.open_fs(vol.patched(leaf_at + 16, struct.pack(">Q", walker.root_ptrs[0])))
    with pytest.raises(FsCorrupt, match="out of order"):
        looped.read(node, 0, node.size)
    deep = xfs.open_fs(vol.patched(_inode_offset(fs, node.ref) + 176, b"\x00\xc8"))
    with pytest.raises(FsCorrupt, match="level 200"):
        deep.read(node, 0, 10)
    wrong_magic = xfs.open_fs(vol.patched(leaf_at, b"XXXX"))
    with pytest.raises(FsCorrupt, match="magic"):
        wrong_magic.read(node, 0, 10)


def test_corrupt_directories_are_refused():
    vol, fs = _fs5()
    short = walk(fs, "dirs/short")
    bad = xfs.open_fs(vol.patched(_inode_offset(fs, short.ref) + 176, b"\xff"))  # count 255
    with pytest.raises(FsCorrupt, match="shortform"):
        bad.entries(short)
    block = walk(fs, "dirs/block")
    first = next(fs._extents(fs.inode(block.ref), 0, 1))
    at = fs._fsblock_offset(first.fsblock, 1, "t")
    # the first entry (".") claims a 255-byte name that would run past the block's data area
    bad = xfs.open_fs(vol.patched(at + 64 + 8, b"\xff").patched(at + 4096 - 8, b"\x00\x00\x01\xff"))
    with pytest.raises(FsCorrupt):
        bad.lookup(block, "entry-number-40")
    bad = xfs.open_fs(vol.patched(at, b"QQQQ"))
    with pytest.raises(FsCorrupt, match="magic"):
        bad.entries(block)


def test_huge_directory_is_cut_or_refused_not_walked(monkeypatch):
    vol, fs = _fs5()
    directory = walk(fs, "dirs/node")
    monkeypatch.setattr(xfs, "MAX_DIR_BLOCKS", 4)
    names = fs.entries(directory, limit=10_000)
    assert 0 < len(names) < 3000
    before = vol.reads
    with pytest.raises(BudgetExceeded, match="directory blocks"):
        fs.lookup(directory, "node-entry-with-a-longer-name-2999")
    assert vol.reads - before < 20


def test_realtime_files_are_refused():
    vol, fs = _fs5()
    node = walk(fs, "big.txt")
    flags_at = _inode_offset(fs, node.ref) + 90
    bad = xfs.open_fs(vol.patched(flags_at, b"\x00\x01"))
    with pytest.raises(FsCorrupt, match="realtime"):
        bad.read(node, 0, 10)


def test_symlink_with_absurd_length_is_refused():
    vol, fs = _fs5()
    link = walk(fs, "remote-link")
    bad = xfs.open_fs(vol.patched(_inode_offset(fs, link.ref) + 56, struct.pack(">Q", 1 << 40)))
    with pytest.raises(FsCorrupt, match="target length"):
        bad.readlink(bad._node(link.ref))


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_random_metadata_damage_never_escapes_the_reader(name):
    clean = volume(name)
    random_damage_never_escapes(clean, sorted(clean.blocks)[:200], xfs.open_fs, seed=11)


def test_reads_are_clipped_and_capped(monkeypatch):
    _vol, fs = _fs5()
    frag = walk(fs, "frag.bin")
    assert fs.read(frag, -1, 10) == b"" and fs.read(frag, frag.size, 10) == b""
    monkeypatch.setattr(xfs, "MAX_READ", 1000)
    assert len(fs.read(frag, 0, frag.size)) == 1000


def test_directory_block_of_another_inode_is_refused():
    vol, fs = _fs5()
    block = walk(fs, "dirs/block")
    first = next(fs._extents(fs.inode(block.ref), 0, 1))
    at = fs._fsblock_offset(first.fsblock, 1, "t")
    bad = xfs.open_fs(vol.patched(at + 40, struct.pack(">Q", 99)))
    with pytest.raises(FsCorrupt, match="belongs to inode 99"):
        bad.entries(block)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.booleans())
def test_directory_parsers_on_noise_raise_only_fs_corrupt(data, ftype):
    try:
        xfs_dir.shortform(data, len(data), ftype, "t")
    except FsCorrupt:
        pass
    block = (b"XD2D" + data).ljust(4096, b"\0")
    try:
        for name, _ino in xfs_dir.data_block_entries(block, ftype, 0, "t"):
            assert 0 < len(name.encode("utf-8", "surrogateescape")) <= 255
    except FsCorrupt:
        pass


def test_ascii_ci_file_systems_say_they_fold_case():
    vol, _fs = _fs5()
    versionnum = struct.unpack_from(">H", vol.read(0, 512), 100)[0]
    folded = xfs.open_fs(_sb_patched(vol, 100, struct.pack(">H", versionnum | 0x4000)))
    assert folded.case_sensitive is False and xfs.open_fs(vol).case_sensitive is True
