"""NTFS on-disk structures: boot sector, fix-ups, MFT record attributes, runlists, data streams.

Pure decoding over bytes plus `DataStream`, which reads a non-resident attribute's content
through its runlist (sparse runs and bytes past the initialised size read as zeros).
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

from ..errors import FsCorrupt
from .api import MAX_EXTENTS, Volume

ATTR_LIST, FILE_NAME, VOLUME_NAME, DATA = 0x20, 0x30, 0x60, 0x80
INDEX_ROOT, INDEX_ALLOCATION, REPARSE_POINT = 0x90, 0xA0, 0xC0
END = 0xFFFFFFFF
FLAG_COMPRESSED, FLAG_ENCRYPTED = 0x0001, 0x4000
MAX_ATTRS = 256                 # attributes one record may hold
STRIDE = 512                    # fix-up stride, whatever the sector size


@dataclass(frozen=True)
class Boot:
    cluster: int
    total_bytes: int
    mft_lcn: int
    record_size: int
    index_size: int
    serial: int


def parse_boot(sector: bytes) -> Boot | None:
    """The boot sector's geometry, None when the OEM id is not NTFS."""
    if len(sector) < 512 or sector[3:11] != b"NTFS    ":
        return None
    bps, spc_raw = struct.unpack_from("<HB", sector, 0x0B)
    if bps < 256 or bps > 4096 or bps & (bps - 1):
        raise FsCorrupt(f"NTFS boot sector: bytes per sector {bps} is not a power of two in "
                        f"256..4096")
    spc = 1 << (256 - spc_raw) if spc_raw >= 244 else spc_raw
    if spc == 0 or spc & (spc - 1) or bps * spc > 2 * 1024 * 1024:
        raise FsCorrupt(f"NTFS boot sector: sectors per cluster {spc_raw} is not a power of two "
                        f"giving at most 2 MiB clusters")
    cluster = bps * spc
    total, mft_lcn = struct.unpack_from("<QQ", sector, 0x28)
    record = _record_size(struct.unpack_from("<b", sector, 0x40)[0], cluster, "MFT record")
    index = _record_size(struct.unpack_from("<b", sector, 0x44)[0], cluster, "index record")
    serial = struct.unpack_from("<Q", sector, 0x48)[0]
    total_bytes = total * bps
    if mft_lcn == 0 or mft_lcn * cluster + record > total_bytes:
        raise FsCorrupt(f"NTFS boot sector: the MFT at cluster {mft_lcn} lies outside the "
                        f"{total_bytes}-byte volume")
    return Boot(cluster, total_bytes, mft_lcn, record, index, serial)


def _record_size(value: int, cluster: int, what: str) -> int:
    size = 1 << -value if value < 0 else value * cluster
    if value < -31 or size < STRIDE or size > 64 * 1024 or size & (size - 1):
        raise FsCorrupt(f"NTFS boot sector: {what} size code {value} gives {size} bytes, not a "
                        f"power of two in 512..65536")
    return size


def apply_fixups(buf: bytes, magic: bytes, what: str) -> bytes:
    """The record with its update-sequence fix-ups applied; FsCorrupt on a torn record."""
    if buf[:4] != magic:
        found = buf[:4].decode("latin-1", "replace")
        raise FsCorrupt(f"{what} should start with {magic.decode()!r} and starts with {found!r}")
    usa_off, usa_count = struct.unpack_from("<HH", buf, 4)
    strides = len(buf) // STRIDE
    if usa_count != strides + 1 or usa_off < 8 or usa_off + 2 * usa_count > STRIDE - 2:
        raise FsCorrupt(f"{what}: update sequence array ({usa_count} entries at {usa_off}) does "
                        f"not fit a {len(buf)}-byte record")
    out = bytearray(buf)
    usn = buf[usa_off:usa_off + 2]
    for i in range(1, strides + 1):
        end = i * STRIDE
        if out[end - 2:end] != usn:
            raise FsCorrupt(f"{what}: fix-up mismatch in sector {i} (a torn or corrupt write)")
        out[end - 2:end] = buf[usa_off + 2 * i:usa_off + 2 * i + 2]
    return bytes(out)


@dataclass(frozen=True)
class Run:
    vcn: int
    length: int
    lcn: int | None             # None: a sparse run (zeros)


@dataclass(frozen=True)
class Attr:
    type: int
    name: str
    flags: int
    attr_id: int
    resident: bytes | None      # the value of a resident attribute
    lowest_vcn: int = 0
    highest_vcn: int = 0
    runs: tuple[Run, ...] = ()
    data_size: int = 0
    init_size: int = 0

    @property
    def size(self) -> int:
        return len(self.resident) if self.resident is not None else self.data_size


@dataclass(frozen=True)
class Record:
    number: int
    flags: int
    sequence: int
    base: int                   # record number of the base record, 0 for a base record
    attrs: tuple[Attr, ...]

    @property
    def in_use(self) -> bool:
        return bool(self.flags & 1)

    @property
    def is_dir(self) -> bool:
        return bool(self.flags & 2)


