"""From volumes to the guest's files: open each volume with the readers, find the root file
system, mount /boot (and the like) on it as its fstab says.

`OPENERS` and `VOLUME_EXPANDERS` are the hooks other readers extend: an opener returns a
FileSystem or None (not its magic); an expander turns one volume into others (an LVM PV into
its LVs, saying in the notes what it leaves out) or returns None when the volume is not its
kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import BudgetExceeded
from . import btrfs, ext4, ntfs, xfs
from .api import FileSystem
from .lvm_volumes import expand_lvm
from .paths import UNREADABLE, MountedFiles, why_unreadable
from .volumes import SliceVolume
from ..work import Work

Opener = Callable[[SliceVolume], "FileSystem | None"]
Expander = Callable[[SliceVolume, list[str]], "list[SliceVolume] | None"]

OPENERS: list[Opener] = [ext4.open_fs, xfs.open_fs, btrfs.open_system, ntfs.open_fs]
VOLUME_EXPANDERS: list[Expander] = [expand_lvm]

MAX_VOLUMES = 16
NOT_FILE_SYSTEMS = {"0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "0x82",  # swap
                    "21686148-6449-6e6f-744e-656564454649",  # BIOS boot (GRUB's core image)
                    "e3c9e316-0b5c-4db8-817d-f92df00215ae",  # Microsoft reserved
                    "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "0xef"}  # EFI system (FAT)
# Every magic a volume is probed for (LVM's label, ext's and XFS's superblocks, Btrfs's at
# 64 KiB) lies in its first PROBE_SPAN bytes: read as one run, the probes cost one round trip.
PROBE_SPAN = 0x10000 + 4096
LINUX_MARKERS = ("/etc/os-release", "/usr/lib/os-release", "/etc/fstab")
WINDOWS_MARKER = "/Windows/System32/config"
BOOT_MARKERS = re.compile(r"^(vmlinuz|vmlinux|Image|grub2?$|loader$|initrd|initramfs)")
MOUNTED_FROM_FSTAB = ("/boot", "/boot/efi", "/usr", "/var")
DEVICE_PARTITION = re.compile(r"^/dev/(?:[shv]d[a-z]|xvd[a-z]|nvme\d+n\d+p|mmcblk\d+p)(\d+)$")
MOUNT_SHARE = 0.25   # of the work left, what finding the root (then its mounts) may spend


@dataclass
class Opened:
    volume: SliceVolume
    fs: FileSystem


@dataclass
class Mounted:
    files: MountedFiles | None
    root: Opened | None
    os_type: str | None
    notes: list[str]
    mounts: dict[str, str] = field(default_factory=dict)  # mount point → volume name
    others: list[tuple[Opened, str]] = field(default_factory=list)  # other roots, their OS


def mount_guest(volumes: list[SliceVolume], notes: list[str] | None = None) -> Mounted:
    notes = notes if notes is not None else []
    opened = open_volumes(volumes, notes)
    work = volumes[0].work if volumes else Work()
    with work.share(MOUNT_SHARE):
        roots = _roots(opened, notes)
    root, os_type = roots[0] if roots else (None, None)
    if root is None:
        if opened:
            notes.append("no volume holds etc/os-release, usr/lib/os-release, etc/fstab or "
                         "Windows/System32/config: the root file system was not found")
        elif not any("budget" in n for n in notes):
            notes.append("no volume holds a file system this inspection reads")
        return Mounted(None, None, None, notes)
    files = MountedFiles(root.fs, {}, notes, root.volume.work)
    with work.share(MOUNT_SHARE):
        mounts = _linux_mounts(files, root, opened, notes) if os_type == "linux" else {}
    files.mounts = {tuple(p.strip("/").split("/")): o.fs for p, o in mounts.items()}
    return Mounted(files, root, os_type, notes, {p: o.volume.name for p, o in mounts.items()},
                   roots[1:])


def open_volumes(volumes: list[SliceVolume], notes: list[str]) -> list[Opened]:
    expanded: list[SliceVolume] = []
    for volume in volumes:
        if volume.type in NOT_FILE_SYSTEMS:
            continue
        try:
            volume.read(0, PROBE_SPAN)
        except UNREADABLE:
            pass  # the probes below say what they could not read
        inner = _expand(volume, notes)
        expanded += inner if inner is not None else [volume]
    if len(expanded) > MAX_VOLUMES:
        notes.append(f"{len(expanded)} volumes: only the first {MAX_VOLUMES} were read")
    out: list[Opened] = []
    for volume in expanded[:MAX_VOLUMES]:
        try:
            fs = _open(volume, notes)
        except BudgetExceeded as exc:
            notes.append(f"{volume.name}: not read ({exc})")
            break
        if fs is not None:
            out.append(Opened(volume, fs))
    return out


def _expand(volume: SliceVolume, notes: list[str]) -> list[SliceVolume] | None:
    for expander in VOLUME_EXPANDERS:
        try:
            inner = expander(volume, notes)
        except UNREADABLE as exc:
            notes.append(f"{volume.name}: its volumes cannot be read ({why_unreadable(exc)})")
            return []
        if inner is not None:
            return inner
    return None


def _open(volume: SliceVolume, notes: list[str]) -> FileSystem | None:
    for opener in OPENERS:
        try:
            fs = opener(volume)
        except BudgetExceeded:
            raise
        except UNREADABLE as exc:
            notes.append(f"{volume.name}: the file system cannot be read ({why_unreadable(exc)})")
            return None
        if fs is not None:
            return fs
    return None


def _roots(opened: list[Opened], notes: list[str]) -> list[tuple[Opened, str]]:
    """The volumes holding a Linux or Windows system's marker files, largest first (the facts
    are read from the first)."""
    found: list[tuple[Opened, str]] = []
    for candidate in sorted(opened, key=lambda o: -o.volume.size):
        probe = MountedFiles(candidate.fs, {}, notes, candidate.volume.work)
        try:
            if any(probe.lkind(m) is not None for m in LINUX_MARKERS):
                found.append((candidate, "linux"))
            elif probe.kind(WINDOWS_MARKER) == "dir":
                found.append((candidate, "windows"))
        except BudgetExceeded as exc:
            notes.append(f"{candidate.volume.name}: not read ({exc})")
            break
    return found


def _linux_mounts(files: MountedFiles, root: Opened, opened: list[Opened],
                  notes: list[str]) -> dict[str, Opened]:
    others = [o for o in opened if o is not root]
    mounts: dict[str, Opened] = {}
    fstab = files.read_text("/etc/fstab")
    for spec, where in _fstab_entries(fstab or ""):
        if where not in MOUNTED_FROM_FSTAB or where in mounts:
            continue
        match = _match(spec, others)
        if match is not None:
            mounts[where] = match
        elif where in ("/boot", "/usr"):
            notes.append(f"fstab mounts {spec} on {where}: no volume read here matches it")
    if "/boot" not in mounts and not _has_boot_files(files, "/boot"):
        for other in others:
            if _has_boot_files(MountedFiles(other.fs, {}, notes, other.volume.work), "/"):
                mounts["/boot"] = other
                notes.append(f"/boot: {other.volume.name} mounted there (it holds a kernel or "
                             f"boot loader at its top; fstab does not say)")
                break
    return dict(sorted(mounts.items()))


def _fstab_entries(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            out.append((fields[0], fields[1].replace("\\040", " ").rstrip("/") or "/"))
    return out


def _match(spec: str, others: list[Opened]) -> Opened | None:
    key, _, value = spec.partition("=")
    value = value.strip("\"'")
    if spec.startswith("/dev/disk/by-uuid/"):
        key, value = "UUID", spec.rsplit("/", 1)[1]
    elif spec.startswith("/dev/disk/by-label/"):
        key, value = "LABEL", spec.rsplit("/", 1)[1]
    for o in others:
        if key == "UUID" and o.fs.uuid and o.fs.uuid.lower() == value.lower():
            return o
        if key == "LABEL" and o.fs.label is not None and o.fs.label == value:
            return o
        if key == "PARTUUID" and o.volume.attrs.get("partuuid", "") == value.lower():
            return o
        if spec.startswith("/dev/") and spec in o.volume.attrs.get("devices", "").split():
            return o
    number = DEVICE_PARTITION.match(spec)
    if number:
        for o in others:
            if o.volume.name == f"partition {number.group(1)}":
                return o
    return None


def _has_boot_files(files: MountedFiles, path: str) -> bool:
    names = files.listdir(path, limit=256) or []
    return any(BOOT_MARKERS.match(n) for n in names)
