"""The file-system fixtures (tests/fixtures/guests, built by make_xfs_btrfs.sh) as volumes held
in memory: only the non-zero 4 KiB blocks are stored; the rest reads as zeros."""

from __future__ import annotations

import lzma
import random
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from imagedrop_disk.errors import BudgetExceeded, FsCorrupt
from imagedrop_disk.fs.api import Node

GUESTS = Path(__file__).resolve().parents[2] / "fixtures" / "guests"
BLOCK = 4096


class SparseVolume:
    """A Volume over {block index: bytes}; counts reads so tests can bound them."""

    def __init__(self, size: int, blocks: dict[int, bytes]):
        self._size, self.blocks = size, blocks
        self.reads = 0
        self.bytes_read = 0

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        self.reads += 1
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        end = min(offset + length, self._size)
        out = bytearray()
        pos = offset
        while pos < end:
            index, within = divmod(pos, BLOCK)
            take = min(BLOCK - within, end - pos)
            block = self.blocks.get(index)
            out += block[within:within + take] if block else bytes(take)
            pos += take
        self.bytes_read += len(out)
        return bytes(out)

    def patched(self, offset: int, data: bytes) -> "SparseVolume":
        """A copy with `data` written at `offset` (for hostile variants)."""
        blocks = dict(self.blocks)
        for i, byte_at in enumerate(range(offset, offset + len(data))):
            index, within = divmod(byte_at, BLOCK)
            block = bytearray(blocks.get(index, bytes(BLOCK)))
            block[within] = data[i]
            blocks[index] = bytes(block)
        return SparseVolume(self._size, blocks)

    def truncated(self, size: int) -> "SparseVolume":
        return SparseVolume(size, self.blocks)


@lru_cache(maxsize=None)
def _load(name: str) -> tuple[int, dict[int, bytes]]:
    raw = lzma.decompress((GUESTS / f"{name}.sparse.xz").read_bytes())
    if not raw.startswith(b"IDSPARSE1\n"):
        raise ValueError(f"{name}: not a sparse fixture")
    size = struct.unpack_from("<Q", raw, 10)[0]
    blocks, pos = {}, 18
    while pos < len(raw):
        index = struct.unpack_from("<Q", raw, pos)[0]
        blocks[index] = raw[pos + 8:pos + 8 + BLOCK]
        pos += 8 + BLOCK
    return size, blocks


def volume(name: str) -> SparseVolume:
    size, blocks = _load(name)
    return SparseVolume(size, blocks)


def walk(fs, path: str) -> Node | None:
    """The node at `path` (slash-separated, from the root), or None where a part is missing."""
    node = fs.root()
    for part in path.strip("/").split("/"):
        node = fs.lookup(node, part)
        if node is None:
            return None
    return node


def walk_everything(fs, max_entries: int = 40, max_depth: int = 6) -> int:
    """Visit a bounded part of every directory, file head and symlink; return nodes seen.
    Only the readers' own errors may escape (the caller checks which)."""
    seen = 0
    stack = [(fs.root(), 0)]
    while stack:
        node, depth = stack.pop()
        seen += 1
        if node.kind == "dir" and depth < max_depth:
            for name in fs.entries(node, limit=max_entries):
                child = fs.lookup(node, name)
                if child is not None:
                    stack.append((child, depth + 1))
        elif node.kind == "file":
            fs.read(node, 0, 8192)
        elif node.kind == "symlink":
            fs.readlink(node)
    return seen


def random_damage_never_escapes(clean: SparseVolume, blocks: list[int],
                                open_fs: Callable[[SparseVolume], Any], seed: int) -> None:
    """25 copies of `clean`, each with 30 random bytes of `blocks` changed: opening and walking
    each raises nothing but the readers' own errors, and reads stay under 64 MiB."""
    rnd = random.Random(seed)
    for _ in range(25):
        vol = clean
        for _ in range(30):
            block = rnd.choice(blocks)
            vol = vol.patched(block * BLOCK + rnd.randrange(BLOCK), bytes([rnd.randrange(256)]))
        try:
            fs = open_fs(vol)
            if fs is not None:
                walk_everything(fs, max_entries=20, max_depth=4)
        except (FsCorrupt, BudgetExceeded):
            pass
        assert vol.bytes_read < 64 * 1024 * 1024
