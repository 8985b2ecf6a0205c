"""Partition table → boot mode and OS family, as a table of hand-made first sectors."""

from __future__ import annotations

import struct
import uuid

import pytest

from imagedrop_disk.partitions import BIOS_BOOT, ESP, read_layout

SIZE = 64 * 1024**2


def _mbr(*types: int, status: int = 0) -> bytes:
    sector = bytearray(512)
    for i, t in enumerate(types):
        struct.pack_into("<B3xB3xII", sector, 446 + i * 16, status, t, 2048 * (i + 1), 2048)
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def _gpt(*type_guids: str, alternate_lba: int = SIZE // 512 - 1) -> bytes:
    disk = bytearray(_mbr(0xEE) + bytes(33 * 512))
    header = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0, 1, alternate_lba,
                         34, alternate_lba - 33, bytes(16), 2, 128, 128, 0)
    disk[512:512 + len(header)] = header
    for i, guid in enumerate(type_guids):
        disk[1024 + i * 128:1024 + i * 128 + 16] = uuid.UUID(guid).bytes_le
    return bytes(disk)


def _layout(first: bytes, size: int = SIZE):
    return read_layout(lambda off, n: first[off:off + n], size)


LINUX_FS = "0fc63daf-8483-4772-8e79-3d69d8477de4"
RAID = "a19d880f-05fc-4d3b-a006-743f0f84911e"
MS_DATA = "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7"
MSR = "e3c9e316-0b5c-4db8-817d-f92df00215ae"


@pytest.mark.parametrize("first,table,boot,os_type", [
    (_mbr(0x83), "mbr", "BIOS", "linux"),
    (_mbr(0xFD, 0xFD), "mbr", "BIOS", "linux"),
    (_mbr(0x8E, status=0x80), "mbr", "BIOS", "linux"),
    (_mbr(0x07), "mbr", "BIOS", "windows"),
    (_mbr(0xEF, 0x82), "mbr", "UEFI", "linux"),
    (_mbr(0x0C), "mbr", "BIOS", None),          # FAT32: could be anything
    (_mbr(0x07, 0x83), "mbr", "BIOS", None),    # dual boot: unknown, said in a note
    (_mbr(0x83, status=0x12), "none", None, None),  # not a table: boot code of a filesystem
    (bytes(512), "none", None, None),
    (_gpt(ESP, LINUX_FS), "gpt", "UEFI", "linux"),
    (_gpt(BIOS_BOOT, RAID), "gpt", "BIOS", "linux"),
    (_gpt(BIOS_BOOT, ESP, LINUX_FS), "gpt", "UEFI-Preferred", "linux"),
    (_gpt(MSR, MS_DATA), "gpt", None, "windows"),
    (_gpt(ESP, MSR, MS_DATA), "gpt", "UEFI", "windows"),
    (_gpt(LINUX_FS), "gpt", None, "linux"),
])
def test_table_boot_mode_and_os(first: bytes, table: str, boot: str | None,
                                os_type: str | None) -> None:
    layout = _layout(first)
    assert (layout.partition_table, layout.boot_mode, layout.os_type) == (table, boot, os_type)


def test_bare_ntfs_is_windows_without_a_table() -> None:
    boot = bytearray(_mbr(0x07, status=0x33))
    boot[3:11] = b"NTFS    "
    layout = _layout(bytes(boot))
    assert (layout.partition_table, layout.os_type) == ("none", "windows")


def test_protective_mbr_without_gpt_header_is_noted() -> None:
    layout = _layout(_mbr(0xEE))
    assert layout.partition_table == "gpt" and layout.boot_mode is None
    assert any("damaged" in note for note in layout.notes)


def test_gpt_bigger_than_the_image_is_a_truncation_problem() -> None:
    layout = _layout(_gpt(ESP, LINUX_FS), size=SIZE // 2)
    assert any("truncated" in p for p in layout.problems)
