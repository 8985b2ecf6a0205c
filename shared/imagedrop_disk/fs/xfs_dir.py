"""XFS directory entries: shortform (in the inode) and directory data blocks (block, leaf and
node directories keep their entries in data blocks below the 32 GiB leaf offset)."""

from __future__ import annotations

import struct
from typing import Iterator

from ..errors import FsCorrupt

LEAF_OFFSET = 1 << 35                       # directory byte offset where leaf/node blocks start
DATA_MAGICS = {b"XD2B": (16, True), b"XD2D": (16, False),    # v4: header length, single-block
               b"XDB3": (64, True), b"XDD3": (64, False)}    # v5
SKIPPED_MAGICS = {b"XD2F", b"XDF3"}         # free-index blocks (never below LEAF_OFFSET)


def shortform(fork: bytes, size: int, ftype: bool, where: str) -> tuple[int, list[tuple[str, int]]]:
    """The parent inode and the (name, inode) entries of a shortform directory."""
    data = fork[:size]
    if len(data) < 6 or size > len(fork):
        raise FsCorrupt(f"{where}: shortform directory of {size} bytes does not fit its fork")
    count, i8count = data[0], data[1]
    width = 8 if i8count else 4
    parent = int.from_bytes(data[2:2 + width], "big")
    pos, entries = 2 + width, []
    for _ in range(count):
        if pos + 3 > len(data):
            raise FsCorrupt(f"{where}: shortform entry at {pos} runs past the directory")
        namelen = data[pos]
        name_at = pos + 3
        ino_at = name_at + namelen + (1 if ftype else 0)
        if namelen == 0 or ino_at + width > len(data):
            raise FsCorrupt(f"{where}: shortform entry at {pos} has name length {namelen}")
        name = data[name_at:name_at + namelen].decode("utf-8", "surrogateescape")
        entries.append((name, int.from_bytes(data[ino_at:ino_at + width], "big")))
        pos = ino_at + width
    return parent, entries


def data_block_entries(block: bytes, ftype: bool, owner: int,
                       where: str) -> Iterator[tuple[str, int]]:
    """(name, inode) entries of one directory data block, "." and ".." included. v5 blocks
    must name `owner` (the directory's inode) in their header."""
    magic = block[:4]
    if magic in SKIPPED_MAGICS:
        return
    if magic not in DATA_MAGICS:
        raise FsCorrupt(f"{where}: directory block has magic {magic!r}")
    pos, single = DATA_MAGICS[magic]
    if pos == 64 and struct.unpack_from(">Q", block, 40)[0] != owner:
        raise FsCorrupt(f"{where}: directory block belongs to inode "
                        f"{struct.unpack_from('>Q', block, 40)[0]}")
    end = len(block)
    if single:
        count = struct.unpack_from(">I", block, end - 8)[0]
        end -= 8 + 8 * count
        if end < pos:
            raise FsCorrupt(f"{where}: single-block directory claims {count} leaf entries")
    while pos + 8 <= end:
        if block[pos:pos + 2] == b"\xff\xff":
            length = struct.unpack_from(">H", block, pos + 2)[0]
            if length < 8 or length % 8 or pos + length > end:
                raise FsCorrupt(f"{where}: unused region of {length} bytes at {pos}")
            pos += length
            continue
        ino = struct.unpack_from(">Q", block, pos)[0]
        namelen = block[pos + 8]
        size = (8 + 1 + namelen + (1 if ftype else 0) + 2 + 7) // 8 * 8
        if namelen == 0 or pos + size > end:
            raise FsCorrupt(f"{where}: entry at {pos} with name length {namelen} runs past the "
                            "block")
        yield block[pos + 9:pos + 9 + namelen].decode("utf-8", "surrogateescape"), ino
        pos += size
