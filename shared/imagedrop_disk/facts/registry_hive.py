"""A Windows registry hive (regf) read cell by cell through a reader callback.

The hive is never loaded whole: the base block, then each cell a lookup needs (`nk` keys, subkey
lists, value lists, `vk` values, their data). Every walk is bounded: cell sizes, list lengths,
`ri` nesting, path depth and the number of cells one hive may read. Hash (`lh`) and hint (`lf`)
fields skip subkeys whose names cannot match, as Windows' own lookup does, so finding one key
among hundreds reads only the one `nk` cell.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import HiveCorrupt

Reader = Callable[[int, int], "bytes | None"]

BASE_BLOCK = 4096
MAX_CELL = 1024 * 1024          # bytes of one cell (a subkey list of 100k entries is ~800 KiB)
MAX_VALUE = 64 * 1024           # bytes of one value's data this reader returns
MAX_CELLS = 4096                # cells one Hive object reads before it gives up
MAX_LIST = 65536                # entries of one subkey or value list
MAX_RI_DEPTH = 4                # nesting of index-of-indexes lists
MAX_PATH_DEPTH = 32             # components of a key path
PAGE = 4096                     # hive bins are whole pages: cells are read a page at a time
PAGE_CACHE = 16                 # pages kept (64 KiB)
BIG_DATA_SEGMENT = 16344        # bytes in one segment of a `db` record

REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_QWORD = 1, 2, 3, 4, 7, 11
NO_CELL = 0xFFFFFFFF


@dataclass(frozen=True)
class Key:
    offset: int
    name: str
    n_subkeys: int
    subkeys_list: int
    n_values: int
    values_list: int


@dataclass(frozen=True)
class Value:
    name: str
    type: int
    data: bytes

    def as_python(self) -> str | int | list[str] | bytes:
        """REG_SZ/EXPAND_SZ → str, DWORD/QWORD → int, MULTI_SZ → list, any other → bytes."""
        if self.type in (REG_SZ, REG_EXPAND_SZ):
            return _utf16(self.data).split("\0", 1)[0]
        if self.type == REG_MULTI_SZ:
            return [s for s in _utf16(self.data).split("\0") if s]
        if self.type == REG_DWORD and len(self.data) >= 4:
            return struct.unpack_from("<I", self.data)[0]
        if self.type == REG_QWORD and len(self.data) >= 8:
            return struct.unpack_from("<Q", self.data)[0]
        return self.data


class Hive:
    def __init__(self, read: Reader):
        self._read = read
        self.cells_read = 0
        self._pages: dict[int, bytes] = {}
        base = self._bytes(0, BASE_BLOCK, "the base block")
        if base[:4] != b"regf":
            raise HiveCorrupt("the file does not start with 'regf': it is not a registry hive")
        major, self.minor, _type, _format, root, hbins_size = struct.unpack_from("<6I", base, 20)
        if major != 1:
            raise HiveCorrupt(f"base block: major version {major}, only 1 is known")
        self.dirty = struct.unpack_from("<I", base, 4) != struct.unpack_from("<I", base, 8)
        self.hbins_size = hbins_size if 0 < hbins_size < 1 << 31 and hbins_size % 4096 == 0 \
            else None
        self.root = self._key(root)

    # -- public lookups -----------------------------------------------------------------------

    def key(self, path: str, start: Key | None = None) -> Key | None:
        """The key at `path` ("A\\B\\C", case-insensitive) under `start` (the root by default)."""
        parts = [p for p in path.replace("/", "\\").split("\\") if p]
        if len(parts) > MAX_PATH_DEPTH:
            raise HiveCorrupt(f"key path {path!r} has more than {MAX_PATH_DEPTH} components")
        key: Key | None = start or self.root
        for part in parts:
            key = self.subkey(key, part) if key is not None else None
        return key

    def subkey(self, key: Key, name: str) -> Key | None:
        if key.n_subkeys == 0 or key.subkeys_list == NO_CELL:
            return None
        if key.n_subkeys > MAX_LIST:
            raise HiveCorrupt(f"key {key.name!r} claims {key.n_subkeys} subkeys, over {MAX_LIST}")
        return self._find_in_list(key.subkeys_list, name, 0, set())

    def value(self, key: Key, name: str) -> Value | None:
        """The value `name` of `key` ("" is the default value), case-insensitively."""
        if key.n_values == 0 or key.values_list == NO_CELL:
            return None
        if key.n_values > MAX_LIST:
            raise HiveCorrupt(f"key {key.name!r} claims {key.n_values} values, over {MAX_LIST}")
        offsets = self._cell(key.values_list, "a value list")
        if len(offsets) < 4 * key.n_values:
            raise HiveCorrupt(f"value list of key {key.name!r} at cell {key.values_list:#x} holds "
                              f"fewer than its {key.n_values} entries")
        wanted = _fold(name)
        for (off,) in struct.iter_unpack("<I", offsets[:4 * key.n_values]):
            vk = self._cell(off, "a value (vk)")
            if vk[:2] != b"vk" or len(vk) < 20:
                raise HiveCorrupt(f"cell {off:#x} in the value list of {key.name!r} is not a 'vk'")
            name_len, size, data_off, vtype, flags = struct.unpack_from("<HIIIH", vk, 2)
            raw = vk[20:20 + name_len]
            vname = raw.decode("latin-1") if flags & 1 else _utf16(raw)
            if _fold(vname) == wanted:
                return Value(vname, vtype, self._value_data(size, data_off, vname))
        return None

    def get(self, path: str, name: str) -> str | int | list[str] | bytes | None:
        key = self.key(path)
        value = self.value(key, name) if key is not None else None
        return value.as_python() if value is not None else None

    # -- records ------------------------------------------------------------------------------

    def _key(self, offset: int) -> Key:
        nk = self._cell(offset, "a key (nk)")
        if nk[:2] != b"nk" or len(nk) < 76:
            raise HiveCorrupt(f"cell {offset:#x} should be a key ('nk') and is not")
        flags = struct.unpack_from("<H", nk, 2)[0]
        n_sub, _volatile, sub_list, _vlist2, n_val, val_list = struct.unpack_from("<IIIIII", nk, 20)
        name_len = struct.unpack_from("<H", nk, 72)[0]
        raw = nk[76:76 + name_len]
        name = raw.decode("latin-1") if flags & 0x20 else _utf16(raw)
        return Key(offset, name, n_sub, sub_list, n_val, val_list)

    def _find_in_list(self, offset: int, name: str, depth: int, seen: set[int]) -> Key | None:
        if depth > MAX_RI_DEPTH or offset in seen:
            raise HiveCorrupt(f"subkey list at cell {offset:#x} nests too deeply or loops")
        seen.add(offset)
        cell = self._cell(offset, "a subkey list")
        sig, count = cell[:2], struct.unpack_from("<H", cell, 2)[0] if len(cell) >= 4 else 0
        width = 8 if sig in (b"lf", b"lh") else 4
        if sig not in (b"lf", b"lh", b"li", b"ri") or len(cell) < 4 + width * count:
            raise HiveCorrupt(f"cell {offset:#x} should be a subkey list (lf/lh/li/ri) of {count} "
                              f"entries and is not")
        wanted = _fold(name)
        for i in range(count):
            off = struct.unpack_from("<I", cell, 4 + width * i)[0]
            if sig == b"ri":
                found = self._find_in_list(off, name, depth + 1, seen)
                if found is not None:
                    return found
                continue
            if width == 8 and not _hint_may_match(sig, cell[8 + 8 * i:12 + 8 * i], name):
                continue
            key = self._key(off)
            if _fold(key.name) == wanted:
                return key
        return None

    def _value_data(self, size: int, data_off: int, name: str) -> bytes:
        if size & 0x80000000:
            return struct.pack("<I", data_off)[:min(size & 0x7FFFFFFF, 4)]
        if size > MAX_VALUE:
            raise HiveCorrupt(f"value {name!r} claims {size} bytes, over the {MAX_VALUE}-byte cap")
        if size == 0:
            return b""
        if size > BIG_DATA_SEGMENT and self.minor >= 4:
            return self._big_data(data_off, size, name)
        cell = self._cell(data_off, f"the data of value {name!r}")
        if len(cell) < size:
            raise HiveCorrupt(f"value {name!r}: its data cell holds {len(cell)} of {size} bytes")
        return cell[:size]

    def _big_data(self, offset: int, size: int, name: str) -> bytes:
        db = self._cell(offset, f"the big data (db) of value {name!r}")
        if db[:2] != b"db" or len(db) < 8:
            raise HiveCorrupt(f"value {name!r}: cell {offset:#x} should be a 'db' record")
        count, seg_list = struct.unpack_from("<HI", db, 2)
        if count * BIG_DATA_SEGMENT < size:
            raise HiveCorrupt(f"value {name!r}: {count} segments cannot hold {size} bytes")
        segs = self._cell(seg_list, f"the segment list of value {name!r}")[:4 * count]
        out = bytearray()
        for (seg,) in struct.iter_unpack("<I", segs):
            out += self._cell(seg, f"a data segment of value {name!r}")[:BIG_DATA_SEGMENT]
            if len(out) >= size:
                return bytes(out[:size])
        raise HiveCorrupt(f"value {name!r}: its segments hold {len(out)} of {size} bytes")

    # -- cells --------------------------------------------------------------------------------

    def _cell(self, offset: int, what: str) -> bytes:
        if offset == NO_CELL or offset % 8 or (self.hbins_size and offset >= self.hbins_size):
            raise HiveCorrupt(f"{what} at cell offset {offset:#x} lies outside the hive bins")
        self.cells_read += 1
        if self.cells_read > MAX_CELLS:
            raise HiveCorrupt(f"reading {what} would pass {MAX_CELLS} cells: the hive loops")
        head = self._bytes(BASE_BLOCK + offset, 4, what)
        size = struct.unpack("<i", head)[0]
        if size >= 0:
            raise HiveCorrupt(f"{what} at cell {offset:#x} is a free cell (size {size})")
        size = -size
        if size < 8 or size > MAX_CELL or (self.hbins_size and offset + size > self.hbins_size):
            raise HiveCorrupt(f"{what} at cell {offset:#x} has an impossible size {size}")
        return self._bytes(BASE_BLOCK + offset + 4, size - 4, what)

    def _bytes(self, offset: int, length: int, what: str) -> bytes:
        first, last = offset // PAGE, (offset + length - 1) // PAGE
        if length <= PAGE * 2 and offset >= BASE_BLOCK:
            pages = [self._page(p, what) for p in range(first, last + 1)]
            whole = all(len(p) == PAGE for p in pages[:-1])
            data = b"".join(pages)[offset - first * PAGE:][:length] if whole else b""
        else:
            data = self._checked_read(offset, length, what)
        if len(data) < length:
            raise HiveCorrupt(f"{what} at file offset {offset}: only {len(data)} of {length} "
                              f"bytes exist (the hive is truncated)")
        return data

    def _checked_read(self, offset: int, length: int, what: str) -> bytes:
        data = self._read(offset, length)
        if data is None:
            raise HiveCorrupt(f"{what} at file offset {offset} could not be read (the file's "
                              f"bytes were refused: see the notes on the file)")
        return data

    def _page(self, number: int, what: str) -> bytes:
        page = self._pages.get(number)
        if page is None:
            page = self._checked_read(number * PAGE, PAGE, what)
            if len(self._pages) >= PAGE_CACHE:
                self._pages.pop(next(iter(self._pages)))
            self._pages[number] = page
        return page


def _utf16(raw: bytes) -> str:
    return raw[:len(raw) & ~1].decode("utf-16-le", "replace")


def _fold(name: str) -> str:
    return name.upper()


def _hint_may_match(sig: bytes, hint: bytes, name: str) -> bool:
    """False only when the `lf` hint or `lh` hash proves `name` is not this subkey."""
    if not name.isascii():
        return True  # Windows upcases with its own table: don't trust our hash for non-ASCII
    if sig == b"lh":
        h = 0
        for ch in name.upper():
            h = (h * 37 + ord(ch)) & 0xFFFFFFFF
        return struct.unpack("<I", hint)[0] == h
    stored = hint.rstrip(b"\0").decode("latin-1", "replace").upper()
    return name[:4].upper() == stored
