"""Btrfs metadata: the superblock, the logical→physical chunk map, and bounded b-tree walks."""

from __future__ import annotations

import struct
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Iterator

from ..errors import FsCorrupt
from .api import MAX_TREE_DEPTH, Volume
from .crc32c import crc32c

SUPER_OFFSET = 0x10000
MAGIC = b"_BHRfS_M"
HEADER = 101
CHUNK_ITEM = 228
MAX_KEY = (2**64 - 1, 255, 2**64 - 1)
MAX_NODES_PER_WALK = 2048            # tree nodes one search may visit
UNSUPPORTED_PROFILES = {0x8: "RAID0", 0x40: "RAID10", 0x80: "RAID5", 0x100: "RAID6"}
MIRRORED_PROFILES = {0x20: "DUP", 0x10: "RAID1", 0x200: "RAID1C3", 0x400: "RAID1C4"}
METADATA_UUID = 1 << 10

Key = tuple[int, int, int]


def parse_key(data: bytes, pos: int) -> Key:
    return struct.unpack_from("<QBQ", data, pos)  # type: ignore[return-value]


@dataclass(frozen=True)
class Superblock:
    fsid: bytes
    tree_fsid: bytes           # what node headers carry (metadata_uuid when that flag is set)
    root: int
    chunk_root: int
    root_level: int
    chunk_root_level: int
    sectorsize: int
    nodesize: int
    devid: int
    label: str | None
    sys_chunks: bytes

    @property
    def uuid(self) -> str:
        return str(uuidlib.UUID(bytes=self.fsid))


def parse_superblock(raw: bytes) -> Superblock | None:
    if len(raw) < 4096 or raw[0x40:0x48] != MAGIC:
        return None
    csum_type = struct.unpack_from("<H", raw, 0xC4)[0]
    if csum_type == 0 and struct.unpack_from("<I", raw, 0)[0] != crc32c(raw[0x20:4096]):
        raise FsCorrupt("btrfs superblock: checksum mismatch")
    root, chunk_root = struct.unpack_from("<QQ", raw, 0x50)
    sectorsize, nodesize = struct.unpack_from("<II", raw, 0x90)
    sys_size = struct.unpack_from("<I", raw, 0xA0)[0]
    incompat = struct.unpack_from("<Q", raw, 0xBC)[0]
    if sectorsize not in (4096, 8192, 16384, 32768, 65536) \
            or nodesize not in (4096, 8192, 16384, 32768, 65536) or sys_size > 2048:
        raise FsCorrupt(f"btrfs superblock: sector size {sectorsize}, node size {nodesize}, "
                        f"system chunk array {sys_size} bytes")
    fsid = raw[0x20:0x30]
    label = raw[0x12B:0x22B].split(b"\0", 1)[0].decode("utf-8", "replace") or None
    return Superblock(fsid=fsid, tree_fsid=raw[0x23B:0x24B] if incompat & METADATA_UUID else fsid,
                      root=root, chunk_root=chunk_root, root_level=raw[0xC6],
                      chunk_root_level=raw[0xC7], sectorsize=sectorsize, nodesize=nodesize,
                      devid=struct.unpack_from("<Q", raw, 0xC9)[0], label=label,
                      sys_chunks=raw[0x32B:0x32B + sys_size])


@dataclass(frozen=True)
class Chunk:
    logical: int
    length: int
    physical: int | None       # None: a profile this reader cannot map
    profile: str


@dataclass
class ChunkMap:
    devid: int
    chunks: list[Chunk] = field(default_factory=list)

    def add(self, logical: int, body: bytes, where: str) -> None:
        if len(body) < 48:
            raise FsCorrupt(f"{where}: chunk item of {len(body)} bytes")
        length, _owner, _stripe_len, ctype = struct.unpack_from("<QQQQ", body, 0)
        num_stripes = struct.unpack_from("<H", body, 44)[0]
        if num_stripes == 0 or len(body) < 48 + 32 * num_stripes or length == 0:
            raise FsCorrupt(f"{where}: chunk at {logical} with {num_stripes} stripes")
        bad = [name for bit, name in UNSUPPORTED_PROFILES.items() if ctype & bit]
        physical = None
        for i in range(num_stripes):
            devid, offset = struct.unpack_from("<QQ", body, 48 + 32 * i)
            if devid == self.devid and not bad:
                physical = offset
                break
        mirrored = [name for bit, name in MIRRORED_PROFILES.items() if ctype & bit]
        profile = (bad or mirrored or ["single"])[0]
        self.chunks.append(Chunk(logical, length, physical, profile))

    def physical(self, logical: int, length: int) -> int:
        for chunk in self.chunks:
            if chunk.logical <= logical < chunk.logical + chunk.length:
                if logical + length > chunk.logical + chunk.length:
                    raise FsCorrupt(f"btrfs: range {logical}+{length} crosses a chunk end")
                if chunk.physical is None and chunk.profile in UNSUPPORTED_PROFILES.values():
                    raise FsCorrupt(f"btrfs: logical {logical} is in a {chunk.profile} chunk: "
                                    "only single and mirrored (DUP, RAID1*) chunks are read, "
                                    "not striped or parity profiles")
                if chunk.physical is None:
                    raise FsCorrupt(f"btrfs: logical {logical} is in a {chunk.profile} chunk "
                                    f"with no copy on this device (devid {self.devid}); the "
                                    "file system spans devices this image does not hold")
                return chunk.physical + logical - chunk.logical
        raise FsCorrupt(f"btrfs: logical address {logical} is in no chunk")


