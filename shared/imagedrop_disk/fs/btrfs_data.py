"""Btrfs item bodies: file extents (EXTENT_DATA) and their decompression, every output capped;
directory items (DIR_ITEM, DIR_INDEX)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Iterator

from ..errors import FsCorrupt, MissingCodec, ZstdCorrupt, ZstdMissing
from . import lzo
from .api import MAX_NAME
from ..zstd_prefix import zstd_prefix
from .btrfs_tree import Key, parse_key

INLINE, REGULAR, PREALLOC = 0, 1, 2
COMPRESSION = {0: "none", 1: "zlib", 2: "lzo", 3: "zstd"}
MAX_COMPRESSED_EXTENT = 128 * 1024      # btrfs never writes a bigger compressed extent
MAX_INLINE = 64 * 1024


@dataclass(frozen=True)
class FileExtent:
    file_offset: int
    kind: int
    compression: int
    ram_bytes: int
    inline: bytes = b""
    disk_bytenr: int = 0
    disk_num_bytes: int = 0
    offset: int = 0             # into the decoded extent
    num_bytes: int = 0

    @property
    def length(self) -> int:
        """File bytes this extent covers (inline: the decoded data)."""
        return self.ram_bytes if self.kind == INLINE else self.num_bytes

    @property
    def is_zeros(self) -> bool:
        return self.kind == PREALLOC or (self.kind == REGULAR and self.disk_bytenr == 0)


def parse_extent(file_offset: int, body: bytes, where: str) -> FileExtent:
    if len(body) < 21:
        raise FsCorrupt(f"{where}: file extent item of {len(body)} bytes")
    ram_bytes, compression, encryption, encoding, kind = struct.unpack_from("<QBBHB", body, 8)
    if compression not in COMPRESSION or encryption or encoding or kind > PREALLOC:
        raise FsCorrupt(f"{where}: extent compression {compression}, encryption {encryption}, "
                        f"encoding {encoding}, type {kind}")
    if kind == INLINE:
        if ram_bytes > MAX_INLINE or (compression == 0 and ram_bytes != len(body) - 21):
            raise FsCorrupt(f"{where}: inline extent of {ram_bytes} bytes "
                            f"({len(body) - 21} stored)")
        return FileExtent(file_offset, kind, compression, ram_bytes, inline=body[21:])
    if len(body) < 53:
        raise FsCorrupt(f"{where}: regular extent item of {len(body)} bytes")
    disk_bytenr, disk_num_bytes, offset, num_bytes = struct.unpack_from("<QQQQ", body, 21)
    if compression and (disk_num_bytes > MAX_COMPRESSED_EXTENT
                        or ram_bytes > MAX_COMPRESSED_EXTENT or offset + num_bytes > ram_bytes):
        raise FsCorrupt(f"{where}: compressed extent of {disk_num_bytes} bytes decoding to "
                        f"{ram_bytes}, slice {offset}+{num_bytes}")
    if num_bytes == 0 or num_bytes >= 1 << 62 or offset >= 1 << 62:
        raise FsCorrupt(f"{where}: extent of {num_bytes} bytes at {offset}")
    return FileExtent(file_offset, kind, compression, ram_bytes, disk_bytenr=disk_bytenr,
                      disk_num_bytes=disk_num_bytes, offset=offset, num_bytes=num_bytes)


def decompress(compression: int, data: bytes, want: int, sectorsize: int, where: str) -> bytes:
    """The first `want` decoded bytes (fewer if the stream is shorter); never more."""
    try:
        if compression == 1:
            return zlib.decompressobj().decompress(data, want)
        if compression == 2:
            return _lzo_framed(data, want, sectorsize)
        if compression == 3:
            return _zstd(data, want)
    except (zlib.error, lzo.LzoError, ValueError) as exc:
        raise FsCorrupt(f"{where}: {COMPRESSION[compression]} data does not decode ({exc})") \
            from None
    raise FsCorrupt(f"{where}: compression {compression}")


def _lzo_framed(data: bytes, want: int, sectorsize: int) -> bytes:
    """btrfs's LZO framing: u32 total length, then per segment u32 length + LZO1X data; a
    segment header never straddles a sector boundary (the gap before one is padding)."""
    if len(data) < 4:
        raise ValueError("no total length")
    total = struct.unpack_from("<I", data, 0)[0]
    if total > len(data) or total < 4:
        raise ValueError(f"total length {total} of {len(data)} bytes")
    out, pos = bytearray(), 4
    while pos < total and len(out) < want:
        if sectorsize - pos % sectorsize < 4:
            pos += sectorsize - pos % sectorsize
            continue
        if pos + 4 > total:
            raise ValueError(f"segment header at {pos} past the total length")
        seg_len = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        if seg_len == 0 or pos + seg_len > total:
            raise ValueError(f"segment of {seg_len} bytes at {pos}")
        out += lzo.decompress(data[pos:pos + seg_len], sectorsize)
        pos += seg_len
    return bytes(out[:want])


def _zstd(data: bytes, want: int) -> bytes:
    try:
        return zstd_prefix(data, want)
    except ZstdMissing as exc:
        raise MissingCodec(f"zstd-compressed extent: {exc} to read it") from None
    except ZstdCorrupt as exc:
        raise ValueError(str(exc)) from None


def dir_items(body: bytes, where: str) -> Iterator[tuple[bytes, Key, int]]:
    """(name, location key, file type) for each btrfs_dir_item packed in one item."""
    pos = 0
    while pos < len(body):
        if pos + 30 > len(body):
            raise FsCorrupt(f"{where}: directory item header runs past its item")
        location = parse_key(body, pos)
        data_len, name_len, ftype = struct.unpack_from("<HHB", body, pos + 25)
        if name_len == 0 or name_len > MAX_NAME or pos + 30 + name_len + data_len > len(body):
            raise FsCorrupt(f"{where}: directory item with name length {name_len}")
        yield body[pos + 30:pos + 30 + name_len], location, ftype
        pos += 30 + name_len + data_len
