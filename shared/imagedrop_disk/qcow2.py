"""QCOW2 v2/v3: header, extensions, and the guest view through L1/L2 (reading only the entries
the inspection needs, never whole tables)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .errors import CorruptImage, DiskError
from .cluster_map import BudgetedSource, ClusteredGuest, Compressed, Location, Plain, Zero

MAGIC = b"QFI\xfb"
MAX_L1_BYTES = 32 * 1024 * 1024
OFFSET_MASK = 0x00FFFFFFFFFFFE00
COMPRESSED_BIT = 1 << 62
ZERO_BIT = 1
EXT_BACKING_FORMAT = 0xE2792ACA
EXT_FULL_DISK_ENCRYPTION = 0x0537BE77
EXT_DATA_FILE = 0x44415441
INCOMPAT_DIRTY, INCOMPAT_CORRUPT, INCOMPAT_DATA_FILE, INCOMPAT_COMPRESSION, INCOMPAT_EXTL2 = (
    1, 2, 4, 8, 16)
KNOWN_INCOMPAT = 31
CRYPT_NAMES = {1: "AES", 2: "LUKS"}


@dataclass
class Qcow2Header:
    version: int
    cluster_bits: int
    virtual_size: int
    l1_size: int
    l1_offset: int
    crypt_method: int
    incompatible: int
    compression_type: int
    backing_file: str | None = None
    data_file: str | None = None
    extended_l2: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def cluster_size(self) -> int:
        return 1 << self.cluster_bits


def parse_header(head: bytes, source: BudgetedSource) -> Qcow2Header:
    """Header and extensions from the first bytes; one extra read only if they lie further."""
    if len(head) < 72:
        raise DiskError(f"qcow2 header: the file is {source.size} bytes, too short for a qcow2 "
                        f"header (72 bytes); the upload is truncated")
    (_, version, backing_off, backing_len, cluster_bits, size, crypt, l1_size, l1_off, _rt_off,
     _rt_clusters, _nsnap, _snap_off) = struct.unpack_from(">4sIQIIQIIQQIIQ", head, 0)
    if version not in (2, 3):
        raise DiskError(f"qcow2 header: version {version} is not 2 or 3; the file is corrupt "
                        f"or from a newer qemu (convert it with qemu-img convert -O qcow2)")
    if not 9 <= cluster_bits <= 21:
        raise DiskError(f"qcow2 header: cluster_bits {cluster_bits} is outside 9..21 "
                        f"(512 B..2 MiB clusters); the file is corrupt")
    incompat, header_len, ctype = 0, 72, 0
    if version == 3:
        if len(head) < 104:
            raise DiskError("qcow2 header: a v3 header needs 104 bytes; the file is truncated")
        incompat = struct.unpack_from(">Q", head, 72)[0]
        header_len = struct.unpack_from(">I", head, 100)[0]
        if header_len < 104 or header_len > (1 << cluster_bits):
            raise DiskError(f"qcow2 header: header_length {header_len} is outside 104..cluster "
                            f"size; the file is corrupt")
        if header_len > 104 and len(head) > 104:
            ctype = head[104]
    hdr = Qcow2Header(version, cluster_bits, size, l1_size, l1_off, crypt, incompat, ctype,
                      extended_l2=bool(incompat & INCOMPAT_EXTL2))
    # Extensions and the backing file name live in cluster 0, which qemu fills only in its
    # first few hundred bytes: the head read holds them.
    _read_extensions(head[:hdr.cluster_size], header_len, hdr)
    if backing_off:
        name = b""
        if 0 < backing_len <= 1023 and backing_off + backing_len <= hdr.cluster_size:
            name = source.read(backing_off, backing_len)
        hdr.backing_file = name.decode("utf-8", "replace") or "(unreadable name)"
    return hdr


def _read_extensions(cluster: bytes, pos: int, hdr: Qcow2Header) -> None:
    for _ in range(64):  # bounded: a cluster holds few extensions
        if pos + 8 > len(cluster):
            return
        ext_type, ext_len = struct.unpack_from(">II", cluster, pos)
        pos += 8
        if ext_type == 0:
            return
        data = cluster[pos:pos + ext_len]
        if ext_type == EXT_DATA_FILE:
            hdr.data_file = data.decode("utf-8", "replace")
        elif ext_type == EXT_FULL_DISK_ENCRYPTION and not hdr.crypt_method:
            hdr.crypt_method = 2
        pos += (ext_len + 7) & ~7


def blockers(hdr: Qcow2Header) -> list[str]:
    """Reasons ECS cannot import this qcow2, each with what to do."""
    out: list[str] = []
    fix = "qemu-img convert -O qcow2 in.qcow2 out.qcow2"
    if hdr.backing_file:
        out.append(f"qcow2 has a backing file ({hdr.backing_file!r}): ECS imports one "
                   f"self-contained file; flatten it first: {fix}")
    if hdr.crypt_method:
        name = CRYPT_NAMES.get(hdr.crypt_method, str(hdr.crypt_method))
        out.append(f"qcow2 is encrypted ({name}): ECS cannot read it; decrypt it first: "
                   f"qemu-img convert --object secret,id=s,file=KEY --image-opts "
                   f"driver=qcow2,file.filename=in.qcow2,encrypt.key-secret=s -O qcow2 out.qcow2")
    if hdr.data_file or hdr.incompatible & INCOMPAT_DATA_FILE:
        out.append(f"qcow2 keeps its data in an external file ({hdr.data_file!r}): merge it "
                   f"first: {fix}")
    if hdr.incompatible & INCOMPAT_CORRUPT:
        out.append("qcow2 is marked corrupt by qemu: repair it (qemu-img check -r all) or "
                   f"re-create it: {fix}")
    unknown = hdr.incompatible & ~KNOWN_INCOMPAT
    if unknown:
        out.append(f"qcow2 uses incompatible features this reader and ECS may not know "
                   f"(bits {unknown:#x}): {fix} -o compat=1.1")
    return out


class Qcow2Guest(ClusteredGuest):
    def __init__(self, source: BudgetedSource, hdr: Qcow2Header):
        self.source = source
        self.hdr = hdr
        self.cluster_size = hdr.cluster_size
        self.virtual_size = hdr.virtual_size
        self.entry_size = 16 if hdr.extended_l2 else 8
        self.l2_entries = self.cluster_size // self.entry_size
        needed_l1 = -(-hdr.virtual_size // (self.cluster_size * self.l2_entries))
        if hdr.l1_size * 8 > MAX_L1_BYTES:
            raise CorruptImage(f"qcow2 L1 table claims {hdr.l1_size} entries "
                               f"({hdr.l1_size * 8} bytes), over the {MAX_L1_BYTES}-byte cap")
        if hdr.l1_size < needed_l1:
            raise CorruptImage(f"qcow2 L1 table has {hdr.l1_size} entries, fewer than the "
                               f"{needed_l1} a {hdr.virtual_size}-byte disk needs")
        if hdr.l1_offset % self.cluster_size:
            raise CorruptImage(f"qcow2 L1 table offset {hdr.l1_offset} is not cluster-aligned")

    def locate(self, first: int, count: int) -> list[Location]:
        out: list[Location] = []
        l1_first, l1_last = first // self.l2_entries, (first + count - 1) // self.l2_entries
        l1 = self.source.read_table(self.hdr.l1_offset + l1_first * 8,
                                    (l1_last - l1_first + 1) * 8, "the qcow2 L1 table")
        cluster = first
        while cluster < first + count:
            l1_index = cluster // self.l2_entries
            in_table = min(first + count, (l1_index + 1) * self.l2_entries) - cluster
            l2_offset = struct.unpack_from(">Q", l1, (l1_index - l1_first) * 8)[0] & OFFSET_MASK
            if l2_offset == 0:
                out += [Zero()] * in_table
            else:
                if l2_offset % self.cluster_size:
                    raise CorruptImage(f"qcow2 L2 table offset {l2_offset} is not cluster-aligned")
                slot = cluster % self.l2_entries
                raw = self.source.read_table(l2_offset + slot * self.entry_size,
                                             in_table * self.entry_size, "a qcow2 L2 table")
                out += [self._decode(struct.unpack_from(">Q", raw, i * self.entry_size)[0])
                        for i in range(in_table)]
            cluster += in_table
        return out

    def _decode(self, entry: int) -> Location:
        if entry & COMPRESSED_BIT:
            x = 62 - (self.hdr.cluster_bits - 8)
            offset = entry & ((1 << x) - 1)
            sectors = ((entry >> x) & ((1 << (self.hdr.cluster_bits - 8)) - 1)) + 1
            codec = "zstd" if self.hdr.compression_type == 1 else "deflate"
            return Compressed(offset, sectors * 512 - (offset & 511), codec)
        if entry & ZERO_BIT and self.hdr.version == 3 and not self.hdr.extended_l2:
            return Zero()
        offset = entry & OFFSET_MASK
        if offset == 0:
            return Zero()  # unallocated: zeros (or the backing file's data, which is refused)
        if offset % self.cluster_size:
            raise CorruptImage(f"qcow2 data cluster offset {offset} is not cluster-aligned")
        return Plain(offset)


def details(hdr: Qcow2Header) -> dict[str, object]:
    return {"version": hdr.version, "cluster_size": hdr.cluster_size,
            "compression_type": "zstd" if hdr.compression_type == 1 else "zlib",
            "backing_file": hdr.backing_file, "encrypted": bool(hdr.crypt_method),
            "extended_l2": hdr.extended_l2}
