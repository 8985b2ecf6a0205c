"""VMDK: hosted sparse extents (monolithicSparse, streamOptimized with compressed grains and a
footer) and bare descriptor files, whose data lives in other files."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from .errors import CorruptImage, DiskError
from .cluster_map import BudgetedSource, ClusteredGuest, Compressed, Location, Plain, Zero

MAGIC = b"KDMV"
DESCRIPTOR_MAGIC = b"# Disk DescriptorFile"
GD_AT_END = 0xFFFFFFFFFFFFFFFF
FLAG_ZEROED_GTE = 1 << 2
FLAG_COMPRESSED = 1 << 16
FLAG_MARKERS = 1 << 17
FOOTER_BYTES = 1536  # footer marker, footer (a header copy), end-of-stream marker
MAX_GRAIN_SECTORS = 1 << 16
MAX_GTES = 1 << 16
CONVERT_HINT = "qemu-img convert -O qcow2 in.vmdk out.qcow2"
_EXTENT = re.compile(r'^\s*(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)(?:\s+"([^"]*)")?', re.M)
_CREATE_TYPE = re.compile(r'^\s*createType\s*=\s*"?([A-Za-z0-9_]+)"?', re.M)
_PARENT_CID = re.compile(r'^\s*parentCID\s*=\s*([0-9a-fA-F]+)', re.M)
_PARENT_HINT = re.compile(r'^\s*parentFileNameHint\s*=\s*"([^"]*)"', re.M)
NO_PARENT_CID = "ffffffff"


@dataclass
class SparseHeader:
    version: int
    flags: int
    capacity_sectors: int
    grain_sectors: int
    gtes_per_gt: int
    gd_offset_sectors: int
    descriptor: str
    create_type: str | None
    stream_ended: bool = True  # a stream's last sector is its end-of-stream marker

    @property
    def parent(self) -> str | None:
        """The parent disk's name hint (or CID) of a delta disk; None for a whole disk."""
        hint = _PARENT_HINT.search(self.descriptor)
        if hint:
            return hint.group(1)
        cid = _PARENT_CID.search(self.descriptor)
        if cid and cid.group(1).lower() != NO_PARENT_CID:
            return f"CID {cid.group(1)}"
        return None

    @property
    def compressed(self) -> bool:
        return bool(self.flags & FLAG_COMPRESSED)


def _unpack(raw: bytes) -> tuple[int, ...]:
    return struct.unpack_from("<4sIIQQQQIQQQ", raw, 0)


def parse_sparse(head: bytes, source: BudgetedSource) -> SparseHeader:
    if len(head) < 512:
        raise DiskError(f"vmdk header: the file is {source.size} bytes, too short for a sparse "
                        f"extent header (512 bytes); the upload is truncated")
    (_, version, flags, capacity, grain, desc_off, desc_size, gtes, _rgd, gd_off,
     _overhead) = _unpack(head)
    if version not in (1, 2, 3):
        raise DiskError(f"vmdk header: version {version} is not 1..3; the file is corrupt")
    descriptor = ""
    if desc_off and desc_size > 0:
        text = source.read(desc_off * 512, min(desc_size, 64) * 512)  # qemu writes 20 sectors
        descriptor = text.split(b"\0", 1)[0].decode("utf-8", "replace")
    if gd_off == GD_AT_END:
        footer = source.read(max(0, source.size - FOOTER_BYTES), FOOTER_BYTES)
        if len(footer) == FOOTER_BYTES and footer[512:516] == MAGIC:
            (_, _, flags, capacity, grain, _, _, gtes, _, gd_off, _) = _unpack(footer[512:1024])
    m = _CREATE_TYPE.search(descriptor)
    hdr = SparseHeader(version, flags, capacity, grain, gtes, gd_off, descriptor,
                       m.group(1) if m else None)
    if flags & FLAG_MARKERS:
        # A stream ends with an end-of-stream marker (a zero sector); a cut upload ends with
        # grain data. The footer read above already holds this sector when there was one.
        tail = source.read(max(0, source.size - 512), 512)
        hdr.stream_ended = source.size % 512 == 0 and tail[:16] == bytes(16)
    return hdr


def blockers(hdr: SparseHeader) -> list[str]:
    """Reasons ECS cannot import this sparse extent, each with what to do."""
    out: list[str] = []
    if not hdr.descriptor:
        out.append("vmdk sparse extent has no embedded descriptor: it is one piece of a "
                   "multi-file disk (e.g. twoGbMaxExtentSparse, whose descriptor is another "
                   "small .vmdk file): upload one self-contained image instead: qemu-img convert "
                   "-O qcow2 DESCRIPTOR.vmdk out.qcow2")
    parent = hdr.parent
    if parent:
        out.append(f"vmdk is a delta disk of a parent ({parent!r}) that holds part of its data: "
                   f"merge it first: qemu-img convert -O qcow2 child.vmdk out.qcow2")
    if not hdr.stream_ended:
        out.append("vmdk streamOptimized does not end with its end-of-stream marker: the file "
                   "is truncated; re-upload it")
    return out


