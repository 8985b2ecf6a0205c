"""ext2/3/4 on-disk structures: the superblock, inodes, extent trees, block maps, directory
entries and in-inode extended attributes. Pure parsing; `ext4.py` does the reading."""

from __future__ import annotations

import struct
import uuid as uuidlib
from dataclasses import dataclass

from ..errors import FsCorrupt
from .api import MAX_NAME

MAGIC = 0xEF53
EXTENT_MAGIC = 0xF30A
XATTR_MAGIC = 0xEA020000

COMPAT_HAS_JOURNAL = 0x4
COMPAT_DIR_INDEX = 0x20
INCOMPAT_COMPRESSION = 0x1
INCOMPAT_FILETYPE = 0x2
INCOMPAT_JOURNAL_DEV = 0x8
INCOMPAT_META_BG = 0x10
INCOMPAT_EXTENTS = 0x40
INCOMPAT_64BIT = 0x80
INCOMPAT_INLINE_DATA = 0x8000
INCOMPAT_ENCRYPT = 0x10000
EXT4_ONLY_INCOMPAT = 0x40 | 0x80 | 0x200 | 0x400 | 0x1000 | 0x8000  # extents…inline_data
EXT4_ONLY_RO_COMPAT = 0x8 | 0x10 | 0x20 | 0x40 | 0x400      # huge_file…metadata_csum
RO_COMPAT_SPARSE_SUPER = 0x1
RO_COMPAT_HUGE_FILE = 0x8

FLAG_INDEX = 0x1000
FLAG_HUGE_FILE = 0x40000
FLAG_EXTENTS = 0x80000
FLAG_EA_INODE = 0x200000
FLAG_INLINE_DATA = 0x10000000

KINDS = {0x4000: "dir", 0x8000: "file", 0xA000: "symlink"}


