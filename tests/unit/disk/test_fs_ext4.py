"""The ext2/3/4 reader on real file systems made by mkfs.ext4 -d (tests/fixtures/guests)."""

from __future__ import annotations

import hashlib
import struct
import uuid

import pytest

from imagedrop_disk.errors import FsCorrupt
from imagedrop_disk.fs import ext4_htree as htree
from imagedrop_disk.fs import ext4_layout as L
from imagedrop_disk.fs.ext4 import Ext4, open_fs

from guest_helpers import EXT4_EXPECTED, open_fixture, pattern


def _root(name: str) -> Ext4:
    _, opened = open_fixture(name)
    assert opened.files is not None
    fs = opened.files.root_fs
    assert isinstance(fs, Ext4)
    return fs


def _node(fs: Ext4, path: str):
    node = fs.root()
    for part in path.strip("/").split("/"):
        node = fs.lookup(node, part)
        assert node is not None, part
    return node


def test_ext4_4k_64bit_superblock_uuid_label_and_kind():
    fs = _root("ubuntu-gpt-ext4.qcow2")
    assert (fs.kind, fs.uuid, fs.label) == ("ext4", "11111111-2222-3333-4444-555555555555",
                                            "rootfs")
    assert fs.sb.block_size == 4096 and fs.sb.desc_size == 64
    assert fs.sb.incompat & L.INCOMPAT_64BIT


def test_htree_directory_is_read_linearly_and_finds_every_name():
    fs = _root("ubuntu-gpt-ext4.qcow2")
    many = _node(fs, "usr/share/many")
    assert fs.inode(many.ref).flags & L.FLAG_INDEX  # e2fsck -D made it an htree
    names = fs.entries(many)
    assert len(names) == 3000 and set(names) == {f"entry-{i:04d}" for i in range(3000)}
    assert fs.lookup(many, "entry-1234").kind == "file"
    assert fs.lookup(many, "entry-3000") is None
    assert len(fs.entries(many, limit=10)) == 10


def test_ext2_block_map_reads_direct_single_and_double_indirect_blocks():
    _, opened = open_fixture("el8-arm64-mbr-boot.qcow2")
    boot = opened.files.mounts[("boot",)]
    assert (boot.kind, boot.sb.block_size) == ("ext2", 1024)
    name = "vmlinuz-4.18.0-513.5.1.el8_9.aarch64"
    node = _node(boot, name)
    assert not boot.inode(node.ref).flags & L.FLAG_EXTENTS
    data = boot.read(node, 0, node.size)
    assert data == pattern(name, 300000)  # 12 direct + 256 single + double-indirect blocks
    assert hashlib.sha256(data).hexdigest() == EXT4_EXPECTED["pattern_sha256"][name]
    assert boot.read(node, 280 * 1024 + 5, 10) == pattern(name, 300000)[280 * 1024 + 5:][:10]
    assert boot.read(node, 300000, 10) == b""


def test_ext3_root_has_a_journal_and_no_extents():
    fs = _root("el8-arm64-mbr-boot.qcow2")
    assert fs.kind == "ext3" and fs.label == "root"
    assert not fs.inode(_node(fs, "etc/fstab").ref).flags & L.FLAG_EXTENTS


def test_inline_data_files_and_directories():
    fs = _root("fedora-bare-inline.qcow2")
    assert fs.sb.incompat & L.INCOMPAT_INLINE_DATA
    node = _node(fs, "etc/inline-90")
    assert fs.inode(node.ref).flags & L.FLAG_INLINE_DATA
    assert fs.read(node, 0, 200) == pattern("inline-90", 90)  # i_block + system.data
    assert fs.read(node, 70, 5) == pattern("inline-90", 90)[70:75]
    usr = _node(fs, "usr")
    assert fs.inode(usr.ref).flags & L.FLAG_INLINE_DATA
    assert sorted(fs.entries(usr)) == ["bin", "lib"]


def test_a_two_level_extent_tree_of_400_fragments_with_holes():
    fs = _root("leap-bare-fragmented.qcow2")
    node = _node(fs, "var/tmp/fragmented")
    inode = fs.inode(node.ref)
    _, depth = L.extent_header(inode.block, "root")
    assert depth == 2
    data = fs.read(node, 0, node.size)
    assert len(data) == 399 * 2048 + 1024
    for i in (0, 1, 83, 84, 200, 399):
        want = hashlib.sha256(f"fragment:{i}".encode()).digest() * 32
        assert data[i * 2048:i * 2048 + 1024] == want
        assert data[i * 2048 + 1024:i * 2048 + 2048] == bytes(len(data[i * 2048 + 1024:
                                                                       i * 2048 + 2048]))


