"""Volumes: the partitions (or the whole disk) that file systems live on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..partitions import PartitionSpan
from ..work import Work


@dataclass
class SliceVolume:
    """`size` bytes of a disk from byte `start`, clipped to the disk's end.

    `name` says where it is, for notes ("partition 2", "vg0/root"); `type` is the partition type
    (GPT GUID, MBR "0x83", or "lvm" for a logical volume), "" when unknown."""

    disk: Callable[[int, int], bytes]
    start: int
    length: int
    name: str = ""
    type: str = ""
    attrs: dict[str, str] = field(default_factory=dict)  # e.g. partuuid, vg/lv names
    work: Work = field(default_factory=Work)             # the inspection's meter of work

    @property
    def size(self) -> int:
        return self.length

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError(f"negative offset {offset} or length {length} on {self.name}")
        end = min(offset + length, self.length)
        if offset >= end:
            return b""
        return self.disk(self.start + offset, end - offset)


def volumes_of(disk: Callable[[int, int], bytes], disk_size: int,
               spans: list[PartitionSpan],
               work: Work | None = None) -> tuple[list[SliceVolume], list[str]]:
    """One volume per partition, clipped to the disk; the whole disk when there is no table.
    All of them count their work on `work` (one meter for the inspection)."""
    work = work or Work()
    if not spans:
        return [SliceVolume(disk, 0, disk_size, "the whole disk", work=work)], []
    out: list[SliceVolume] = []
    notes: list[str] = []
    for i, span in enumerate(spans, 1):
        name = f"partition {span.number or i}"
        if span.start >= disk_size:
            notes.append(f"{name} starts at byte {span.start}, past the disk's end "
                         f"({disk_size} bytes): skipped")
            continue
        length = min(span.size, disk_size - span.start)
        if length < span.size:
            notes.append(f"{name} ends past the disk's end: read up to byte {disk_size}")
        attrs = {"partuuid": span.uuid} if span.uuid else {}
        out.append(SliceVolume(disk, span.start, length, name, span.type, attrs, work))
    return out, notes
