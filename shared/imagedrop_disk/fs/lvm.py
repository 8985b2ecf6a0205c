"""LVM2 physical volumes: the label, the PV header, the metadata areas' circular buffers and the
text metadata, turned into the linear logical volumes that live on this PV.

Mapped: LVs whose every segment is linear (`striped` with one stripe, or `linear`) on this PV,
any number of segments. Not mapped, each named in a note: striped (more than one stripe), RAID,
mirror, thin, cache, snapshot and VDO segments, and LVs with a segment on another PV.
"""

from __future__ import annotations

import bisect
import struct
import zlib
from dataclasses import dataclass

from ..errors import FsCorrupt
from . import lvm_text
from .api import Volume

SECTOR = 512
LABEL_SECTORS = 4
MDA_MAGIC = b"\x20LVM2\x20x[5A%r0N*>"
INITIAL_CRC = 0xF597A6CF
MAX_METADATA = 1024 * 1024      # bytes of one metadata text
MAX_AREAS = 8                   # data or metadata areas listed in the PV header
MAX_LVS = 256
MAX_SEGMENTS = 1024
LINEAR = ("striped", "linear")


@dataclass(frozen=True)
class Segment:
    lv_offset: int
    length: int
    pv_offset: int


class LogicalVolume:
    """The bytes of one linear LV, each segment read from its place on the PV."""

    def __init__(self, pv: Volume, segments: list[Segment]):
        self.pv, self.segments = pv, segments
        self._starts = [s.lv_offset for s in segments]
        self._size = segments[-1].lv_offset + segments[-1].length if segments else 0

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        end = min(self._size, offset + max(0, length))
        out = bytearray()
        pos = max(0, offset)
        while pos < end:
            seg = self.segments[bisect.bisect_right(self._starts, pos) - 1]
            take = min(end, seg.lv_offset + seg.length) - pos
            data = self.pv.read(seg.pv_offset + pos - seg.lv_offset, take)
            out += data
            if len(data) < take:
                break  # the PV is cut short: fewer bytes, as at the end of a volume
            pos += take
        return bytes(out)


def mapper_path(vg: str, lv: str) -> str:
    """/dev/mapper/<vg>-<lv>, a '-' inside either name doubled, as device-mapper names it."""
    return f"/dev/mapper/{vg.replace('-', '--')}-{lv.replace('-', '--')}"


def lv_for_device(path: str) -> str | None:
    """'vg/lv' for /dev/mapper/<vg>-<lv> or /dev/<vg>/<lv>; None for any other path."""
    if path.startswith("/dev/mapper/"):
        name, i = path[len("/dev/mapper/"):], 0
        while i < len(name):
            if name[i] == "-":
                if name[i + 1:i + 2] == "-":
                    i += 2
                    continue
                return f"{name[:i].replace('--', '-')}/{name[i + 1:].replace('--', '-')}"
            i += 1
        return None
    parts = path.split("/")
    if len(parts) == 4 and parts[:2] == ["", "dev"] and parts[2] and parts[3]:
        return f"{parts[2]}/{parts[3]}"
    return None


def logical_volumes(volume: Volume,
                    notes: list[str] | None = None) -> list[tuple[str, Volume]] | None:
    """None if `volume` is not an LVM2 PV; else its linear LVs as ("vg/lv", volume).

    Why an LV is left out goes into `notes`. Raises FsCorrupt when the label says LVM2 but the
    header or metadata it needs is impossible.
    """
    notes = notes if notes is not None else []
    head = volume.read(0, LABEL_SECTORS * SECTOR)
    label = _label_sector(head)
    if label is None:
        return None
    pv_uuid, mdas = _pv_header(volume, head, label)
    texts = [_metadata(volume, offset, size) for offset, size in mdas]
    parsed = [t for t in texts if t is not None]
    if not parsed:
        raise FsCorrupt("LVM2 PV: no metadata area holds committed metadata")
    vg_name, vg = max(parsed, key=lambda t: _int(t[1].get("seqno"), "seqno"))
    return _linear_lvs(volume, vg_name, vg, pv_uuid, notes)


