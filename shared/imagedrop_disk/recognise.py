"""Magic sniffing, and the formats ECS does not import (VHDX, VDI, ISO 9660), which are
recognised only to refuse them with the way to convert."""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

from .cluster_map import BudgetedSource
from .qcow2 import MAGIC as QCOW2_MAGIC
from .vhd import COOKIE as VHD_COOKIE
from .vmdk import DESCRIPTOR_MAGIC, MAGIC as VMDK_MAGIC

# One read serves every format's header: qcow2, vmdk header and embedded descriptor, the VHD
# footer copy and dynamic header, VDI, the ISO 9660 volume descriptor at 0x8001, and a raw
# disk's MBR and GPT (sectors 0..33).
HEAD_BYTES = 0x9000
VHDX_MAGIC = b"vhdxfile"
VDI_TEXT = b"<<< Oracle VM VirtualBox Disk Image >>>"
VDI_SIGNATURE = 0xBEDA107F
ISO_OFFSET = 0x8001
VHDX_REGION_TABLE = 192 * 1024
VHDX_METADATA_REGION = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
VHDX_VIRTUAL_DISK_SIZE = uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
LUKS_MAGIC = b"LUKS\xba\xbe"
# Containers qemu reads but ECS does not import, and that the inspection has no format name
# for: (magic at offset 0, what it is, the file extension to show in the hint).
FOREIGN = (
    (b"QED\0", "a QED image", "qed"),
    (b"WithoutFreeSpace", "a Parallels image", "hdd"),
    (b"WithouFreSpacExt", "a Parallels image", "hdd"),
    (b"Bochs Virtual HD Image\0", "a Bochs image", "img"),
    (b"#!/bin/sh\n#V2.0 Format\nmodprobe cloop", "a cloop image", "cloop"),
    (b"COWD", "a VMware ESX sparse (COWD, vmfsSparse) extent: a snapshot delta, not a whole disk",
     "vmdk"),
)


def sniff(head: bytes) -> str | None:
    """The container format from its magic, or None when nothing matches (raw candidate)."""
    if head[:4] == QCOW2_MAGIC:
        return "qcow2"
    if head[:4] == VMDK_MAGIC:
        return "vmdk"
    if head[:len(DESCRIPTOR_MAGIC)] == DESCRIPTOR_MAGIC or (
            b"createType=" in head[:4096] and head[:1].isascii() and b"\0" not in head[:512]):
        return "vmdk-descriptor"
    if head[:8] == VHDX_MAGIC:
        return "vhdx"
    if head[:len(VDI_TEXT)] == VDI_TEXT or _vdi_signature(head):
        return "vdi"
    if head[:8] == VHD_COOKIE:
        return "vhd"
    if head[ISO_OFFSET:ISO_OFFSET + 5] == b"CD001":
        return "iso"
    return None


def foreign(head: bytes) -> str | None:
    """One line refusing a container that is none of ours (LUKS, QED, Parallels, …), or None."""
    if head[:6] == LUKS_MAGIC:
        return ("the file is a LUKS-encrypted volume: ECS cannot read it; decrypt it first: "
                "qemu-img convert --object secret,id=s,file=KEY --image-opts "
                "driver=luks,file.filename=in.img,key-secret=s -O qcow2 out.qcow2")
    if head[:4] == QCOW2_MAGIC and head[4:8] == b"\0\0\0\1":
        return ("the file is a qcow (version 1) image, the predecessor of qcow2, which ECS does "
                "not import: convert it first: qemu-img convert -O qcow2 in.qcow out.qcow2")
    for magic, what, ext in FOREIGN:
        if head[:len(magic)] == magic:
            return (f"the file is {what}, not a format ECS imports (qcow2, vmdk, vhd, raw): "
                    f"convert it first: qemu-img convert -O qcow2 in.{ext} out.qcow2")
    return None


def is_vhd_footer(tail: bytes) -> bool:
    return len(tail) == 512 and tail[:8] == VHD_COOKIE


def _vdi_signature(head: bytes) -> bool:
    return len(head) >= 0x44 and struct.unpack_from("<I", head, 0x40)[0] == VDI_SIGNATURE


@dataclass
class Refusal:
    virtual_size: int
    problem: str
    details: dict[str, object]


def refuse(fmt: str, head: bytes, source: BudgetedSource) -> Refusal:
    if fmt == "vhdx":
        return Refusal(vhdx_virtual_size(source),
                       "VHDX is not a format ECS imports: convert it first: "
                       "qemu-img convert -O qcow2 in.vhdx out.qcow2", {})
    if fmt == "vdi":
        size = struct.unpack_from("<Q", head, 0x170)[0] if len(head) >= 0x178 else 0
        return Refusal(size, "VDI is not a format ECS imports: convert it first: "
                             "qemu-img convert -O qcow2 in.vdi out.qcow2", {})
    # ISO 9660: to qemu it is a raw file of its own size.
    label = head[0x8028:0x8048].decode("ascii", "replace").strip() if len(head) > 0x8048 else ""
    return Refusal(source.size, "an ISO 9660 image is installation media, not a disk: install "
                                "it onto a disk first (a VM booted from the ISO), then import "
                                "that disk", {"volume_label": label})


def vhdx_virtual_size(source: BudgetedSource) -> int:
    """Virtual disk size from the VHDX metadata region; 0 when it cannot be found."""
    table = source.read(VHDX_REGION_TABLE, 4096)
    if len(table) < 16 or table[:4] != b"regi":
        return 0
    count = min(struct.unpack_from("<I", table, 8)[0], (len(table) - 16) // 32)
    for i in range(count):
        guid, offset, length = struct.unpack_from("<16sQI", table, 16 + i * 32)
        if uuid.UUID(bytes_le=guid) == VHDX_METADATA_REGION:
            return _vhdx_size_item(source, offset, length)
    return 0


def _vhdx_size_item(source: BudgetedSource, region: int, length: int) -> int:
    meta = source.read(region, min(length, 4096))
    if len(meta) < 32 or meta[:8] != b"metadata":
        return 0
    count = min(struct.unpack_from("<H", meta, 10)[0], (len(meta) - 32) // 32)
    for i in range(count):
        guid, offset, item_len = struct.unpack_from("<16sII", meta, 32 + i * 32)
        if uuid.UUID(bytes_le=guid) == VHDX_VIRTUAL_DISK_SIZE and item_len >= 8:
            raw = source.read(region + offset, 8)
            return struct.unpack("<Q", raw)[0] if len(raw) == 8 else 0
    return 0
