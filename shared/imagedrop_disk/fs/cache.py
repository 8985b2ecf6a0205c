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
        """Up to `length` bytes at `offset`; fewer only at the end of the disk."""
        if offset < 0 or length < 0:
            raise ValueError(f"negative offset {offset} or length {length}")
        end = min(offset + length, self.size)
        if offset >= end:
            return b""
        out = bytearray()
        index = offset // self.block
        while index * self.block < end:
            data = self._block(index)
            base = index * self.block
            out += data[max(offset, base) - base:end - base]
            if len(data) < self.block:
                break
            index += 1
        return bytes(out)

    def _block(self, index: int) -> bytes:
        data = self.blocks.get(index)
        if data is not None:
            self.blocks.move_to_end(index)
            return data
        base = index * self.block
        want = min(self.block, self.size - base)
        data = self.fetch(base, want)
        if len(data) < want:  # a short read inside the disk: the rest is zeros, as the guest sees
            data += bytes(want - len(data))
        self.misses += 1
        self.blocks[index] = data
        if len(self.blocks) > self.max_blocks:
            self.blocks.popitem(last=False)
        return data
