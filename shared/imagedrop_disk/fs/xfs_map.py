"""XFS data-fork maps: extent records and the extent b-tree (bmbt), walked only where asked."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, Iterator

from ..errors import FsCorrupt
from .api import MAX_EXTENTS, MAX_TREE_DEPTH

BMAP_MAGICS = {b"BMAP": 24, b"BMA3": 72}   # child block magic → header length
MAX_LEAF_VISITS = 1024                     # leaves one walk follows along the sibling chain


@dataclass(frozen=True)
class Extent:
    start: int          # first logical file block
    fsblock: int        # first file-system block (AG-encoded)
    count: int
    unwritten: bool

    @property
    def end(self) -> int:
        return self.start + self.count


def decode_extent(rec: bytes) -> Extent:
    x = int.from_bytes(rec[:16], "big")
    return Extent(start=(x >> 73) & ((1 << 54) - 1), fsblock=(x >> 21) & ((1 << 52) - 1),
                  count=x & ((1 << 21) - 1), unwritten=bool(x >> 127))


def extent_list(fork: bytes, count: int, where: str) -> list[Extent]:
    """`count` records at the start of an extents-format fork, checked for order."""
    if count > MAX_EXTENTS or count * 16 > len(fork):
        raise FsCorrupt(f"{where}: {count} extents do not fit the data fork "
                        f"({len(fork)} bytes, at most {MAX_EXTENTS} extents)")
    extents = [decode_extent(fork[i * 16:i * 16 + 16]) for i in range(count)]
    _check_order(extents, where)
    return extents


def _check_order(extents: list[Extent], where: str, after: int = 0) -> int:
    for ext in extents:
        if ext.count == 0 or ext.start < after:
            raise FsCorrupt(f"{where}: extent at file block {ext.start} is empty or out of order")
        after = ext.end
    return after


class BmbtWalker:
    """Extents of a b-tree-format fork that overlap a range of file blocks.

    `read_block(fsblock)` returns one file-system block; `owner` is the inode number that v5
    blocks must name.
    """

    def __init__(self, fork: bytes, read_block: Callable[[int], bytes], blocksize: int,
                 v5: bool, owner: int, where: str):
        self.read_block, self.blocksize, self.v5 = read_block, blocksize, v5
        self.owner, self.where = owner, where
        if len(fork) < 4:
            raise FsCorrupt(f"{where}: b-tree root does not fit the data fork")
        self.root_level, numrecs = struct.unpack_from(">HH", fork, 0)
        maxrecs = (len(fork) - 4) // 16
        if not 1 <= self.root_level <= MAX_TREE_DEPTH or not 1 <= numrecs <= maxrecs:
            raise FsCorrupt(f"{where}: b-tree root level {self.root_level} with {numrecs} "
                            f"records (at most {maxrecs}, depth {MAX_TREE_DEPTH})")
        self.root_keys = [struct.unpack_from(">Q", fork, 4 + 8 * i)[0] for i in range(numrecs)]
        self.root_ptrs = [struct.unpack_from(">Q", fork, 4 + maxrecs * 8 + 8 * i)[0]
                          for i in range(numrecs)]

    def extents(self, first: int, end: int) -> Iterator[Extent]:
        """Extents in key order from the one holding `first` until one starts at `end` or later."""
        leaf, level = self._descend(first)
        seen, after = 0, 0
        for _ in range(MAX_LEAF_VISITS):
            records, rightsib = leaf
            for ext in records:
                seen += 1
                if seen > MAX_EXTENTS:
                    raise FsCorrupt(f"{self.where}: more than {MAX_EXTENTS} extents")
                after = _check_order([ext], self.where, after)
                if ext.start >= end:
                    return
                if ext.end > first:
                    yield ext
            if rightsib == (1 << 64) - 1:
                return
            leaf = self._leaf(rightsib)
        raise FsCorrupt(f"{self.where}: leaf chain longer than {MAX_LEAF_VISITS} blocks")

    def _descend(self, target: int) -> tuple[tuple[list[Extent], int], int]:
        keys, ptrs, level = self.root_keys, self.root_ptrs, self.root_level
        while True:
            index = max((i for i, k in enumerate(keys) if k <= target), default=0)
            if level == 1:
                return self._leaf(ptrs[index]), 0
            keys, ptrs = self._node(ptrs[index], level - 1)
            level -= 1

    def _block(self, fsblock: int, level: int) -> tuple[bytes, int, int]:
        data = self.read_block(fsblock)
        hdr = BMAP_MAGICS.get(data[:4])
        if hdr is None or (hdr == 72) != self.v5:
            raise FsCorrupt(f"{self.where}: b-tree block {fsblock} has magic {data[:4]!r}")
        got_level, numrecs = struct.unpack_from(">HH", data, 4)
        if got_level != level or numrecs == 0:
            raise FsCorrupt(f"{self.where}: b-tree block {fsblock} is level {got_level} with "
                            f"{numrecs} records, expected level {level}")
        if self.v5 and struct.unpack_from(">Q", data, 56)[0] != self.owner:
            raise FsCorrupt(f"{self.where}: b-tree block {fsblock} belongs to another inode")
        return data, hdr, numrecs

    def _node(self, fsblock: int, level: int) -> tuple[list[int], list[int]]:
        data, hdr, numrecs = self._block(fsblock, level)
        maxrecs = (self.blocksize - hdr) // 16
        if numrecs > maxrecs:
            raise FsCorrupt(f"{self.where}: b-tree node {fsblock} claims {numrecs} records")
        keys = [struct.unpack_from(">Q", data, hdr + 8 * i)[0] for i in range(numrecs)]
        ptrs = [struct.unpack_from(">Q", data, hdr + maxrecs * 8 + 8 * i)[0]
                for i in range(numrecs)]
        return keys, ptrs

    def _leaf(self, fsblock: int) -> tuple[list[Extent], int]:
        data, hdr, numrecs = self._block(fsblock, 0)
        if hdr + numrecs * 16 > self.blocksize:
            raise FsCorrupt(f"{self.where}: b-tree leaf {fsblock} claims {numrecs} records")
        rightsib = struct.unpack_from(">Q", data, 16)[0]
        return [decode_extent(data[hdr + 16 * i:hdr + 16 * i + 16])
                for i in range(numrecs)], rightsib