def _label_sector(head: bytes) -> int | None:
    for i in range(LABEL_SECTORS):
        s = head[i * SECTOR:(i + 1) * SECTOR]
        if len(s) == SECTOR and s[:8] == b"LABELONE" and s[24:32] == b"LVM2 001":
            if struct.unpack_from("<Q", s, 8)[0] != i:
                raise FsCorrupt(f"LVM2 label in sector {i} says it is in another sector")
            if struct.unpack_from("<I", s, 16)[0] != lvm_crc(s[20:]):
                raise FsCorrupt(f"LVM2 label in sector {i}: checksum mismatch (corrupt label)")
            return i
    return None


def lvm_crc(data: bytes, initial: int = INITIAL_CRC) -> int:
    """LVM's CRC-32: the zlib polynomial, LVM's own seed, no final inversion."""
    return zlib.crc32(data, initial ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def _pv_header(volume: Volume, head: bytes, label: int) -> tuple[str, list[tuple[int, int]]]:
    start = label * SECTOR + struct.unpack_from("<I", head, label * SECTOR + 20)[0]
    if start < label * SECTOR + 32 or start >= LABEL_SECTORS * SECTOR:
        raise FsCorrupt(f"LVM2 label: PV header offset {start} lies outside the label sectors")
    need = 40 + 16 * 2 * (MAX_AREAS + 1)
    buf = head[start:start + need]
    if len(buf) < need:
        buf = volume.read(start, need)
    pv_uuid = buf[:32].decode("ascii", "replace")
    pos, lists = 40, []
    for _ in range(2):  # data areas, then metadata areas, each ended by a zero pair
        areas = []
        while True:
            if pos + 16 > len(buf) or len(areas) > MAX_AREAS:
                raise FsCorrupt(f"LVM2 PV header: more than {MAX_AREAS} areas in a list")
            offset, size = struct.unpack_from("<QQ", buf, pos)
            pos += 16
            if offset == 0 and size == 0:
                break
            areas.append((offset, size))
        lists.append(areas)
    return pv_uuid, lists[1]


def _metadata(volume: Volume, mda: int, mda_size: int) -> tuple[str, dict] | None:
    what = f"LVM2 metadata area at {mda}"
    header = volume.read(mda, SECTOR)
    if len(header) < SECTOR or header[4:20] != MDA_MAGIC:
        raise FsCorrupt(f"{what}: no mda header magic (corrupt or truncated)")
    if struct.unpack_from("<I", header, 0)[0] != lvm_crc(header[4:]):
        raise FsCorrupt(f"{what}: header checksum mismatch")
    _version, start, size = struct.unpack_from("<IQQ", header, 20)
    if start != mda or size < 2 * SECTOR or (mda_size and size > mda_size):
        raise FsCorrupt(f"{what}: header says start {start}, size {size}")
    offset, length, checksum, flags = struct.unpack_from("<QQII", header, 40)
    if length == 0 or flags & 1:
        return None  # an empty or ignored area
    if length > MAX_METADATA or offset < SECTOR or offset >= size:
        raise FsCorrupt(f"{what}: metadata of {length} bytes at {offset} is impossible (at most "
                        f"{MAX_METADATA} bytes inside the {size}-byte area)")
    first = min(length, size - offset)
    text = volume.read(mda + offset, first)
    if first < length:  # the circular buffer wraps to just after the header
        text += volume.read(mda + SECTOR, length - first)
    if len(text) < length:
        raise FsCorrupt(f"{what}: the metadata text is cut short (truncated image)")
    if lvm_crc(text) != checksum:
        raise FsCorrupt(f"{what}: metadata checksum mismatch")
    tree = lvm_text.parse(text.rstrip(b"\0").decode("ascii", "replace"))
    vgs = [(k, v) for k, v in tree.items() if isinstance(v, dict) and "physical_volumes" in v]
    if len(vgs) != 1:
        raise FsCorrupt(f"{what}: the metadata names {len(vgs)} volume groups, not one")
    return vgs[0]


def _linear_lvs(pv: Volume, vg_name: str, vg: dict, pv_uuid: str,
                notes: list[str]) -> list[tuple[str, Volume]]:
    extent = _int(vg.get("extent_size"), "extent_size") * SECTOR
    if extent <= 0 or extent > 1 << 40:
        raise FsCorrupt(f"LVM2 VG {vg_name}: extent_size {extent} bytes is impossible")
    pvs = vg.get("physical_volumes")
    ours = [(name, p) for name, p in (pvs.items() if isinstance(pvs, dict) else ())
            if isinstance(p, dict) and str(p.get("id", "")).replace("-", "") == pv_uuid]
    if not ours:
        raise FsCorrupt(f"LVM2 VG {vg_name}: this PV ({pv_uuid}) is not among its PVs")
    pv_name, pv_meta = ours[0]
    pe_start = _int(pv_meta.get("pe_start"), "pe_start") * SECTOR
    lvs = vg.get("logical_volumes", {})
    out: list[tuple[str, Volume]] = []
    for lv_name, lv in list(lvs.items() if isinstance(lvs, dict) else ())[:MAX_LVS]:
        if not isinstance(lv, dict):
            continue
        full = f"{vg_name}/{lv_name}"
        if "VISIBLE" not in (lv.get("status") or []):
            continue  # internal LVs (thin pool data, RAID images) are not volumes of their own
        segments, why = _segments(lv, pv_name, pe_start, extent)
        if why and _elsewhere(lv, pv_name):
            continue  # wholly on other PVs: read from those
        if why:
            notes.append(f"LVM2 LV {full} is not read: {why}")
            continue
        out.append((full, LogicalVolume(pv, segments)))
    if len(lvs) > MAX_LVS:
        notes.append(f"LVM2 VG {vg_name}: only the first {MAX_LVS} LVs are read")
    return out


def _segments(lv: dict, pv_name: str, pe_start: int,
              extent: int) -> tuple[list[Segment], str | None]:
    raw = [v for k, v in lv.items() if k.startswith("segment") and isinstance(v, dict)]
    if not raw or len(raw) > MAX_SEGMENTS:
        return [], f"{len(raw)} segments (1 to {MAX_SEGMENTS} are read)"
    segments: list[Segment] = []
    next_extent = 0
    for seg in sorted(raw, key=lambda s: _int(s.get("start_extent"), "start_extent")):
        kind, stripes = seg.get("type"), seg.get("stripes")
        count = seg.get("stripe_count", 1)
        if kind not in LINEAR or count != 1:
            return [], f"it has a {kind} segment of {count} stripes (only linear LVs are read)"
        if not isinstance(stripes, list) or len(stripes) != 2:
            return [], f"a segment's stripes {stripes!r} are not [pv, extent]"
        if stripes[0] != pv_name:
            return [], f"a segment lies on PV {stripes[0]}, not on this PV ({pv_name})"
        start, count = _int(seg.get("start_extent"), "start_extent"), \
            _int(seg.get("extent_count"), "extent_count")
        if start != next_extent or count <= 0:
            return [], f"its segments leave a gap or overlap at extent {start}"
        segments.append(Segment(start * extent, count * extent,
                                pe_start + _int(stripes[1], "stripes") * extent))
        next_extent = start + count
    return segments, None


def _elsewhere(lv: dict, pv_name: str) -> bool:
    """Every segment lies on other PVs (the LV is read from those, no note here)."""
    segments = [s for k, s in lv.items() if k.startswith("segment") and isinstance(s, dict)]
    return bool(segments) and all(
        isinstance(s.get("stripes"), list) and s["stripes"] and pv_name not in s["stripes"][::2]
        for s in segments)


def _int(value: object, field: str) -> int:
    if not isinstance(value, int) or value < 0:
        raise FsCorrupt(f"LVM2 metadata: {field} = {value!r} is not a non-negative integer")
    return value
