"""VHD (Virtual PC / Hyper-V v1): fixed (footer only at the end) and dynamic (footer copy at 0,
dynamic header, block allocation table)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import CorruptImage, DiskError
from .cluster_map import BudgetedSource, ClusteredGuest, Location, Plain, Zero

COOKIE = b"conectix"
DYNAMIC_COOKIE = b"cxsparse"
TYPE_FIXED, TYPE_DYNAMIC, TYPE_DIFFERENCING = 2, 3, 4
TYPE_NAMES = {TYPE_FIXED: "fixed", TYPE_DYNAMIC: "dynamic", TYPE_DIFFERENCING: "differencing"}
UNALLOCATED = 0xFFFFFFFF
MAX_GEOMETRY_SECTORS = 65535 * 16 * 255
# Creators whose size is the footer's current_size; others (Virtual PC, old qemu) use CHS, as
# qemu's vpc driver does, so our virtual size agrees with `qemu-img info`.
CURRENT_SIZE_CREATORS = (b"win ", b"qem2", b"d2v ", b"CTXS", b"tap\0")
MIN_BLOCK, MAX_BLOCK = 512 * 8, 256 * 1024 * 1024


@dataclass
class VhdFooter:
    disk_type: int
    data_offset: int
    current_size: int
    chs_sectors: int
    creator: bytes
    checksum_ok: bool = True
    ended: bool = True  # a dynamic VHD's last 512 bytes are its footer

    @property
    def virtual_size(self) -> int:
        use_chs = self.creator not in CURRENT_SIZE_CREATORS
        if use_chs and self.chs_sectors != MAX_GEOMETRY_SECTORS:
            return self.chs_sectors * 512
        return self.current_size


def parse_footer(raw: bytes) -> VhdFooter:
    if len(raw) < 512:
        raise DiskError(f"vhd footer: only {len(raw)} of its 512 bytes are in the file; the "
                        f"upload is truncated")
    if raw[:8] != COOKIE:
        raise DiskError("vhd footer: no 'conectix' cookie; the file is corrupt")
    data_offset, = struct.unpack_from(">Q", raw, 16)
    creator = raw[28:32]
    current, = struct.unpack_from(">Q", raw, 48)
    cyl, heads, spt = struct.unpack_from(">HBB", raw, 56)
    disk_type, stored = struct.unpack_from(">II", raw, 60)
    # One's complement of the byte sum with the checksum field zeroed; qemu refuses a mismatch.
    computed = ~(sum(raw[:64]) + sum(raw[68:512])) & 0xFFFFFFFF
    return VhdFooter(disk_type, data_offset, current, cyl * heads * spt, creator,
                     checksum_ok=computed == stored)


def blockers(footer: VhdFooter) -> list[str]:
    if not footer.checksum_ok:
        return ["vhd footer checksum does not match: the footer is corrupt (qemu and ECS refuse "
                "it); re-create the image: qemu-img convert -O vpc in.img out.vhd"]
    if not footer.ended:
        return ["vhd: a dynamic VHD ends with a copy of its footer and this file does not: it "
                "is truncated; re-upload it"]
    if footer.disk_type == TYPE_DIFFERENCING:
        return ["vhd is a differencing disk whose data partly lives in its parent: merge it "
                "first: qemu-img convert -O vpc child.vhd merged.vhd"]
    if footer.disk_type not in (TYPE_FIXED, TYPE_DYNAMIC):
        return [f"vhd disk type {footer.disk_type} is not fixed (2) or dynamic (3): the file "
                f"is corrupt"]
    return []


@dataclass
class DynamicHeader:
    bat_offset: int
    max_entries: int
    block_size: int


def parse_dynamic(source: BudgetedSource, footer: VhdFooter) -> DynamicHeader:
    raw = source.read_exact(footer.data_offset, 1024, "the vhd dynamic header")
    if raw[:8] != DYNAMIC_COOKIE:
        raise CorruptImage(f"vhd dynamic header at offset {footer.data_offset} has no 'cxsparse' "
                           f"cookie")
    bat, = struct.unpack_from(">Q", raw, 16)
    entries, block = struct.unpack_from(">II", raw, 28)
    if block < MIN_BLOCK or block > MAX_BLOCK or block & (block - 1):
        raise CorruptImage(f"vhd block size {block} is not a power of two in "
                           f"{MIN_BLOCK}..{MAX_BLOCK}")
    return DynamicHeader(bat, entries, block)


class VhdGuest(ClusteredGuest):
    def __init__(self, source: BudgetedSource, footer: VhdFooter, dyn: DynamicHeader):
        self.source = source
        self.dyn = dyn
        self.cluster_size = dyn.block_size
        self.virtual_size = footer.virtual_size
        bitmap_bits_bytes = (dyn.block_size // 512 + 7) // 8
        self.bitmap_bytes = (bitmap_bits_bytes + 511) // 512 * 512

    def locate(self, first: int, count: int) -> list[Location]:
        in_bat = max(0, min(count, self.dyn.max_entries - first))
        raw = self.source.read_table(self.dyn.bat_offset + first * 4, in_bat * 4,
                                     "the vhd block allocation table")
        # Sectors of an allocated block that were never written are zeros in the file too:
        # the sector bitmap only matters for differencing disks, which are refused.
        entries = struct.unpack(f">{in_bat}I", raw)
        located: list[Location] = [Zero() if e == UNALLOCATED else Plain(e * 512 + self.bitmap_bytes)
                                   for e in entries]
        return located + [Zero()] * (count - in_bat)  # past the table: never allocated


def details(footer: VhdFooter, dyn: DynamicHeader | None) -> dict[str, object]:
    out: dict[str, object] = {"subformat": TYPE_NAMES.get(footer.disk_type, str(footer.disk_type)),
                              "creator": footer.creator.decode("latin-1").strip("\0 "),
                              "current_size": footer.current_size}
    if dyn:
        out["block_size"] = dyn.block_size
    return out
