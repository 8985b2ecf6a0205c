"""A block cache between the file-system readers and the guest disk.

Readers ask for a superblock, an inode, a directory block: small pieces that cluster in a few
places. Every miss fetches the whole aligned block around it (read-ahead), so the next pieces
nearby cost no round trip. The cache holds a bounded number of blocks, least recently used out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

BLOCK = 64 * 1024
MAX_BLOCKS = 64            # 4 MiB at most in memory, the whole read budget
MAX_RUN = 16               # blocks one fetch asks for at most (1 MiB)


class BlockCache:
    """`read(offset, length)` over `fetch`, a function reading up to one aligned block."""

    def __init__(self, fetch: Callable[[int, int], bytes], size: int, block: int = BLOCK,
                 max_blocks: int = MAX_BLOCKS):
        self.fetch = fetch
        self.size = size
        self.block = block
        self.max_blocks = max_blocks
        self.blocks: OrderedDict[int, bytes] = OrderedDict()
        self.misses = 0

    def read(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset`; fewer only at the end of the disk. The blocks it
        misses are fetched as runs, one fetch per run of up to MAX_RUN blocks: a file or table
        that is contiguous on the disk costs one round trip, not one per block."""
        if offset < 0 or length < 0:
            raise ValueError(f"negative offset {offset} or length {length}")
        end = min(offset + length, self.size)
        if offset >= end:
            return b""
        first, last = offset // self.block, (end - 1) // self.block
        self._fetch_missing(first, last)
        out = bytearray()
        for index in range(first, last + 1):
            data = self._block(index)
            base = index * self.block
            out += data[max(offset, base) - base:end - base]
        return bytes(out)

    def _fetch_missing(self, first: int, last: int) -> None:
        index = first
        while index <= last:
            if index in self.blocks:
                index += 1
                continue
            run = 1
            while index + run <= last and run < MAX_RUN and index + run not in self.blocks:
                run += 1
            base = index * self.block
            want = min(run * self.block, self.size - base)
            data = self.fetch(base, want)
            if len(data) < want:  # a short read inside the disk: the rest is zeros, as seen
                data += bytes(want - len(data))
            self.misses += 1
            for i in range(run):
                self._keep(index + i, data[i * self.block:(i + 1) * self.block])
            index += run

    def _block(self, index: int) -> bytes:
        data = self.blocks.get(index)
        if data is not None:
            self.blocks.move_to_end(index)
            return data
        self._fetch_missing(index, index)
        return self.blocks[index]

    def _keep(self, index: int, data: bytes) -> None:
        self.blocks[index] = data
        self.blocks.move_to_end(index)
        if len(self.blocks) > self.max_blocks:
            self.blocks.popitem(last=False)
