"""CRC-32C (Castagnoli), table-driven, in pure Python: btrfs's name hash and checksums."""

from __future__ import annotations


def _table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = _table()


def crc32c_raw(seed: int, data: bytes) -> int:
    """The register after `data`, starting from `seed`, with no final inversion."""
    crc, table = seed, TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def crc32c(data: bytes) -> int:
    """The standard CRC-32C (what btrfs stores as a checksum)."""
    return crc32c_raw(0xFFFFFFFF, data) ^ 0xFFFFFFFF


def btrfs_name_hash(name: bytes) -> int:
    """The DIR_ITEM key offset for `name`."""
    return crc32c_raw(0xFFFFFFFE, name)