def test_fast_and_slow_symlinks_as_stored():
    fs = _root("ubuntu-gpt-ext4.qcow2")
    assert fs.readlink(_node(fs, "bin")) == "usr/bin"
    assert fs.readlink(fs.lookup(_node(fs, "etc"), "os-release")) == "../usr/lib/os-release"
    up = fs.lookup(_node(fs, "etc"), "up-link")
    assert fs.readlink(up) == "../../../../../../usr/lib/os-release"  # 36 bytes: fast


def test_not_ext_is_none_and_a_bad_superblock_is_corrupt():
    class Bytes:
        def __init__(self, data: bytes):
            self.data = data
            self.size = len(data)

        def read(self, offset: int, length: int) -> bytes:
            return self.data[offset:offset + length]

    assert open_fs(Bytes(bytes(8192))) is None
    sb = bytearray(8192)
    struct.pack_into("<H", sb, 1024 + 0x38, L.MAGIC)
    struct.pack_into("<I", sb, 1024 + 0x18, 9)  # 512 KiB blocks
    with pytest.raises(FsCorrupt, match="block size"):
        open_fs(Bytes(bytes(sb)))
    struct.pack_into("<I", sb, 1024 + 0x18, 2)
    struct.pack_into("<IIII", sb, 1024, 64, 1000, 0, 0)
    struct.pack_into("<I", sb, 1024 + 0x20, 0)  # no blocks per group
    with pytest.raises(FsCorrupt, match="per group"):
        open_fs(Bytes(bytes(sb)))


@pytest.mark.parametrize("name, path, why", [
    ("hostile-badmagic.qcow2", "usr/lib/os-release", "extent header magic"),
    ("hostile-pastend.qcow2", "usr/lib/os-release", "ends past the file system"),
])
def test_corrupt_extents_raise_fs_corrupt_naming_the_inode(name, path, why):
    fs = _root(name)
    node = _node(fs, path)
    with pytest.raises(FsCorrupt, match=why) as err:
        fs.read(node, 0, 100)
    assert f"inode {node.ref}" in str(err.value)


def test_a_wrong_depth_in_an_extent_tree_is_corrupt():
    fs = _root("hostile-baddepth.qcow2")
    with pytest.raises(FsCorrupt, match="extent tree"):
        _node(fs, "usr/lib/os-release")


def test_meta_bg_descriptors_of_groups_past_the_first_meta_group():
    fs = _root("rocky-bare-metabg.qcow2")
    assert fs.sb.incompat & L.INCOMPAT_META_BG and fs.sb.first_meta_bg == 0
    spread = _node(fs, "usr/share/spread")
    groups = set()
    for i in (0, 100, 199):
        node = fs.lookup(spread, f"f{i:03d}")
        groups.add((node.ref - 1) // fs.sb.inodes_per_group)
        assert fs.read(node, 0, 100) == f"file {i:03d}\n".encode()
    per_meta_group = fs.sb.block_size // fs.sb.desc_size
    assert max(groups) >= per_meta_group  # a descriptor outside the first meta group was used


@pytest.mark.parametrize("vector", EXT4_EXPECTED["dx_hash"], ids=lambda v: v["hash"])
def test_directory_hash_matches_e2fsprogs(vector):
    seed = struct.unpack("<4I", uuid.UUID(EXT4_EXPECTED["dx_hash_seed"]).bytes)
    version = {"legacy": htree.LEGACY, "half_md4": htree.HALF_MD4, "tea": htree.TEA}
    assert htree.name_hash(vector["name"].encode(), version[vector["hash"]], seed) \
        == int(vector["value"], 16)


def test_htree_lookup_reads_the_index_and_one_leaf_not_the_whole_directory(monkeypatch):
    fs = _root("ubuntu-gpt-ext4.qcow2")
    many = _node(fs, "usr/share/many")
    total = -(-many.size // fs.sb.block_size)
    assert total >= 8
    blocks: list[int] = []
    real = fs._block

    def counted(block: int, where: str) -> bytes:
        blocks.append(block)
        return real(block, where)

    monkeypatch.setattr(fs, "_block", counted)
    for i in range(0, 3000, 7):
        blocks.clear()
        assert fs.lookup(many, f"entry-{i:04d}") is not None
        assert len(blocks) <= 3
    blocks.clear()
    assert fs.lookup(many, "absent") is None and len(blocks) <= 3