def bootstrap_chunks(sb: Superblock) -> ChunkMap:
    chunks, data, pos = ChunkMap(sb.devid), sb.sys_chunks, 0
    while pos < len(data):
        if pos + 17 + 48 > len(data):
            raise FsCorrupt("btrfs superblock: system chunk array ends inside an entry")
        objectid, ktype, logical = parse_key(data, pos)
        num_stripes = struct.unpack_from("<H", data, pos + 17 + 44)[0]
        size = 48 + 32 * num_stripes
        if ktype != CHUNK_ITEM:
            raise FsCorrupt(f"btrfs superblock: system chunk array holds key type {ktype}")
        chunks.add(logical, data[pos + 17:pos + 17 + size], "btrfs system chunk array")
        pos += 17 + size
    return chunks


class Trees:
    """Reads tree nodes by logical address and walks key ranges, every walk bounded."""

    def __init__(self, volume: Volume, sb: Superblock, chunks: ChunkMap):
        self.volume, self.sb, self.chunks = volume, sb, chunks
        self._cache: dict[int, bytes] = {}

    def node(self, logical: int, level: int) -> tuple[bytes, int]:
        raw = self._cache.get(logical)
        if raw is None:
            size = self.sb.nodesize
            physical = self.chunks.physical(logical, size)
            raw = self.volume.read(physical, size)
            if len(raw) < size:
                raise FsCorrupt(f"btrfs node {logical}: past the end of the volume")
            if len(self._cache) >= 64:
                self._cache.pop(next(iter(self._cache)))
            self._cache[logical] = raw
        bytenr = struct.unpack_from("<Q", raw, 0x30)[0]
        nritems, got_level = struct.unpack_from("<IB", raw, 0x60)
        per_item = 25 if level == 0 else 33
        if raw[0x20:0x30] != self.sb.tree_fsid or bytenr != logical or got_level != level \
                or HEADER + nritems * per_item > len(raw):
            raise FsCorrupt(f"btrfs node {logical}: header says bytenr {bytenr}, level "
                            f"{got_level} (expected {level}), {nritems} items")
        return raw, nritems

    def items(self, root: int, level: int, lo: Key, hi: Key,
              with_previous: bool = False) -> Iterator[tuple[Key, bytes]]:
        """Items with lo <= key <= hi in key order; with_previous also yields the last item
        before lo in the first leaf reached (an extent that begins before an offset)."""
        if not 0 <= level < MAX_TREE_DEPTH:
            raise FsCorrupt(f"btrfs tree at {root}: level {level}")
        budget = [MAX_NODES_PER_WALK]
        yield from self._walk(root, level, lo, hi, with_previous, budget, None)

    def _walk(self, logical: int, level: int, lo: Key, hi: Key, with_previous: bool,
              budget: list[int], floor: Key | None) -> Iterator[tuple[Key, bytes]]:
        budget[0] -= 1
        if budget[0] < 0:
            raise FsCorrupt(f"btrfs: a tree walk visited more than {MAX_NODES_PER_WALK} nodes")
        raw, nritems = self.node(logical, level)
        keys = [parse_key(raw, HEADER + i * (25 if level == 0 else 33)) for i in range(nritems)]
        for i in range(1, nritems):
            if keys[i] <= keys[i - 1]:
                raise FsCorrupt(f"btrfs node {logical}: keys out of order at slot {i}")
        if keys and floor is not None and keys[0] < floor:
            raise FsCorrupt(f"btrfs node {logical}: first key below its parent's pointer")
        if level == 0:
            yield from self._leaf_items(raw, logical, keys, lo, hi, with_previous)
            return
        for i, key in enumerate(keys):
            upper = keys[i + 1] if i + 1 < nritems else None
            if key > hi:
                return
            if upper is not None and upper <= lo:
                continue
            child = struct.unpack_from("<Q", raw, HEADER + i * 33 + 17)[0]
            yield from self._walk(child, level - 1, lo, hi, with_previous, budget, key)
            with_previous = False

    def _leaf_items(self, raw: bytes, logical: int, keys: list[Key], lo: Key, hi: Key,
                    with_previous: bool) -> Iterator[tuple[Key, bytes]]:
        data_end = len(raw) - HEADER
        previous = None
        for i, key in enumerate(keys):
            offset, size = struct.unpack_from("<II", raw, HEADER + i * 25 + 17)
            if offset + size > data_end or offset < len(keys) * 25:
                raise FsCorrupt(f"btrfs leaf {logical}: item {i} data at {offset}+{size}")
            body = raw[HEADER + offset:HEADER + offset + size]
            if key < lo:
                previous = (key, body)
                continue
            if key > hi:
                break
            if with_previous and previous is not None:
                yield previous
                previous = None
            with_previous = False
            yield key, body
        if with_previous and previous is not None:
            yield previous


def read_chunk_tree(trees: Trees) -> None:
    sb = trees.sb
    for key, body in trees.items(sb.chunk_root, sb.chunk_root_level, (256, CHUNK_ITEM, 0),
                                 (256, CHUNK_ITEM, 2**64 - 1)):
        if not any(c.logical == key[2] for c in trees.chunks.chunks):
            trees.chunks.add(key[2], body, "btrfs chunk tree")