@dataclass(frozen=True)
class Superblock:
    block_size: int
    blocks_count: int
    first_data_block: int
    blocks_per_group: int
    inodes_per_group: int
    inodes_count: int
    inode_size: int
    desc_size: int
    compat: int
    incompat: int
    ro_compat: int
    first_meta_bg: int
    uuid: str
    label: str | None
    hash_seed: tuple[int, ...] = (0, 0, 0, 0)
    flags: int = 0

    @property
    def groups(self) -> int:
        return -(-(self.blocks_count - self.first_data_block) // self.blocks_per_group)

    @property
    def kind(self) -> str:
        if self.incompat & EXT4_ONLY_INCOMPAT or self.ro_compat & EXT4_ONLY_RO_COMPAT:
            return "ext4"
        return "ext3" if self.compat & COMPAT_HAS_JOURNAL else "ext2"


def parse_superblock(raw: bytes) -> Superblock | None:
    """The superblock (1024 bytes at byte 1024), None without the ext magic."""
    if len(raw) < 1024 or struct.unpack_from("<H", raw, 0x38)[0] != MAGIC:
        return None
    inodes_count, blocks_lo = struct.unpack_from("<II", raw, 0)
    first_data, log_block, _, per_group, _, inodes_per_group = struct.unpack_from("<6I", raw, 0x14)
    rev, = struct.unpack_from("<I", raw, 0x4C)
    inode_size, = struct.unpack_from("<H", raw, 0x58)
    compat, incompat, ro_compat = struct.unpack_from("<III", raw, 0x5C)
    desc_size, = struct.unpack_from("<H", raw, 0xFE)
    first_meta_bg, = struct.unpack_from("<I", raw, 0x104)
    where = "ext superblock"
    if log_block > 6:
        raise FsCorrupt(f"{where}: block size 1024<<{log_block} is over 64 KiB")
    block_size = 1024 << log_block
    if incompat & INCOMPAT_JOURNAL_DEV:
        return None  # an external journal, not a file system
    blocks = blocks_lo
    if incompat & INCOMPAT_64BIT:
        blocks |= struct.unpack_from("<I", raw, 0x150)[0] << 32
        if desc_size < 64 or desc_size > 1024 or desc_size & (desc_size - 1):
            raise FsCorrupt(f"{where}: descriptor size {desc_size} with the 64bit feature")
    else:
        desc_size = 32
    if rev == 0:
        inode_size = 128
    if inode_size < 128 or inode_size > block_size or inode_size & (inode_size - 1):
        raise FsCorrupt(f"{where}: inode size {inode_size} (block size {block_size})")
    if not 0 < per_group <= block_size * 8 or not 0 < inodes_per_group <= block_size * 8:
        raise FsCorrupt(f"{where}: {per_group} blocks and {inodes_per_group} inodes per group "
                        f"(at most {block_size * 8})")
    if first_data >= blocks or inodes_count == 0:
        raise FsCorrupt(f"{where}: {blocks} blocks from block {first_data}, "
                        f"{inodes_count} inodes")
    label = raw[0x78:0x88].split(b"\0", 1)[0].decode("utf-8", "replace") or None
    return Superblock(block_size, blocks, first_data, per_group, inodes_per_group, inodes_count,
                      inode_size, desc_size, compat, incompat, ro_compat, first_meta_bg,
                      str(uuidlib.UUID(bytes=raw[0x68:0x78])), label,
                      struct.unpack_from("<4I", raw, 0xEC), struct.unpack_from("<I", raw, 0x160)[0])


@dataclass(frozen=True)
class Inode:
    number: int
    mode: int
    size: int
    flags: int
    blocks: int             # in 512-byte units
    block: bytes            # i_block, 60 bytes
    file_acl: int
    xattrs: bytes           # the in-inode extended-attribute area (after i_extra_isize)

    @property
    def kind(self) -> str:
        return KINDS.get(self.mode & 0xF000, "other")


def parse_inode(number: int, raw: bytes, sb: Superblock) -> Inode:
    mode, = struct.unpack_from("<H", raw, 0)
    size_lo, = struct.unpack_from("<I", raw, 0x04)
    blocks_lo, flags = struct.unpack_from("<II", raw, 0x1C)
    acl_lo, size_hi = struct.unpack_from("<II", raw, 0x68)
    blocks_hi, acl_hi = struct.unpack_from("<HH", raw, 0x74)
    blocks = blocks_lo | blocks_hi << 32 if sb.ro_compat & RO_COMPAT_HUGE_FILE else blocks_lo
    if flags & FLAG_HUGE_FILE:
        blocks *= sb.block_size // 512
    xattrs = b""
    if len(raw) > 128:
        extra, = struct.unpack_from("<H", raw, 0x80)
        if 128 + extra + 4 <= len(raw) and extra % 4 == 0:
            xattrs = raw[128 + extra:]
    return Inode(number, mode, size_lo | size_hi << 32, flags, blocks, raw[0x28:0x28 + 60],
                 acl_lo | acl_hi << 32, xattrs)


def inline_data_xattr(inode: Inode) -> bytes:
    """The value of `system.data` (name index 7, name "data") in the inode's own xattr area."""
    area = inode.xattrs
    if len(area) < 4 or struct.unpack_from("<I", area, 0)[0] != XATTR_MAGIC:
        return b""
    entries = area[4:]
    off = 0
    while off + 16 <= len(entries) and entries[off:off + 4] != b"\0\0\0\0":
        name_len, index, value_off = struct.unpack_from("<BBH", entries, off)
        value_inum, value_size = struct.unpack_from("<II", entries, off + 4)
        name = entries[off + 16:off + 16 + name_len]
        if index == 7 and name == b"data" and value_inum == 0:
            if value_off + value_size > len(entries):
                raise FsCorrupt(f"inode {inode.number}: system.data xattr value "
                                f"({value_off}+{value_size}) lies outside the inode")
            return entries[value_off:value_off + value_size]
        off += (16 + name_len + 3) & ~3
    return b""


def extent_header(node: bytes, where: str) -> tuple[int, int]:
    """(entries, depth) of an extent tree node, checked against the node's room."""
    if len(node) < 12:
        raise FsCorrupt(f"{where}: extent node of {len(node)} bytes")
    magic, entries, most, depth = struct.unpack_from("<HHHH", node, 0)
    if magic != EXTENT_MAGIC:
        raise FsCorrupt(f"{where}: extent header magic {magic:#06x}, not 0xf30a")
    room = (len(node) - 12) // 12
    if entries > most or most > room:
        raise FsCorrupt(f"{where}: extent node claims {entries} of {most} entries; it has room "
                        f"for {room}")
    return entries, depth


def dirents(area: bytes, filetype: bool, where: str) -> list[tuple[int, bytes]]:
    """(inode, name) of the live entries of one directory block (or inline area)."""
    out: list[tuple[int, bytes]] = []
    off = 0
    while off + 8 <= len(area):
        ino, rec_len, name_len = struct.unpack_from("<IHH", area, off)
        if filetype:
            name_len &= 0xFF
        if rec_len < 8 or rec_len % 4 or off + rec_len > len(area) or name_len > rec_len - 8:
            raise FsCorrupt(f"{where}: directory entry at byte {off} has record length "
                            f"{rec_len} and name length {name_len}")
        if ino and name_len and name_len <= MAX_NAME:
            out.append((ino, area[off + 8:off + 8 + name_len]))
        off += rec_len
    return out
