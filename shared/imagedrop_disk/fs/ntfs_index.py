"""NTFS directory indexes ($I30): lookup down the B+ tree and a bounded in-order listing.

Names compare as NTFS collates them: each UTF-16 unit upcased, then ordinal. The upcase here is
Python's per-character `upper()` where it maps one character to one (exact for ASCII, close for
the rest of the BMP) instead of the volume's `$UpCase` table; a lookup of a non-ASCII name that
misses on the way down is retried by a bounded full walk, so collation differences cannot hide an
entry.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..errors import FsCorrupt
from .api import MAX_DIR_BLOCKS, MAX_TREE_DEPTH
from .ntfs_records import DataStream, apply_fixups

HAS_SUBNODE, LAST = 0x1, 0x2
DOS_NAMESPACE = 2
BLOCK_CACHE = 32                # index blocks one volume keeps (128 KiB at 4 KiB blocks)


@dataclass(frozen=True)
class Entry:
    ref: int                    # file reference: record number | sequence << 48
    name: str | None            # None for the last entry of a node
    namespace: int
    subnode: int | None         # VCN of the child node


@dataclass
class Index:
    """One directory's $I30 index: the root node's bytes and the allocation stream, if any."""

    what: str
    root: bytes
    block_size: int
    vcn_unit: int
    allocation: DataStream | None
    cache: dict[tuple[str, int], bytes]  # index blocks after fix-ups, shared by a volume's lookups
    blocks_read: int = 0

    def root_entries(self) -> list[Entry]:
        return _entries(self.root, 16, f"{self.what} $INDEX_ROOT")

    def child(self, vcn: int, seen: set[int]) -> list[Entry]:
        if self.allocation is None:
            raise FsCorrupt(f"{self.what}: an index entry points to sub-node VCN {vcn} but the "
                            f"directory has no $INDEX_ALLOCATION")
        if vcn in seen:
            raise FsCorrupt(f"{self.what}: index sub-node VCN {vcn} is visited twice (a loop)")
        seen.add(vcn)
        self.blocks_read += 1
        if self.blocks_read > MAX_DIR_BLOCKS:
            raise FsCorrupt(f"{self.what}: the index needs more than {MAX_DIR_BLOCKS} blocks")
        block = self.cache.get((self.what, vcn))
        if block is None:
            block = self._block(vcn)
            if len(self.cache) >= BLOCK_CACHE:
                self.cache.pop(next(iter(self.cache)))
            self.cache[(self.what, vcn)] = block
        return _entries(block, 0x18, f"{self.what} index block VCN {vcn}")

    def _block(self, vcn: int) -> bytes:
        assert self.allocation is not None
        raw = self.allocation.read(vcn * self.vcn_unit, self.block_size)
        if len(raw) < self.block_size:
            raise FsCorrupt(f"{self.what}: index block at VCN {vcn} lies past the allocation")
        block = apply_fixups(raw, b"INDX", f"{self.what} index block VCN {vcn}")
        if struct.unpack_from("<Q", block, 16)[0] != vcn:
            raise FsCorrupt(f"{self.what}: index block at VCN {vcn} says it is another VCN")
        return block


def fold(name: str) -> str:
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in name)


def find(index: Index, name: str) -> int | None:
    """The file reference of `name`, walking down the tree as the collation says."""
    target = fold(name)
    entries, seen = index.root_entries(), set[int]()
    for _depth in range(MAX_TREE_DEPTH + 1):
        descend = None
        for entry in entries:
            if entry.name is not None:
                key = fold(entry.name)
                if key == target:
                    return entry.ref
                if target > key:
                    continue
            descend = entry.subnode
            break
        if descend is None:
            break
        entries = index.child(descend, seen)
    else:
        raise FsCorrupt(f"{index.what}: the index is deeper than {MAX_TREE_DEPTH} levels")
    if name.isascii():
        return None
    for entry in walk(index, MAX_DIR_BLOCKS * 64):
        if entry.name is not None and fold(entry.name) == target:
            return entry.ref
    return None


def names(index: Index, limit: int) -> list[str]:
    out: list[str] = []
    for entry in walk(index, limit):
        if entry.name is not None and entry.namespace != DOS_NAMESPACE and entry.name != ".":
            out.append(entry.name)
            if len(out) >= limit:
                break
    return out


def walk(index: Index, limit: int) -> Iterator[Entry]:
    """Entries in collation order (sub-node first), bounded by blocks, depth and `limit`."""
    seen: set[int] = set()
    index.blocks_read = 0
    yield from _walk(index, index.root_entries, 0, seen)


def _walk(index: Index, load: Callable[[], list[Entry]], depth: int,
          seen: set[int]) -> Iterator[Entry]:
    if depth > MAX_TREE_DEPTH:
        raise FsCorrupt(f"{index.what}: the index is deeper than {MAX_TREE_DEPTH} levels")
    for entry in load():
        if entry.subnode is not None:
            vcn = entry.subnode
            yield from _walk(index, lambda: index.child(vcn, seen), depth + 1, seen)
        if entry.name is not None:
            yield entry


def _entries(buf: bytes, header: int, what: str) -> list[Entry]:
    if header + 16 > len(buf):
        raise FsCorrupt(f"{what}: the node header lies past the end")
    first, total = struct.unpack_from("<II", buf, header)
    pos, end = header + first, min(header + total, len(buf))
    out: list[Entry] = []
    while True:
        if pos + 16 > end:
            raise FsCorrupt(f"{what}: entries run past the node's end without a last entry")
        ref, length, key_len, flags = struct.unpack_from("<QHHI", buf, pos)
        if length < 16 or length % 8 or pos + length > end or 16 + key_len > length:
            raise FsCorrupt(f"{what}: index entry at {pos} has impossible length {length}")
        subnode = None
        if flags & HAS_SUBNODE:
            if length < 24:
                raise FsCorrupt(f"{what}: index entry at {pos} is too short for a sub-node")
            subnode = struct.unpack_from("<q", buf, pos + length - 8)[0]
            if subnode < 0:
                raise FsCorrupt(f"{what}: index entry at {pos} has a negative sub-node VCN")
        if flags & LAST:
            out.append(Entry(ref, None, 0, subnode))
            return out
        if key_len < 0x42:
            raise FsCorrupt(f"{what}: index entry at {pos} has a {key_len}-byte key, too short "
                            f"for a file name")
        key = buf[pos + 16:pos + 16 + key_len]
        name_len, namespace = key[0x40], key[0x41]
        if 0x42 + 2 * name_len > key_len:
            raise FsCorrupt(f"{what}: index entry at {pos} has a name longer than its key")
        name = key[0x42:0x42 + 2 * name_len].decode("utf-16-le", "replace")
        out.append(Entry(ref, name, namespace, subnode))
        pos += length
