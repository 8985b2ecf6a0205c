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
MBR_WINDOWS = {0x07: "NTFS/exFAT", 0x27: "Windows recovery", 0x42: "Windows LDM"}
MBR_LINUX = {0x83: "Linux", 0x8E: "Linux LVM", 0x82: "Linux swap", 0xFD: "Linux RAID"}


@dataclass
class Layout:
    partition_table: str = "none"
    boot_mode: str | None = None
    os_type: str | None = None
    partitions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_layout(read: Callable[[int, int], bytes], virtual_size: int) -> Layout:
    first = read(0, FIRST_READ)
    first += bytes(FIRST_READ - len(first))
    bare = _bare_filesystem(first)
    if bare is not None:
        return bare
    for sector in (SECTOR, 4096):
        if first[sector:sector + 8] == b"EFI PART":
            return _gpt(read, first, sector, virtual_size)
    return _mbr(first)


def _bare_filesystem(first: bytes) -> Layout | None:
    if first[1080:1082] == b"\x53\xef":
        return Layout(os_type="linux", partitions=["ext2/3/4 filesystem (no partition table)"])
    if first[:4] == b"XFSB":
        return Layout(os_type="linux", partitions=["XFS filesystem (no partition table)"])
    if first[3:11] == b"NTFS    ":
        return Layout(os_type="windows", partitions=["NTFS filesystem (no partition table)"])
    return None


def _mbr(first: bytes) -> Layout:
    if first[510:512] != b"\x55\xaa":
        return Layout()
    entries = [first[446 + i * 16:462 + i * 16] for i in range(4)]
    if any(e[0] not in (0, 0x80) for e in entries):
        return Layout()  # boot code of a bare filesystem, not a partition table
    types = [e[4] for e in entries if e[4]]
    if not types:
        return Layout()
    if MBR_PROTECTIVE in types:
        return Layout(partition_table="gpt", notes=[
            "protective MBR (0xEE) but no GPT header at LBA 1: the GPT is damaged"])
    has_esp = MBR_ESP in types
    windows = [MBR_WINDOWS[t] for t in types if t in MBR_WINDOWS]
    linux = [MBR_LINUX[t] for t in types if t in MBR_LINUX]
    names = [f"0x{t:02x}" + (" (EFI system)" if t == MBR_ESP else "") for t in types]
    layout = Layout(partition_table="mbr", boot_mode="UEFI" if has_esp else "BIOS",
                    partitions=names)
    _decide_os(layout, windows, linux)
    return layout


def _gpt(read: Callable[[int, int], bytes], first: bytes, ss: int, virtual_size: int) -> Layout:
    hdr_raw = first[ss:ss + SECTOR]
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
    if start + want <= len(first):
        raw = first[start:start + want]
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
