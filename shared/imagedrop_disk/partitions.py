"""Pure decisions over the guest's first sectors: partition table, boot mode, OS family.

No I/O here: `read_layout` takes a function that reads guest bytes.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

SECTOR = 512
FIRST_READ = 34 * SECTOR  # MBR, GPT header and the usual 128 entries at LBA 2
MAX_ENTRY_BYTES = 32 * 1024

ESP = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
BIOS_BOOT = "21686148-6449-6e6f-744e-656564454649"
WINDOWS_GUIDS = {
    "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7": "Microsoft basic data",
    "e3c9e316-0b5c-4db8-817d-f92df00215ae": "Microsoft reserved",
    "de94bba4-06d1-4d40-a16a-bfd50179d6ac": "Windows recovery",
    "5808c8aa-7e8f-42e0-85d2-e1e90434cfb3": "Windows LDM metadata",
    "af9b60a0-1431-4f62-bc68-3311714a69ad": "Windows LDM data",
}
LINUX_GUIDS = {
    "0fc63daf-8483-4772-8e79-3d69d8477de4": "Linux filesystem",
    "e6d6d379-f507-44c2-a23c-238f2a3df928": "Linux LVM",
    "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f": "Linux swap",
    "a19d880f-05fc-4d3b-a006-743f0f84911e": "Linux RAID",
    "4f68bce3-e8cd-4db1-96e7-fbcaf984b709": "Linux root (x86-64)",
    "44479540-f297-41b2-9af7-d131d5f0458a": "Linux root (x86)",
    "b921b045-1df0-41c3-af44-4c6f280d3fae": "Linux root (arm64)",
    "933ac7e1-2eb4-4f13-b844-0e14e2aef915": "Linux home",
    "bc13c2ff-59e6-4262-a352-b275fd6f7172": "Linux extended boot",
    "ca7d7ccb-63ed-4c53-861c-1742536059cc": "Linux LUKS",
    "8da63339-0007-60c0-c436-083ac8230908": "Linux reserved",
}
MBR_ESP = 0xEF
MBR_PROTECTIVE = 0xEE
MBR_EXTENDED = (0x05, 0x0F, 0x85)
MAX_LOGICAL = 4  # EBRs followed when the primary partitions leave the OS family open
MBR_WINDOWS = {0x07: "NTFS/exFAT", 0x27: "Windows recovery", 0x42: "Windows LDM"}
MBR_LINUX = {0x83: "Linux", 0x8E: "Linux LVM", 0x82: "Linux swap", 0xFD: "Linux RAID"}


@dataclass(frozen=True)
class PartitionSpan:
    """Where one partition lies on the guest disk: bytes from the disk's start."""

    start: int
    size: int
    type: str          # GPT type GUID (lowercase) or MBR type as "0x83"
    uuid: str = ""     # GPT unique partition GUID (fstab's PARTUUID=), lowercase
    number: int = 0    # as Linux numbers it: GPT entry, MBR slot 1-4, logical 5 and up


@dataclass
class Layout:
    partition_table: str = "none"
    boot_mode: str | None = None
    os_type: str | None = None
    partitions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    spans: list[PartitionSpan] = field(default_factory=list)  # empty: no partition table
    extended_lba: int | None = None  # MBR extended partition, whose logical ones may be unread


def read_layout(read: Callable[[int, int], bytes], virtual_size: int) -> Layout:
    first = read(0, FIRST_READ)
    first += bytes(FIRST_READ - len(first))
    bare = _bare_filesystem(first, virtual_size)
    if bare is not None:
        return bare
    for sector in (SECTOR, 4096):
        if first[sector:sector + 8] == b"EFI PART":
            return _gpt(read, first[sector:sector + SECTOR], (0, first), sector, virtual_size)
    layout = _mbr(read, first, virtual_size)
    if layout.partition_table == "gpt" and layout.boot_mode is None:
        return _backup_gpt(read, virtual_size) or layout
    return layout


def _bare_filesystem(first: bytes, virtual_size: int) -> Layout | None:
    if first[1080:1082] == b"\x53\xef":
        log_block, = struct.unpack_from("<I", first, 1024 + 24)
        blocks = struct.unpack_from("<I", first, 1024 + 4)[0]
        if struct.unpack_from("<I", first, 1024 + 0x60)[0] & 0x80:  # INCOMPAT_64BIT
            blocks |= struct.unpack_from("<I", first, 1024 + 0x150)[0] << 32
        size = blocks << (10 + log_block) if log_block < 22 else 0
        return _bare("linux", "ext2/3/4", size, virtual_size)
    if first[:4] == b"XFSB":
        block_size, blocks = struct.unpack_from(">IQ", first, 4)
        return _bare("linux", "XFS", block_size * blocks, virtual_size)
    if first[3:11] == b"NTFS    ":
        bps, = struct.unpack_from("<H", first, 0x0B)
        sectors, = struct.unpack_from("<Q", first, 0x28)
        # The NTFS backup boot sector follows the counted sectors: the volume is one more.
        return _bare("windows", "NTFS", bps * (sectors + 1), virtual_size)
    return None


