"""NTFS, read-only: the MFT (fragmented too), $ATTRIBUTE_LIST, $I30 directory indexes and file
content of resident and non-resident unnamed $DATA, sparse runs included.

Refused with a clear FsCorrupt subclass (`NtfsUnsupported`), never guessed: compressed (LZNT1),
encrypted (EFS) and WOF/dedup-compressed file content. Reparse points (junctions, symlinks) are
nodes of kind "other". The volume serial is the uuid, as blkid prints it for fstab (16 hex digits,
uppercase); the label comes from $Volume.
"""

from __future__ import annotations

import struct

from ..errors import FsCorrupt, NtfsUnsupported
from ..work import work_of
from .api import MAX_DIR_ENTRIES, FileSystem, Node, Volume
from .ntfs_index import Index, find, names
from .ntfs_records import (ATTR_LIST, DATA, FLAG_COMPRESSED, FLAG_ENCRYPTED, INDEX_ALLOCATION,
                           INDEX_ROOT, REPARSE_POINT, VOLUME_NAME, Attr, Boot, DataStream, Record,
                           parse_boot, parse_record)

ROOT_RECORD, VOLUME_RECORD = 5, 3
MAX_ATTR_LIST = 256 * 1024      # bytes of one $ATTRIBUTE_LIST
MAX_EXTENSION_RECORDS = 256     # records one file's attributes may spread over
RECORD_CACHE = 128
WOF_TAGS = {0x80000017: "WOF-compressed (CompactOS)", 0x80000013: "deduplicated"}


def open_fs(volume: Volume) -> FileSystem | None:
    boot = parse_boot(volume.read(0, 512))
    if boot is None:
        return None
    return Ntfs(volume, boot)