class VmdkGuest(ClusteredGuest):
    def __init__(self, source: BudgetedSource, hdr: SparseHeader):
        g = hdr.grain_sectors
        if g < 1 or g > MAX_GRAIN_SECTORS or g & (g - 1):
            raise CorruptImage(f"vmdk grain size {g} sectors is not a power of two up to "
                               f"{MAX_GRAIN_SECTORS}")
        if not 1 <= hdr.gtes_per_gt <= MAX_GTES:
            raise CorruptImage(f"vmdk numGTEsPerGT {hdr.gtes_per_gt} is outside 1..{MAX_GTES}")
        if hdr.gd_offset_sectors == GD_AT_END:
            raise CorruptImage("vmdk streamOptimized: the grain directory is in the footer, and "
                               "the last 1536 bytes hold no footer: the file is truncated")
        if hdr.gd_offset_sectors == 0:
            raise CorruptImage("vmdk header: the grain directory offset is missing")
        self.source = source
        self.hdr = hdr
        self.cluster_size = g * 512
        self.virtual_size = hdr.capacity_sectors * 512

    def locate(self, first: int, count: int) -> list[Location]:
        per_gt = self.hdr.gtes_per_gt
        gd_first, gd_last = first // per_gt, (first + count - 1) // per_gt
        gd = self.source.read_table(self.hdr.gd_offset_sectors * 512 + gd_first * 4,
                                    (gd_last - gd_first + 1) * 4, "the vmdk grain directory")
        out: list[Location] = []
        grain = first
        while grain < first + count:
            gd_index = grain // per_gt
            in_table = min(first + count, (gd_index + 1) * per_gt) - grain
            gt_sector = struct.unpack_from("<I", gd, (gd_index - gd_first) * 4)[0]
            if gt_sector == 0:
                out += [Zero()] * in_table
            else:
                raw = self.source.read_table(gt_sector * 512 + (grain % per_gt) * 4,
                                             in_table * 4, "a vmdk grain table")
                out += [self._decode(struct.unpack_from("<I", raw, i * 4)[0])
                        for i in range(in_table)]
            grain += in_table
        return out

    def _decode(self, entry: int) -> Location:
        if entry == 0 or (entry == 1 and self.hdr.flags & FLAG_ZEROED_GTE):
            return Zero()
        offset = entry * 512
        if self.hdr.compressed:
            # The marker and the grain it heads in one read: the data follows it directly.
            marker = self.source.read_around(offset, 12 + self.cluster_size)[:12]
            if len(marker) < 12:
                raise CorruptImage(f"a vmdk grain marker at offset {offset} lies beyond the end "
                                   f"of the file ({self.source.size} bytes): the file is "
                                   f"truncated or corrupt")
            size = struct.unpack_from("<I", marker, 8)[0]
            if size == 0 or size > 2 * self.cluster_size + 4096:
                raise CorruptImage(f"vmdk compressed grain at {offset} claims {size} bytes")
            return Compressed(offset + 12, size, "zlib")
        return Plain(offset)


def details(hdr: SparseHeader) -> dict[str, object]:
    return {"subformat": hdr.create_type or ("streamOptimized" if hdr.compressed
                                              else "monolithicSparse"),
            "version": hdr.version, "grain_size": hdr.grain_sectors * 512,
            "compressed": hdr.compressed}


@dataclass
class Descriptor:
    create_type: str | None
    virtual_size: int
    extents: list[tuple[str, str]]  # (type, file name)


def parse_descriptor(text: bytes) -> Descriptor:
    """A text descriptor file: its extents are other files, so the image is not self-contained."""
    body = text.split(b"\0", 1)[0].decode("utf-8", "replace")
    m = _CREATE_TYPE.search(body)
    extents = _EXTENT.findall(body)
    if not m and not extents:
        raise DiskError("vmdk descriptor: no createType and no extent lines; the file is not a "
                        "VMDK descriptor")
    total = sum(int(e[1]) for e in extents) * 512
    return Descriptor(m.group(1) if m else None, total, [(e[2], e[3]) for e in extents])


def descriptor_blocker(desc: Descriptor) -> str:
    names = ", ".join(repr(n) for _, n in desc.extents) or "none listed"
    return (f"vmdk is a descriptor ({desc.create_type or 'unknown type'}) whose data lives in "
            f"other files ({names}): upload one self-contained image instead: {CONVERT_HINT}")