def _bare(os_type: str, fs: str, fs_size: int, virtual_size: int) -> Layout:
    layout = Layout(os_type=os_type, partitions=[f"{fs} filesystem (no partition table)"])
    if fs_size > virtual_size:
        layout.problems.append(f"the {fs} filesystem says it has {fs_size} bytes but the image "
                               f"holds {virtual_size}: the image is truncated; re-create or "
                               f"re-upload it")
    return layout


def _mbr_entries(sector: bytes) -> list[tuple[int, int, int]] | None:
    """(type, first LBA, sectors) of the used entries; None when this is no partition table."""
    if sector[510:512] != b"\x55\xaa":
        return None
    raw = [sector[446 + i * 16:462 + i * 16] for i in range(4)]
    if any(e[0] not in (0, 0x80) for e in raw):
        return None  # boot code of a bare filesystem, not a partition table
    return [(e[4], *struct.unpack_from("<II", e, 8)) for e in raw if e[4]]


def _mbr(read: Callable[[int, int], bytes], first: bytes, virtual_size: int) -> Layout:
    entries = _mbr_entries(first)
    if not entries:
        return Layout()
    types = [t for t, _, _ in entries]
    problems = [f"MBR partition {i + 1} (type 0x{t:02x}) ends at byte {(lba + n) * SECTOR} but "
                f"the image holds {virtual_size}: the image is truncated; re-create or re-upload "
                f"it" for i, (t, lba, n) in enumerate(entries)
                if (lba + n) * SECTOR > virtual_size and not (t == MBR_PROTECTIVE and
                                                              n == 0xFFFFFFFF)][:1]
    if MBR_PROTECTIVE in types:
        return Layout(partition_table="gpt", problems=problems, notes=[
            "protective MBR (0xEE) but no GPT header at LBA 1: the GPT is damaged"])
    extended = [lba for t, lba, _ in entries if t in MBR_EXTENDED]
    slots = [i + 1 for i in range(4) if first[446 + i * 16 + 4]]
    spans = [PartitionSpan(lba * SECTOR, n * SECTOR, f"0x{t:02x}", number=slot)
             for slot, (t, lba, n) in zip(slots, entries) if t not in MBR_EXTENDED and n]
    if extended and not problems and not _os_of(types):
        logical = _logical_types(read, extended[0], virtual_size)
        types += [t for t, _, _ in logical]
        spans += _spans_of(logical)
    has_esp = MBR_ESP in types
    windows = [MBR_WINDOWS[t] for t in types if t in MBR_WINDOWS]
    linux = [MBR_LINUX[t] for t in types if t in MBR_LINUX]
    names = [f"0x{t:02x}" + (" (EFI system)" if t == MBR_ESP else "") for t in types]
    layout = Layout(partition_table="mbr", boot_mode="UEFI" if has_esp else "BIOS",
                    partitions=names, problems=problems, spans=spans,
                    extended_lba=extended[0] if extended else None)
    _decide_os(layout, windows, linux)
    return layout


def _spans_of(logical: list[tuple[int, int, int]]) -> list[PartitionSpan]:
    return [PartitionSpan(lba * SECTOR, n * SECTOR, f"0x{t:02x}", number=5 + i)
            for i, (t, lba, n) in enumerate(logical) if n]


def logical_spans(read: Callable[[int, int], bytes], extended_lba: int, virtual_size: int,
                  limit: int = 16) -> list[PartitionSpan]:
    """Every logical partition of an MBR extended partition (up to `limit`), numbered from 5."""
    return _spans_of(_logical_types(read, extended_lba, virtual_size, limit, stop_at_os=False))


def _os_of(types: list[int]) -> bool:
    return any(t in MBR_WINDOWS or t in MBR_LINUX for t in types)


def _logical_types(read: Callable[[int, int], bytes], ext_lba: int, virtual_size: int,
                   limit: int = MAX_LOGICAL,
                   stop_at_os: bool = True) -> list[tuple[int, int, int]]:
    """(type, first LBA on the disk, sectors) of the first logical partitions, up to the first
    that tells the OS family: each EBR is one more read (two through a container), so only a
    few."""
    out: list[tuple[int, int, int]] = []
    ebr = ext_lba
    for _ in range(limit):
        if ebr == 0 or (ebr + 1) * SECTOR > virtual_size:
            break
        entries = _mbr_entries(read(ebr * SECTOR, SECTOR))
        if not entries:
            break
        out += [(t, ebr + lba, n) for t, lba, n in entries if t not in MBR_EXTENDED]
        if stop_at_os and _os_of([t for t, _, _ in out]):
            break
        nxt = [lba for t, lba, _ in entries if t in MBR_EXTENDED]
        ebr = ext_lba + nxt[0] if nxt else 0  # next EBR: relative to the extended partition
    return out