class Ntfs:
    kind = "ntfs"
    case_sensitive = False

    def __init__(self, volume: Volume, boot: Boot):
        self.volume, self.boot = volume, boot
        self.work = work_of(volume)
        self.total_clusters = boot.total_bytes // boot.cluster
        self.uuid: str | None = f"{boot.serial:016X}"
        self._records: dict[int, Record] = {}
        self._index_blocks: dict[tuple[str, int], bytes] = {}
        raw = volume.read(boot.mft_lcn * boot.cluster, boot.record_size)
        if len(raw) < boot.record_size:
            raise FsCorrupt("NTFS: MFT record 0 lies past the end of the image (truncated)")
        record0 = parse_record(raw, 0, self.total_clusters)
        own = [a for a in record0.attrs if a.type == DATA and not a.name and a.resident is None]
        self.mft = self._join(own, "$MFT")
        self._records[0] = record0
        if any(a.type == ATTR_LIST for a in record0.attrs):
            self.mft = self._stream(0, DATA, "", "$MFT")  # type: ignore[assignment]
        self.label = self._label()

    # -- FileSystem ---------------------------------------------------------------------------

    def root(self) -> Node:
        return self._node(ROOT_RECORD, 0)

    def lookup(self, directory: Node, name: str) -> Node | None:
        if directory.kind != "dir":
            return None
        ref = find(self._index(directory), name)
        if ref is None:
            return None
        return self._node(ref & 0xFFFFFFFFFFFF, ref >> 48)

    def entries(self, directory: Node, limit: int = MAX_DIR_ENTRIES) -> list[str]:
        if directory.kind != "dir":
            return []
        found = names(self._index(directory), min(limit, MAX_DIR_ENTRIES))
        self.work.charge("entries", len(found))
        return found

    def read(self, node: Node, offset: int, length: int) -> bytes:
        number = self._number(node)
        if node.kind != "file":
            raise FsCorrupt(f"NTFS record {number} is a {node.kind}, not a file")
        tag = self._reparse_tag(number)
        if tag in WOF_TAGS:
            raise NtfsUnsupported(f"NTFS record {number}: the file is {WOF_TAGS[tag]}; reading "
                                  f"it is not supported (the volume is not corrupt)")
        data = self._stream(number, DATA, "", f"record {number} $DATA")
        if data is None:
            return b""
        if isinstance(data, bytes):
            return data[max(0, offset):max(0, offset + length)]
        return data.read(offset, length)

    def readlink(self, node: Node) -> str:
        raise FsCorrupt(f"NTFS record {self._number(node)} is not a symlink this reader follows "
                        f"(reparse points read as 'other')")

    # -- records and attributes ---------------------------------------------------------------

    def record(self, number: int) -> Record:
        cached = self._records.get(number)
        if cached is not None:
            return cached
        size = self.boot.record_size
        if number < 0 or (number + 1) * size > self.mft.size:
            raise FsCorrupt(f"NTFS: MFT record {number} lies past the MFT's {self.mft.size} bytes")
        raw = self.mft.read(number * size, size)
        if len(raw) < size:
            raise FsCorrupt(f"NTFS: MFT record {number} is cut short (truncated image)")
        record = parse_record(raw, number, self.total_clusters)
        if len(self._records) >= RECORD_CACHE:
            self._records.pop(next(iter(self._records)))
        self._records[number] = record
        return record

    def attributes(self, number: int) -> list[Attr]:
        """Every attribute of the file, gathered from its extension records when it has any."""
        base = self.record(number)
        attrs = list(base.attrs)
        listing = next((a for a in attrs if a.type == ATTR_LIST), None)
        if listing is None:
            return attrs
        for ext in self._listed_records(number, listing):
            record = self.record(ext)
            if record.base != number:
                raise FsCorrupt(f"NTFS record {number}: its attribute list names record {ext}, "
                                f"which belongs to record {record.base}")
            attrs.extend(record.attrs)
        return attrs

    def _listed_records(self, number: int, listing: Attr) -> list[int]:
        if listing.resident is not None:
            raw = listing.resident
        else:
            if listing.data_size > MAX_ATTR_LIST:
                raise FsCorrupt(f"NTFS record {number}: $ATTRIBUTE_LIST of {listing.data_size} "
                                f"bytes is over the {MAX_ATTR_LIST}-byte cap")
            stream = self._join([listing], f"record {number} $ATTRIBUTE_LIST")
            raw = stream.read(0, listing.data_size)
        found: list[int] = []
        pos = 0
        while pos + 26 <= len(raw):
            rec_len = struct.unpack_from("<H", raw, pos + 4)[0]
            ref = struct.unpack_from("<Q", raw, pos + 16)[0] & 0xFFFFFFFFFFFF
            if rec_len < 26:
                raise FsCorrupt(f"NTFS record {number}: attribute list entry at {pos} has "
                                f"length {rec_len}")
            if ref != number and ref not in found:
                found.append(ref)
                if len(found) > MAX_EXTENSION_RECORDS:
                    raise FsCorrupt(f"NTFS record {number}: attributes spread over more than "
                                    f"{MAX_EXTENSION_RECORDS} records")
            pos += (rec_len + 7) & ~7
        return found

    def _stream(self, number: int, atype: int, name: str,
                what: str) -> DataStream | bytes | None:
        pieces = [a for a in self.attributes(number) if a.type == atype and a.name == name]
        if not pieces:
            return None
        for piece in pieces if atype == DATA else ():
            if piece.flags & (FLAG_COMPRESSED | FLAG_ENCRYPTED):
                how = "compressed (LZNT1)" if piece.flags & FLAG_COMPRESSED else "encrypted (EFS)"
                raise NtfsUnsupported(f"NTFS {what} is {how}; reading it is not supported "
                                      f"(the volume is not corrupt)")
        resident = [p for p in pieces if p.resident is not None]
        if resident:
            return resident[0].resident
        return self._join(pieces, what)

    def _join(self, pieces: list[Attr], what: str) -> DataStream:
        pieces = sorted(pieces, key=lambda a: a.lowest_vcn)
        if not pieces or pieces[0].lowest_vcn != 0:
            raise FsCorrupt(f"NTFS {what}: no non-resident piece starts at VCN 0")
        runs = [run for piece in pieces for run in piece.runs]
        first = pieces[0]
        return DataStream(self.volume, self.boot.cluster, runs, first.data_size,
                          first.init_size, f"NTFS {what}")

    # -- nodes --------------------------------------------------------------------------------

    def _node(self, number: int, sequence: int) -> Node:
        record = self.record(number)
        if not record.in_use or record.base:
            raise FsCorrupt(f"NTFS: a directory entry points to record {number}, which is "
                            f"{'not in use' if not record.in_use else 'an extension record'}")
        if sequence and record.sequence != sequence:
            raise FsCorrupt(f"NTFS: a directory entry points to record {number} with sequence "
                            f"{sequence}, the record has {record.sequence} (a stale entry)")
        tag = self._reparse_tag(number)
        if tag is not None and (tag not in WOF_TAGS or record.is_dir):
            return Node(number, "other", 0)
        if record.is_dir:
            return Node(number, "dir", 0)
        data = [a for a in self.attributes(number) if a.type == DATA and not a.name]
        size = next((a.size for a in data if a.resident is not None or a.lowest_vcn == 0), 0)
        return Node(number, "file", size)

    def _reparse_tag(self, number: int) -> int | None:
        for attr in self.record(number).attrs:
            if attr.type == REPARSE_POINT:
                value = attr.resident or b"\0\0\0\0"
                return struct.unpack_from("<I", value.ljust(4, b"\0"))[0]
        return None

    def _index(self, directory: Node) -> Index:
        number = self._number(directory)
        if directory.kind != "dir":
            raise FsCorrupt(f"NTFS record {number} is not a directory")
        what = f"NTFS directory record {number}"
        root = self._stream(number, INDEX_ROOT, "$I30", f"{what} $INDEX_ROOT")
        if not isinstance(root, bytes) or len(root) < 32:
            raise FsCorrupt(f"{what}: no resident $I30 $INDEX_ROOT")
        block_size = struct.unpack_from("<I", root, 8)[0]
        if block_size < 512 or block_size > 64 * 1024 or block_size & (block_size - 1):
            raise FsCorrupt(f"{what}: index block size {block_size} is impossible")
        alloc = self._stream(number, INDEX_ALLOCATION, "$I30", f"{what} $INDEX_ALLOCATION")
        unit = self.boot.cluster if block_size >= self.boot.cluster else 512
        stream = alloc if isinstance(alloc, DataStream) else None
        return Index(what, root, block_size, unit, stream, self._index_blocks)

    @staticmethod
    def _number(node: Node) -> int:
        if not isinstance(node.ref, int):
            raise FsCorrupt(f"node {node.ref!r} is not an NTFS record")
        return node.ref

    def _label(self) -> str | None:
        try:
            for attr in self.record(VOLUME_RECORD).attrs:
                if attr.type == VOLUME_NAME and attr.resident is not None:
                    return attr.resident.decode("utf-16-le", "replace") or None
        except FsCorrupt:
            return None
        return None
