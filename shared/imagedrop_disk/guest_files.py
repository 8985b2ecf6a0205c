"""The guest's own files, read through the container and the partition table: the entry point
of the guest inspection.

`open_guest` finds the volumes (partitions, or the whole disk), opens their file systems, picks
the root and mounts /boot on it. All of it goes through one block cache over the guest disk, and
the caller's read budget bounds it; nothing the image holds makes it raise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .fs.api import GuestFiles
from .fs.cache import BlockCache
from .partitions import PartitionSpan, logical_spans
from .work import Work


@dataclass
class OpenedGuest:
    files: GuestFiles | None       # None when no root file system could be read
    root_fs: str | None            # "ext4", "xfs", "btrfs", "ntfs", …
    os_type: str | None            # "linux" or "windows", from what the root holds
    notes: list[str] = field(default_factory=list)  # shared with files.notes as reads go on
    mounts: dict[str, str] = field(default_factory=dict)  # mount point → volume name
    root_volume: str = ""          # where the root file system is ("partition 2")
    # Other volumes that hold a system too: (volume name, its files, "linux" or "windows").
    other_roots: list[tuple[str, GuestFiles, str]] = field(default_factory=list)


def open_guest(read: Callable[[int, int], bytes], disk_size: int, spans: list[PartitionSpan],
               extended_lba: int | None = None, work: Work | None = None) -> OpenedGuest:
    """`read` reads the guest disk (at most one cache block at a time); `spans` the partitions
    (empty: the disk is one volume from byte 0); `extended_lba` an MBR extended partition whose
    logical partitions are read here when `spans` lacks them; `work` the inspection's meter of
    work, which every reader and the guest's files count on."""
    from .fs.mount import mount_guest  # the readers load only when a guest is read
    from .fs.paths import UNREADABLE, MountedFiles, why_unreadable
    from .fs.volumes import volumes_of

    cache = BlockCache(read, disk_size)
    notes: list[str] = []
    if extended_lba and not any(span.number >= 5 for span in spans):
        try:
            spans = spans + logical_spans(cache.read, extended_lba, disk_size)
        except UNREADABLE as exc:
            notes.append(f"the logical partitions cannot be read ({why_unreadable(exc)})")
    volumes, more = volumes_of(cache.read, disk_size, spans, work or Work())
    notes += more
    try:
        mounted = mount_guest(volumes, notes)
    except UNREADABLE as exc:  # a reader's bug on hostile bytes must not end the inspection
        notes.append(f"the guest's file systems cannot be read ({why_unreadable(exc)})")
        return OpenedGuest(None, None, None, notes)
    if mounted.files is None or mounted.root is None:
        return OpenedGuest(None, None, None, notes)
    others = [(o.volume.name, MountedFiles(o.fs, {}, notes, o.volume.work), os_type)
              for o, os_type in mounted.others]
    return OpenedGuest(mounted.files, mounted.root.fs.kind, mounted.os_type, notes,
                       mounted.mounts, mounted.root.volume.name, others)