def parse_record(raw: bytes, number: int, total_clusters: int) -> Record:
    what = f"MFT record {number}"
    buf = apply_fixups(raw, b"FILE", what)
    seq, _links, first, flags, used = struct.unpack_from("<HHHHI", buf, 0x10)
    base = struct.unpack_from("<Q", buf, 0x20)[0] & 0xFFFFFFFFFFFF
    if used > len(buf) or first < 0x18 or first >= used:
        raise FsCorrupt(f"{what}: first attribute {first} or used size {used} is impossible")
    attrs: list[Attr] = []
    pos = first
    while pos + 4 <= used:
        atype = struct.unpack_from("<I", buf, pos)[0]
        if atype == END:
            break
        if len(attrs) >= MAX_ATTRS:
            raise FsCorrupt(f"{what}: more than {MAX_ATTRS} attributes")
        length = struct.unpack_from("<I", buf, pos + 4)[0] if pos + 8 <= used else 0
        if length < 24 or length % 8 or pos + length > used:
            raise FsCorrupt(f"{what}: attribute at {pos} has impossible length {length}")
        attrs.append(_parse_attr(buf[pos:pos + length], what, total_clusters))
        pos += length
    return Record(number, flags, seq, base, tuple(attrs))


def _parse_attr(a: bytes, what: str, total_clusters: int) -> Attr:
    atype, _len, nonres, name_len, name_off, flags, attr_id = struct.unpack_from("<IIBBHHH", a)
    if name_len and name_off + 2 * name_len > len(a):
        raise FsCorrupt(f"{what}: attribute {atype:#x} name runs past the attribute")
    name = a[name_off:name_off + 2 * name_len].decode("utf-16-le", "replace")
    if not nonres:
        vlen, voff = struct.unpack_from("<IH", a, 0x10)
        if voff + vlen > len(a):
            raise FsCorrupt(f"{what}: resident attribute {atype:#x} value runs past its end")
        return Attr(atype, name, flags, attr_id, a[voff:voff + vlen])
    if len(a) < 0x40:
        raise FsCorrupt(f"{what}: non-resident attribute {atype:#x} header is short")
    low, high, run_off = struct.unpack_from("<qqH", a, 0x10)
    _alloc, size, init = struct.unpack_from("<QQQ", a, 0x28)
    if low < 0 or high + 1 < low or run_off >= len(a):
        raise FsCorrupt(f"{what}: attribute {atype:#x} VCNs {low}..{high} or runlist offset "
                        f"{run_off} are impossible")
    runs = decode_runlist(a[run_off:], low, high, total_clusters, f"{what} attribute {atype:#x}")
    return Attr(atype, name, flags, attr_id, None, low, high, runs, size, min(init, size))


def decode_runlist(data: bytes, first_vcn: int, highest_vcn: int, total_clusters: int,
                   what: str) -> tuple[Run, ...]:
    runs: list[Run] = []
    pos, vcn, lcn = 0, first_vcn, 0
    while pos < len(data) and data[pos] != 0:
        header = data[pos]
        len_size, off_size = header & 0xF, header >> 4
        end = pos + 1 + len_size + off_size
        if len_size == 0 or len_size > 8 or off_size > 8 or end > len(data):
            raise FsCorrupt(f"{what}: runlist header {header:#x} at byte {pos} is impossible")
        length = int.from_bytes(data[pos + 1:pos + 1 + len_size], "little")
        delta = int.from_bytes(data[pos + 1 + len_size:pos + 1 + len_size + off_size], "little",
                               signed=True)
        pos += 1 + len_size + off_size
        if length == 0 or len(runs) >= MAX_EXTENTS or vcn + length > highest_vcn + 1:
            raise FsCorrupt(f"{what}: run {len(runs)} ({length} clusters at VCN {vcn}) is empty, "
                            f"past VCN {highest_vcn} or over {MAX_EXTENTS} runs")
        if off_size == 0:
            runs.append(Run(vcn, length, None))
        else:
            lcn += delta
            if lcn < 0 or lcn + length > total_clusters:
                raise FsCorrupt(f"{what}: run {len(runs)} at cluster {lcn} (+{length}) lies "
                                f"outside the volume's {total_clusters} clusters")
            runs.append(Run(vcn, length, lcn))
        vcn += length
    return tuple(runs)


class DataStream:
    """A non-resident attribute's content: `size` bytes mapped by `runs`."""

    def __init__(self, volume: Volume, cluster: int, runs: list[Run], size: int, init: int,
                 what: str):
        self.volume, self.cluster, self.what = volume, cluster, what
        self.size, self.init = size, init
        self.runs = runs
        self._starts = [r.vcn for r in runs]
        for prev, run in zip(runs, runs[1:]):
            if run.vcn != prev.vcn + prev.length:
                raise FsCorrupt(f"{what}: its runs leave a gap or overlap at VCN {run.vcn}")
        mapped = (runs[-1].vcn + runs[-1].length) * cluster if runs else 0
        if (runs and runs[0].vcn != 0) or mapped < size:
            raise FsCorrupt(f"{what}: its runs map {mapped} bytes of its {size}")

    def read(self, offset: int, length: int) -> bytes:
        end = min(self.size, offset + max(0, length))
        if offset < 0 or offset >= end:
            return b""
        out = bytearray()
        pos = offset
        while pos < end:
            i = bisect.bisect_right(self._starts, pos // self.cluster) - 1
            run = self.runs[i]
            run_end = (run.vcn + run.length) * self.cluster
            take = min(end, run_end) - pos
            if run.lcn is None or pos >= self.init:
                out += bytes(take)
            else:
                phys = run.lcn * self.cluster + (pos - run.vcn * self.cluster)
                data = self.volume.read(phys, take)
                if len(data) < take:
                    raise FsCorrupt(f"{self.what}: cluster {run.lcn} lies past the end of the "
                                    f"image (truncated)")
                out += data
            pos += take
        if offset < self.init < end:
            cut = self.init - offset
            out[cut:] = bytes(len(out) - cut)
        return bytes(out)