def _backup_gpt(read: Callable[[int, int], bytes], virtual_size: int) -> Layout | None:
    """The backup GPT at the end of the disk, when the primary header is gone."""
    for ss in (SECTOR, 4096):
        tail_bytes = 33 * ss if ss == SECTOR else 6 * ss  # header + the usual 128 entries
        start = virtual_size - tail_bytes
        if start < ss or virtual_size % ss:
            continue
        tail = read(start, tail_bytes)
        hdr_raw = tail[len(tail) - ss:len(tail) - ss + SECTOR]
        if hdr_raw[:8] == b"EFI PART":
            layout = _gpt(read, hdr_raw, (start, tail), ss, virtual_size)
            layout.notes.insert(0, "the primary GPT header is damaged; read the backup GPT at "
                                   "the end of the disk (repair it with sgdisk -e or gdisk)")
            return layout
    return None


def _gpt(read: Callable[[int, int], bytes], hdr_raw: bytes, cache: tuple[int, bytes], ss: int,
         virtual_size: int) -> Layout:
    """A GPT from its header; `cache` is (offset, bytes) already read that may hold the entries."""
    hsize, hcrc = struct.unpack_from("<II", hdr_raw, 12)
    alt_lba, = struct.unpack_from("<Q", hdr_raw, 32)
    entries_lba, count, esize, ecrc = struct.unpack_from("<QIII", hdr_raw, 72)
    layout = Layout(partition_table="gpt")
    if 92 <= hsize <= SECTOR:
        check = bytearray(hdr_raw[:hsize])
        check[16:20] = b"\0\0\0\0"
        if zlib.crc32(check) != hcrc:
            layout.notes.append("GPT header checksum mismatch: the primary GPT is damaged")
    if alt_lba and (alt_lba + 1) * ss > virtual_size:
        layout.problems.append(
            f"the GPT says the disk has {(alt_lba + 1) * ss} bytes but the image holds "
            f"{virtual_size}: the image is truncated; re-create or re-upload it")
    if esize < 128 or esize % 128 or esize > 4096 or count == 0 or entries_lba < 1:
        layout.notes.append(f"GPT entry array is invalid (size {esize}, count {count}, "
                            f"LBA {entries_lba}): partition types unknown")
        return layout
    total = count * esize
    want = min(total, MAX_ENTRY_BYTES)
    start = entries_lba * ss
    cached_at, cached = cache
    if cached_at <= start and start + want <= cached_at + len(cached):
        raw = cached[start - cached_at:start - cached_at + want]
    else:
        raw = read(start, want)
    if want < total:
        layout.notes.append(f"only the first {want // esize} of {count} GPT entries were read")
    elif len(raw) == total and zlib.crc32(raw) != ecrc:
        layout.notes.append("GPT partition entries checksum mismatch")
    types = []
    for off in range(0, len(raw) - esize + 1, esize):
        guid = raw[off:off + 16]
        if guid != bytes(16):
            types.append(str(uuid.UUID(bytes_le=guid)))
            first_lba, last_lba = struct.unpack_from("<QQ", raw, off + 32)
            if first_lba <= last_lba:
                unique = str(uuid.UUID(bytes_le=raw[off + 16:off + 32]))
                layout.spans.append(PartitionSpan(first_lba * ss, (last_lba - first_lba + 1) * ss,
                                                  types[-1], unique, off // esize + 1))
    has_esp, has_bios = ESP in types, BIOS_BOOT in types
    layout.boot_mode = ("UEFI-Preferred" if has_esp and has_bios else "UEFI" if has_esp
                        else "BIOS" if has_bios else None)
    if layout.boot_mode is None:
        layout.notes.append("GPT without an EFI system or BIOS boot partition: boot mode unknown, "
                            "state boot_mode in the manifest")
    known = {ESP: "EFI system", BIOS_BOOT: "BIOS boot", **WINDOWS_GUIDS, **LINUX_GUIDS}
    layout.partitions = [known.get(t, t) for t in types]
    _decide_os(layout, [WINDOWS_GUIDS[t] for t in types if t in WINDOWS_GUIDS],
               [LINUX_GUIDS[t] for t in types if t in LINUX_GUIDS])
    return layout


def _decide_os(layout: Layout, windows: list[str], linux: list[str]) -> None:
    if windows and linux:
        layout.notes.append("partitions of both Windows and Linux types: OS family unknown, "
                            "state os_type in the manifest")
    elif windows:
        layout.os_type = "windows"
    elif linux:
        layout.os_type = "linux"
