"""What the kernel is built for, from its image's header: the architecture ECS boots, which the
programs' (/bin/sh) must match."""

from __future__ import annotations

import re
import zlib

from ..fs.api import GuestFiles

HEAD = 4096
PE_MACHINES = {0x8664: "x86_64", 0xAA64: "arm64", 0x014C: "i386"}
ARM64_MAGIC = b"ARM\x64"          # at 0x38 of an arm64 Image
# Version suffixes distributions give their kernels (Debian/Ubuntu flavours, RPM arch).
_SUFFIX = ((re.compile(r"[.-](aarch64|arm64)$|-arm64-"), "arm64"),
           (re.compile(r"[.-](x86_64|amd64)$|-amd64-"), "x86_64"),
           (re.compile(r"[.-](i[3-6]86|686(-pae)?)$"), "i386"))
IMAGE_PATHS = ("/boot/vmlinuz-{v}", "/boot/Image-{v}", "/boot/vmlinux-{v}",
               "/usr/lib/modules/{v}/vmlinuz", "/lib/modules/{v}/vmlinuz")


def kernel_architecture(files: GuestFiles, version: str) -> str | None:
    """From the version's suffix when it has one (no read); else from the first image of
    `version` found: its PE header (EFI-stub kernels: x86 bzImage, arm64 Image), an arm64
    Image's magic (also inside a gzip-compressed one), or an x86 boot sector's `HdrS` with the
    64-bit flag. None if none tells."""
    for pattern, arch in _SUFFIX:
        if pattern.search(version):
            return arch
    for template in IMAGE_PATHS:
        head = files.read_bytes(template.format(v=version), 0, HEAD)
        if head:
            return image_architecture(head)
    return None


def image_architecture(head: bytes) -> str | None:
    if head[:2] == b"\x1f\x8b":                       # gzip-compressed Image (arm64 vmlinuz)
        try:
            head = zlib.decompressobj(31).decompress(head, 64)
        except zlib.error:
            return None
    if head[0x38:0x3C] == ARM64_MAGIC:
        return "arm64"
    if head[:2] == b"MZ" and len(head) >= 0x40:
        pe = int.from_bytes(head[0x3C:0x40], "little")
        if head[pe:pe + 4] == b"PE\0\0" and pe + 6 <= len(head):
            return PE_MACHINES.get(int.from_bytes(head[pe + 4:pe + 6], "little"))
    if head[0x202:0x206] == b"HdrS" and len(head) > 0x237:
        return "x86_64" if head[0x236] & 1 else None   # xloadflags: XLF_KERNEL_64
    return None
