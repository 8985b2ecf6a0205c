"""/etc/fstab: how the root file system is named, and which entries name a device."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import lines

FSTAB_LIMIT = 64 * 1024
# Names the kernel gives by probe order or bus: they change when the disk moves to ECS.
FRAGILE_DEVICE = re.compile(r"^/dev/(sd[a-z]+|hd[a-z]+|xvd[a-z]+)[0-9]*$")
_DEVICE = re.compile(r"^/dev/(sd|hd|xvd|vd)[a-z]+[0-9]*$|^/dev/nvme[0-9]+n[0-9]+(p[0-9]+)?$"
                     r"|^/dev/mmcblk[0-9]+(p[0-9]+)?$|^/dev/root$")


@dataclass
class Fstab:
    root_spec: str | None = None
    device_entries: list[str] = field(default_factory=list)   # "/dev/sda1 on /boot"


def parse_fstab(text: str) -> Fstab:
    result = Fstab()
    for line in lines(text):
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) < 2:
            continue
        spec, mountpoint = _unescape(fields[0]), _unescape(fields[1])
        if mountpoint == "/" and result.root_spec is None:
            result.root_spec = spec
        if FRAGILE_DEVICE.match(spec):
            result.device_entries.append(f"{spec} on {mountpoint}")
    return result


def _unescape(value: str) -> str:
    """fstab's octal escapes (`\\040` a space), decoded as the bytes they stand for."""
    raw = value.encode("utf-8", "surrogateescape")
    raw = re.sub(rb"\\([0-3][0-7]{2})", lambda m: bytes([int(m.group(1), 8)]), raw)
    return raw.decode("utf-8", "replace")


def spec_kind(spec: str) -> str | None:
    """How an fstab spec (or a kernel root=) names the file system, or None if unrecognised."""
    upper = spec.upper()
    if upper.startswith("UUID=") or spec.startswith("/dev/disk/by-uuid/"):
        return "uuid"
    if upper.startswith("PARTUUID=") or spec.startswith("/dev/disk/by-partuuid/"):
        return "partuuid"
    if upper.startswith("LABEL=") or spec.startswith("/dev/disk/by-label/"):
        return "label"
    if spec.startswith("/dev/mapper/"):
        return "lvm"
    if _DEVICE.match(spec):
        return "device"
    parts = spec.split("/")
    if len(parts) == 4 and parts[:2] == ["", "dev"] and parts[2] not in ("disk", "md") \
            and all(parts[2:]):
        return "lvm"          # /dev/<vg>/<lv>
    return None
