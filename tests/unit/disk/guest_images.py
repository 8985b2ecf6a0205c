"""Guest fixture disks (tests/fixtures/guests, built by the make_*.sh scripts there) opened as
volumes: the qcow2 decoded by imagedrop_disk's own reader, the partition found in the GPT."""

from __future__ import annotations

import gzip
import struct
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from imagedrop_disk.guest import BudgetedSource
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
        e = disk[entries_lba * 512 + i * entry_size:][:entry_size]
        if e[:16] == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", e, 32)
        out.append((str(uuid.UUID(bytes_le=e[:16])), first * 512, (last - first + 1) * 512))
    return out


def partition_volume(name: str, index: int = 0) -> MemVolume:
    disk = disk_bytes(name)
    _type, start, length = gpt_partitions(disk)[index]
    return MemVolume(disk[start:start + length])
