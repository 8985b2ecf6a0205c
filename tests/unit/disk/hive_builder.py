"""Registry hives built in memory for tests that need a structure hivexsh does not write (ri
lists, big data, UTF-16 names) or a hostile one. The layout follows the regf format: a base block,
hive bins of 4096-byte pages, allocated cells with negative sizes."""

from __future__ import annotations

import struct

NO = 0xFFFFFFFF
SZ, EXPAND_SZ, BINARY, DWORD, MULTI_SZ, QWORD = 1, 2, 3, 4, 7, 11


class HiveBuilder:
    def __init__(self, minor: int = 5):
        self.minor = minor
        self.body = bytearray()  # cells, from hive-bin offset 0x20

    def cell(self, data: bytes) -> int:
        size = (len(data) + 4 + 7) & ~7
        off = 0x20 + len(self.body)
        self.body += struct.pack("<i", -size) + data + bytes(size - 4 - len(data))
        return off

    def nk(self, name: str, subkeys: list[int] = (), values: list[int] = (), list_kind: str = "lh",
           root: bool = False) -> int:
        sub_list = self.subkey_list(list_kind, list(subkeys)) if subkeys else NO
        val_list = self.cell(b"".join(struct.pack("<I", v) for v in values)) if values else NO
        try:
            raw, flags = name.encode("ascii"), 0x20
        except UnicodeEncodeError:
            raw, flags = name.encode("utf-16-le"), 0
        flags |= 0x2C if root else 0
        return self.cell(b"nk" + struct.pack("<HQ15IHH", flags, 0, 0, NO, len(subkeys), 0,
                                             sub_list, NO, len(values), val_list, NO, NO, 0, 0,
                                             0, 0, 0, len(raw), 0) + raw)

    def subkey_list(self, kind: str, offsets: list[int]) -> int:
        if kind == "ri":  # two li lists under one ri
            half = len(offsets) // 2
            parts = [self.subkey_list("li", offsets[:half]), self.subkey_list("li", offsets[half:])]
            return self.cell(b"ri" + struct.pack("<H", 2) + b"".join(struct.pack("<I", p)
                                                                     for p in parts))
        entries = b""
        for off in offsets:
            if kind == "li":
                entries += struct.pack("<I", off)
            else:
                entries += struct.pack("<II", off, self.hint(kind, self.name_at(off)))
        return self.cell(kind.encode() + struct.pack("<H", len(offsets)) + entries)

    def name_at(self, off: int) -> str:
        cell = self.body[off - 0x20 + 4:]
        flags = struct.unpack_from("<H", cell, 2)[0]
        name_len = struct.unpack_from("<H", cell, 72)[0]
        raw = bytes(cell[76:76 + name_len])
        return raw.decode("latin-1") if flags & 0x20 else raw.decode("utf-16-le")

    @staticmethod
    def hint(kind: str, name: str) -> int:
        if kind == "lf":
            return struct.unpack("<I", name[:4].encode("latin-1", "replace").ljust(4, b"\0"))[0]
        h = 0
        for ch in name.upper():
            h = (h * 37 + ord(ch)) & 0xFFFFFFFF
        return h

    def vk(self, name: str, vtype: int, data: bytes) -> int:
        if len(data) <= 4:
            size, data_off = len(data) | 0x80000000, struct.unpack("<I", data.ljust(4, b"\0"))[0]
        elif len(data) > 16344 and self.minor >= 4:
            segs = [self.cell(data[i:i + 16344]) for i in range(0, len(data), 16344)]
            seg_list = self.cell(b"".join(struct.pack("<I", s) for s in segs))
            size, data_off = len(data), self.cell(b"db" + struct.pack("<HI", len(segs), seg_list))
        else:
            size, data_off = len(data), self.cell(data)
        raw = name.encode("latin-1")
        return self.cell(b"vk" + struct.pack("<HIIIHH", len(raw), size, data_off, vtype, 1, 0)
                         + raw)

    def build(self, root: int) -> bytes:
        hbin_size = (0x20 + len(self.body) + 4095) & ~4095
        free = hbin_size - 0x20 - len(self.body)
        tail = struct.pack("<i", free) + bytes(free - 4) if free else b""
        hbin = b"hbin" + struct.pack("<III", 0, hbin_size, 0) + bytes(16) + self.body + tail
        base = bytearray(4096)
        struct.pack_into("<4sIIQIIIIIII", base, 0, b"regf", 1, 1, 0, 1, self.minor, 0, 1, root,
                         hbin_size, 1)
        return bytes(base) + hbin


def sz(text: str) -> bytes:
    return (text + "\0").encode("utf-16-le")


def multi_sz(items: list[str]) -> bytes:
    return ("".join(i + "\0" for i in items) + "\0").encode("utf-16-le")


def dword(value: int) -> bytes:
    return struct.pack("<I", value)


def reader(data: bytes):
    return lambda offset, length: data[offset:offset + length]
