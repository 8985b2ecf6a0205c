"""ext2 / ext3 / ext4, read-only: superblock, group descriptors, inodes of any size, extent
trees and legacy block maps, linear and htree directories (read linearly), inline data, fast and
slow symlinks. Every walk is bounded; an impossible structure raises FsCorrupt naming it."""

from __future__ import annotations

import struct
from collections import OrderedDict

from ..errors import FsCorrupt
from . import ext4_htree as htree
from . import ext4_layout as L
from ..work import work_of
from .api import MAX_DIR_BLOCKS, MAX_DIR_ENTRIES, MAX_SYMLINK, MAX_TREE_DEPTH, Node, Volume

MAX_INODES_CACHED = 512
MAX_DIR_SIZE = 1 << 32     # even a largedir htree stays below this
ROOT_INODE = 2
INODE_UNINIT = 0x1


def open_fs(volume: Volume) -> Ext4 | None:
    if volume.size < 2048:
        return None
    sb = L.parse_superblock(volume.read(1024, 1024))
    return None if sb is None else Ext4(volume, sb)


class Ext4:
    case_sensitive = True

    def __init__(self, volume: Volume, sb: L.Superblock):
        self.volume = volume
        self.work = work_of(volume)
        self.sb = sb
        self.kind = sb.kind
        self.uuid: str | None = sb.uuid
        self.label = sb.label
        self._inodes: OrderedDict[int, L.Inode] = OrderedDict()
        self._filetype = bool(sb.incompat & L.INCOMPAT_FILETYPE)

    # -- FileSystem ---------------------------------------------------------------------------
    def root(self) -> Node:
        return self._node(self.inode(ROOT_INODE))

    def lookup(self, directory: Node, name: str) -> Node | None:
        want = name.encode("utf-8", "surrogateescape")
        inode = self.inode(_ino(directory))
        hashed = self._hashed_blocks(inode, want)
        found = (self._walk_dir(inode) if hashed is None else
                 (e for lblk in hashed for e in self._dir_block(inode, lblk)))
        for ino, entry in found:
            if entry == want:
                return self._node(self.inode(ino, f"the entry {name!r}"))
        return None

    def entries(self, directory: Node, limit: int = MAX_DIR_ENTRIES) -> list[str]:
        out: list[str] = []
        for _, entry in self._walk_dir(self.inode(_ino(directory))):
            if entry not in (b".", b".."):
                out.append(entry.decode("utf-8", "surrogateescape"))
                if len(out) >= limit:
                    break
        return out

    def read(self, node: Node, offset: int, length: int) -> bytes:
        inode = self.inode(_ino(node))
        end = min(inode.size, offset + max(0, length))
        if offset < 0 or offset >= end:
            return b""
        if inode.flags & L.FLAG_INLINE_DATA:
            return self._inline(inode)[offset:end]
        bs = self.sb.block_size
        out = bytearray()
        pos = offset
        while pos < end:
            lblk = pos // bs
            pblk, run = self._map(inode, lblk)
            span_end = min(end, (lblk + run) * bs)
            if pblk is None:
                out += bytes(span_end - pos)
            else:
                out += self._bytes(pblk * bs + pos - lblk * bs, span_end - pos,
                                   f"inode {inode.number}")
            pos = span_end
        return bytes(out)

    def readlink(self, node: Node) -> str:
        inode = self.inode(_ino(node))
        if inode.kind != "symlink":
            raise FsCorrupt(f"inode {inode.number} is not a symlink")
        if inode.size > MAX_SYMLINK:
            raise FsCorrupt(f"symlink inode {inode.number}: target of {inode.size} bytes")
        ea_blocks = self.sb.block_size // 512 if inode.file_acl else 0
        if not inode.flags & (L.FLAG_INLINE_DATA | L.FLAG_EA_INODE) \
                and inode.blocks - ea_blocks <= 0:
            if inode.size >= 60:
                raise FsCorrupt(f"symlink inode {inode.number}: fast symlink of {inode.size} "
                                f"bytes (at most 59)")
            target = inode.block[:inode.size]
        else:
            target = self.read(node, 0, inode.size)
        return target.decode("utf-8", "surrogateescape")

    # -- inodes -------------------------------------------------------------------------------
    def inode(self, number: int, what: str = "") -> L.Inode:
        cached = self._inodes.get(number)
        if cached is not None:
            return cached
        sb = self.sb
        if not 1 <= number <= sb.inodes_count:
            raise FsCorrupt(f"inode {number}{' (' + what + ')' if what else ''} is outside "
                            f"1..{sb.inodes_count}")
        group, index = divmod(number - 1, sb.inodes_per_group)
        table, flags = self._group(group)
        if flags & INODE_UNINIT:
            raise FsCorrupt(f"inode {number} is in group {group}, whose inode table is unused")
        raw = self._bytes(table * sb.block_size + index * sb.inode_size, sb.inode_size,
                          f"inode {number}")
        inode = L.parse_inode(number, raw, sb)
        self._inodes[number] = inode
        if len(self._inodes) > MAX_INODES_CACHED:
            self._inodes.popitem(last=False)
        return inode

    def _group(self, group: int) -> tuple[int, int]:
        """(inode table block, bg_flags) of a block group."""
        sb = self.sb
        per_block = sb.block_size // sb.desc_size
        if sb.incompat & L.INCOMPAT_META_BG and group // per_block >= sb.first_meta_bg:
            first = group // per_block * per_block
            block = sb.first_data_block + first * sb.blocks_per_group
            block += 1 if _has_backup(first, sb) else 0
            if sb.block_size == 1024 and first == 0 and sb.first_data_block == 0:
                block += 1  # 1 KiB blocks from block 0 (bigalloc): group 0's GDT is at block 2
            at = block * sb.block_size + group % per_block * sb.desc_size
        else:
            at = (sb.first_data_block + 1) * sb.block_size + group * sb.desc_size
        raw = self._bytes(at, sb.desc_size, f"group descriptor {group}")
        table, = struct.unpack_from("<I", raw, 0x8)
        flags, = struct.unpack_from("<H", raw, 0x12)
        if sb.desc_size >= 64:
            table |= struct.unpack_from("<I", raw, 0x28)[0] << 32
        table_blocks = -(-sb.inodes_per_group * sb.inode_size // sb.block_size)
        if table == 0 or table + table_blocks > sb.blocks_count:
            raise FsCorrupt(f"group descriptor {group}: inode table at block {table} lies "
                            f"outside the file system ({sb.blocks_count} blocks)")
        return table, flags

    def _node(self, inode: L.Inode) -> Node:
        return Node(inode.number, inode.kind, inode.size)  # type: ignore[arg-type]

    # -- block mapping ------------------------------------------------------------------------
    def _map(self, inode: L.Inode, lblk: int) -> tuple[int | None, int]:
        """(physical block or None for a hole, blocks in this run from lblk)."""
        if inode.flags & L.FLAG_EXTENTS:
            return self._extent(inode, lblk)
        return self._blockmap(inode, lblk), 1

    def _extent(self, inode: L.Inode, lblk: int) -> tuple[int | None, int]:
        where = f"inode {inode.number} extent tree"
        node = inode.block
        entries, depth = L.extent_header(node, where)
        if depth > MAX_TREE_DEPTH:
            raise FsCorrupt(f"{where}: depth {depth}")
        next_start = 1 << 32
        for _ in range(MAX_TREE_DEPTH + 1):
            if depth == 0:
                return _leaf(node, entries, lblk, next_start, self.sb.blocks_count, where)
            chosen = -1
            for i in range(entries):
                first, = struct.unpack_from("<I", node, 12 + i * 12)
                if first <= lblk:
                    chosen = i
                else:
                    next_start = min(next_start, first)
                    break
            if chosen < 0:
                return None, max(1, min(next_start, 1 << 32) - lblk)
            lo, hi = struct.unpack_from("<IH", node, 12 + chosen * 12 + 4)
            child = lo | hi << 32
            node = self._block(child, where)
            entries, child_depth = L.extent_header(node, f"{where}, block {child}")
            if child_depth != depth - 1:
                raise FsCorrupt(f"{where}: block {child} is at depth {child_depth} under a "
                                f"node of depth {depth}")
            depth = child_depth
        raise FsCorrupt(f"{where}: deeper than {MAX_TREE_DEPTH} levels")

    def _blockmap(self, inode: L.Inode, lblk: int) -> int | None:
        per = self.sb.block_size // 4
        slots = struct.unpack("<15I", inode.block)
        if lblk < 12:
            return self._checked(slots[lblk], inode) or None
        lblk -= 12
        for level, slot in ((1, 12), (2, 13), (3, 14)):
            span = per ** level
            if lblk < span:
                block = slots[slot]
                for depth in range(level, 0, -1):
                    if not self._checked(block, inode):
                        return None
                    table = self._block(block, f"inode {inode.number} indirect block")
                    index = lblk // per ** (depth - 1) % per
                    block, = struct.unpack_from("<I", table, index * 4)
                return self._checked(block, inode) or None
            lblk -= span
        return None

    def _checked(self, block: int, inode: L.Inode) -> int:
        if block >= self.sb.blocks_count:
            raise FsCorrupt(f"inode {inode.number}: block {block} is past the end of the file "
                            f"system ({self.sb.blocks_count} blocks)")
        return block

    # -- directories --------------------------------------------------------------------------
    def _hashed_blocks(self, inode: L.Inode, name: bytes) -> list[int] | None:
        """The blocks an htree index says may hold `name`; None to read the directory whole."""
        if inode.kind != "dir" or not inode.flags & L.FLAG_INDEX \
                or not self.sb.compat & L.COMPAT_DIR_INDEX \
                or inode.flags & L.FLAG_INLINE_DATA or inode.size < 2 * self.sb.block_size:
            return None
        unsigned = bool(self.sb.flags & htree.FLAG_UNSIGNED_HASH)
        root = self._dir_bytes(inode, 0)
        if root is None:
            return None
        return htree.leaf_blocks(root, name, self.sb.hash_seed, unsigned,
                                 lambda lblk: self._dir_bytes(inode, lblk) or b"")

    def _dir_bytes(self, inode: L.Inode, lblk: int) -> bytes | None:
        if lblk * self.sb.block_size >= inode.size:
            raise FsCorrupt(f"directory inode {inode.number}: its index points at block {lblk}, "
                            f"past its {inode.size} bytes")
        pblk, _ = self._map(inode, lblk)
        return None if pblk is None else self._block(pblk, f"directory inode {inode.number}")

    def _dir_block(self, inode: L.Inode, lblk: int) -> list[tuple[int, bytes]]:
        data = self._dir_bytes(inode, lblk)
        where = f"directory inode {inode.number}, block {lblk}"
        return [] if data is None else self._dirents(data, where)

    def _walk_dir(self, inode: L.Inode):
        if inode.kind != "dir":
            return
        where = f"directory inode {inode.number}"
        if inode.flags & L.FLAG_INLINE_DATA:
            yield from self._dirents(inode.block[4:60], where)
            yield from self._dirents(L.inline_data_xattr(inode), where)
            return
        bs = self.sb.block_size
        blocks = -(-inode.size // bs)
        if inode.size > MAX_DIR_SIZE:
            raise FsCorrupt(f"{where} claims {inode.size} bytes (some {inode.size // 12} "
                            f"entries), over the {MAX_DIR_SIZE} a directory can have")
        seen = steps = 0
        lblk = 0
        while lblk < blocks:
            steps += 1
            if steps > 4 * MAX_DIR_BLOCKS:
                raise FsCorrupt(f"{where} claims {inode.size} bytes, mostly holes: not read "
                                f"past block {lblk}")
            pblk, run = self._map(inode, lblk)
            if pblk is None:
                lblk += run
                continue
            for i in range(min(run, blocks - lblk)):
                if seen >= MAX_DIR_BLOCKS:
                    raise FsCorrupt(f"{where} has {blocks} blocks: only the first "
                                    f"{MAX_DIR_BLOCKS} were read")
                seen += 1
                data = self._block(pblk + i, where)
                yield from self._dirents(data, f"{where}, block {lblk + i}")
            lblk += run

    def _dirents(self, area: bytes, where: str) -> list[tuple[int, bytes]]:
        found = L.dirents(area, self._filetype, where)
        self.work.charge("entries", max(1, len(found)))   # a block of deleted entries costs too
        return found

    def _inline(self, inode: L.Inode) -> bytes:
        return inode.block + L.inline_data_xattr(inode)

    # -- bytes --------------------------------------------------------------------------------
    def _block(self, block: int, where: str) -> bytes:
        if block == 0 or block >= self.sb.blocks_count:
            raise FsCorrupt(f"{where}: block {block} is outside the file system "
                            f"({self.sb.blocks_count} blocks)")
        return self._bytes(block * self.sb.block_size, self.sb.block_size, where)

    def _bytes(self, offset: int, length: int, where: str) -> bytes:
        data = self.volume.read(offset, length)
        if len(data) < length:
            raise FsCorrupt(f"{where}: bytes {offset}..{offset + length} lie past the end of "
                            f"the volume ({self.volume.size} bytes): it is truncated")
        return data


def _leaf(node: bytes, entries: int, lblk: int, next_start: int, blocks_count: int,
          where: str) -> tuple[int | None, int]:
    for i in range(entries):
        first, length, hi, lo = struct.unpack_from("<IHHI", node, 12 + i * 12)
        unwritten = length > 32768
        if unwritten:
            length -= 32768
        if lblk < first:
            return None, first - lblk
        if lblk < first + length:
            start = lo | hi << 32
            if start + length > blocks_count:
                raise FsCorrupt(f"{where}: extent {start}+{length} ends past the file system "
                                f"({blocks_count} blocks)")
            run = first + length - lblk
            return (None if unwritten else start + lblk - first), run
    return None, max(1, next_start - lblk)


def _has_backup(group: int, sb: L.Superblock) -> bool:
    if not sb.ro_compat & L.RO_COMPAT_SPARSE_SUPER or group <= 1:
        return True
    for base in (3, 5, 7):
        n = base
        while n < group:
            n *= base
        if n == group:
            return True
    return False


def _ino(node: Node) -> int:
    if not isinstance(node.ref, int):
        raise FsCorrupt(f"not an ext inode reference: {node.ref!r}")
    return node.ref
