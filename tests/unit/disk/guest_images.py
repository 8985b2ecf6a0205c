"""Guest fixture disks (tests/fixtures/guests, built by the make_*.sh scripts there) opened as
volumes: the qcow2 decoded by imagedrop_disk's own reader, the partition found in the GPT."""

from __future__ import annotations

import gzip
import struct
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from imagedrop_disk.errors import BudgetExceeded, FsCorrupt
from imagedrop_disk.fs.api import FileSystem, Node, NodeKind
from imagedrop_disk.cluster_map import BudgetedSource
from imagedrop_disk.qcow2 import Qcow2Guest, parse_header
from imagedrop_disk.source import BytesSource

GUESTS = Path(__file__).resolve().parents[2] / "fixtures" / "guests"


@lru_cache(maxsize=None)
def disk_bytes(name: str) -> bytes:
    """The guest disk of `name`.qcow2.gz, every byte, through the project's qcow2 reader."""
    src = BudgetedSource(BytesSource(gzip.decompress((GUESTS / f"{name}.qcow2.gz").read_bytes())))
    guest = Qcow2Guest(src, parse_header(src.read(0, 4096), src))
    out = bytearray()
    while len(out) < guest.virtual_size:
        chunk = guest.read(len(out), 64 * 1024)
        assert chunk, "the qcow2 reader returned nothing before the end of the disk"
        out += chunk
    return bytes(out)


@dataclass
class MemVolume:
    """A volume over bytes that counts what is read and can refuse to read past a budget."""

    data: bytes
    max_bytes: int = 1 << 40
    reads: int = 0
    bytes_read: int = 0
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        assert offset >= 0 and length >= 0, (offset, length)
        self.reads += 1
        self.bytes_read += length
        assert self.bytes_read <= self.max_bytes, "a reader read past its budget"
        return self.data[offset:offset + length]


def gpt_partitions(disk: bytes) -> list[tuple[str, int, int]]:
    """(type GUID, byte offset, byte length) of each GPT entry in use."""
    entries_lba, count, entry_size = struct.unpack_from("<QII", disk, 512 + 72)
    out = []
    for i in range(count):
        at = entries_lba * 512 + i * entry_size
        e = disk[at:at + entry_size]
        if e[:16] == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", e, 32)
        out.append((str(uuid.UUID(bytes_le=e[:16])), first * 512, (last - first + 1) * 512))
    return out


def partition_volume(name: str, index: int = 0) -> MemVolume:
    disk = disk_bytes(name)
    _type, start, length = gpt_partitions(disk)[index]
    return MemVolume(disk[start:start + length])


class FsGuestFiles:
    """GuestFiles over one file system, for these tests only: components looked up one by one
    with the reader's own lookup (case-insensitive on NTFS); no mounts, no symlinks followed."""

    def __init__(self, fs: FileSystem):
        self.fs = fs
        self.notes: list[str] = []
        self._nodes: dict[str, Node | None] = {}

    def _node(self, path: str) -> Node | None:
        if path not in self._nodes:
            self._nodes[path] = self._resolve(path)
        return self._nodes[path]

    def _resolve(self, path: str) -> Node | None:
        node = self.fs.root()
        for part in [p for p in path.split("/") if p]:
            if node.kind != "dir":
                return None
            try:
                found = self.fs.lookup(node, part)
            except (FsCorrupt, BudgetExceeded) as exc:
                self.notes.append(f"{path}: {exc}")
                return None
            if found is None:
                return None
            node = found
        return node

    def read_bytes(self, path: str, offset: int, length: int) -> bytes | None:
        node = self._node(path)
        if node is None or node.kind != "file":
            return None
        try:
            return self.fs.read(node, offset, length)
        except (FsCorrupt, BudgetExceeded) as exc:
            self.notes.append(f"{path}: {exc}")
            return None

    def read_text(self, path: str, limit: int = 64 * 1024) -> str | None:
        data = self.read_bytes(path, 0, limit)
        return None if data is None else data.decode("utf-8", "replace")

    def listdir(self, path: str, limit: int = 4096) -> list[str] | None:
        node = self._node(path)
        return None if node is None or node.kind != "dir" else self.fs.entries(node, limit)

    def kind(self, path: str) -> NodeKind | None:
        node = self._node(path)
        return None if node is None else node.kind
