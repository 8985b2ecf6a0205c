"""The table of contents of an initramfs, read from its start: the names in its cpio archives
(newc), through an uncompressed early archive and a gzip, xz or zstd compressed main one.

Reading stops as soon as the answer is sure: the driver's module is named, or the archive is in
name order (initramfs-tools and dracut both sort it) and has passed where the module would be.
"""

from __future__ import annotations

import lzma
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InitrdUndecided, WorkExceeded

INITRD_PREFIX = 2 * 1024 * 1024     # compressed bytes of an initramfs read at most
CHUNK = 256 * 1024
MAX_OUTPUT = 64 * 1024 * 1024       # decompressed bytes looked through at most
OUT_STEP = 1024 * 1024              # decompressed bytes produced at a time
MAX_WINDOW = 8 * 1024 * 1024        # a zstd frame may not ask for more memory than this
MAX_NAME = 4096
NEWC = (b"070701", b"070702")
MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")


@dataclass(frozen=True)
class TocAnswer:
    found: bool | None
    why: str


def find_in_initrd(read: Callable[[int, int], bytes | None], driver: str, directory: str,
                   budget: int, charge: Callable[[int], None] = lambda n: None) -> TocAnswer:
    """Whether the initramfs holds `driver`'s module, which the kernel tree keeps under
    `directory` (e.g. kernel/drivers/block/), reading at most `budget` bytes of it; `charge`
    is told how many bytes each step decompressed (the inspection's work meter)."""
    scan = _Scan(driver, directory)
    stream = _Stream(read, budget)
    try:
        while True:
            kind = stream.peek_kind()
            if kind is None:
                return TocAnswer(False, f"its archives end after {scan.entries} entries "
                                        f"without the module")
            if kind == "cpio":
                scan.archive(stream)
            else:
                scan.archive(_Decompressed(stream, kind, charge))
            if scan.decided is not None:
                return scan.decided
    except (InitrdUndecided, WorkExceeded) as stop:
        return scan.decided or TocAnswer(None, str(stop))


class _Stream:
    """The initramfs's bytes in order, fetched CHUNK at a time within the budget."""

    def __init__(self, read: Callable[[int, int], bytes | None], budget: int):
        self._read, self.budget = read, budget
        self.buffer, self.offset, self.fetched = b"", 0, 0

    def _fill(self, need: int) -> None:
        while len(self.buffer) < need:
            if self.fetched >= self.budget:
                raise InitrdUndecided(f"the table of contents was not decided within its first "
                            f"{self.budget} bytes")
            data = self._read(self.fetched, min(CHUNK, self.budget - self.fetched))
            if data is None:
                raise InitrdUndecided("a read of it failed (see the notes)")
            if not data:
                raise InitrdUndecided("the file ends inside an archive") if self.buffer else InitrdUndecided("")
            self.fetched += len(data)
            self.buffer += data

    def take(self, n: int) -> bytes:
        self._fill(n)
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        self.offset += n
        return out

    def take_some(self) -> bytes:
        """Whatever is buffered (at least one byte), for a decompressor to consume."""
        self._fill(1)
        out, self.buffer = self.buffer, b""
        self.offset += len(out)
        return out

    def give_back(self, data: bytes) -> None:
        self.buffer = data + self.buffer
        self.offset -= len(data)

    def peek_kind(self) -> str | None:
        while True:  # the padding of zeros between concatenated archives
            try:
                self._fill(1)
            except InitrdUndecided as stop:
                if str(stop):
                    raise
                return None
            stripped = self.buffer.lstrip(b"\0")
            self.offset += len(self.buffer) - len(stripped)
            self.buffer = stripped
            if self.buffer:
                break
        self._fill(min(6, len(self.buffer) + 6))
        head = self.buffer[:6]
        if head in NEWC:
            return "cpio"
        if head[:2] == b"\x1f\x8b":
            return "gzip"
        if head[:4] == b"\x28\xb5\x2f\xfd":
            return "zstd"
        if head[:6] == b"\xfd7zXZ\0":
            return "xz"
        raise InitrdUndecided(f"an archive compressed in a way not read here (magic {head[:4].hex()})")


class _Decompressed:
    """A compressed member of the initramfs as a stream of its decompressed bytes, produced at
    most OUT_STEP at a time (a small member may expand to gigabytes)."""

    def __init__(self, source: _Stream, kind: str, charge: Callable[[int], None]):
        self.source, self.kind, self.charge = source, kind, charge
        self.buffer, self.produced = b"", 0
        self._pending = b""
        if kind == "gzip":
            self._d: object = zlib.decompressobj(31)
        elif kind == "xz":
            self._d = lzma.LZMADecompressor()
        else:
            try:
                import zstandard  # type: ignore[import-not-found]
            except ImportError:
                raise InitrdUndecided("its main archive is zstd-compressed and the optional 'zstandard' "
                            "module is not installed") from None
            self._d = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW).stream_reader(
                _Raw(source), read_size=CHUNK)

    def take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            if self.produced > MAX_OUTPUT:
                raise InitrdUndecided(f"more than {MAX_OUTPUT} bytes decompressed without an answer")
            try:
                out = self._step()
            except InitrdUndecided:
                raise
            except Exception as exc:  # noqa: BLE001 - zlib, lzma and zstd errors alike
                raise InitrdUndecided(f"its compressed archive does not decompress ({exc})") from None
            self.charge(len(out))
            self.produced += len(out)
            self.buffer += out
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _step(self) -> bytes:
        d = self._d
        if isinstance(d, lzma.LZMADecompressor):
            if d.eof:
                raise InitrdUndecided("its compressed archive ends inside the cpio archive")
            data = self.source.take_some() if d.needs_input else b""
            return d.decompress(data, OUT_STEP)
        if self.kind == "gzip":
            data = d.unconsumed_tail or self.source.take_some()  # type: ignore[attr-defined]
            if d.eof:  # type: ignore[attr-defined]
                raise InitrdUndecided("its compressed archive ends inside the cpio archive")
            return d.decompress(data, OUT_STEP)  # type: ignore[attr-defined]
        out = d.read(OUT_STEP)  # type: ignore[attr-defined]
        if not out:
            raise InitrdUndecided("its compressed archive ends inside the cpio archive")
        return out


class _Raw:
    """_Stream as the file a zstd stream reader pulls from."""

    def __init__(self, source: _Stream):
        self.source = source

    def read(self, n: int = -1) -> bytes:
        try:
            return self.source.take_some()
        except InitrdUndecided as stop:
            if str(stop):
                raise
            return b""


class _Scan:
    def __init__(self, driver: str, directory: str):
        self.driver, self.directory = driver, directory
        self.wanted = {f"{driver}{s}" for s in MODULE_SUFFIXES} | \
            {f"{driver.replace('_', '-')}{s}" for s in MODULE_SUFFIXES}
        self.decided: TocAnswer | None = None
        self.unsorted = False
        self.last = ""
        self.entries = 0
        self.modules_seen = False

    def archive(self, stream: _Stream | _Decompressed) -> None:
        self.last = ""  # each archive is in its own order
        while self.decided is None:
            header = stream.take(110)
            if header[:6] not in NEWC:
                raise InitrdUndecided("a cpio header is not where the archive says")
            try:
                size = int(header[54:62], 16)
                name_size = int(header[94:102], 16)
            except ValueError:
                raise InitrdUndecided("a cpio header holds no number") from None
            if not 0 < name_size <= MAX_NAME:
                raise InitrdUndecided(f"a cpio name of {name_size} bytes")
            name = stream.take(name_size + (-(110 + name_size)) % 4)[:name_size - 1]
            text = name.decode("utf-8", "replace").removeprefix("./")
            if text == "TRAILER!!!":
                return
            left = size + (-size) % 4
            while left > 0:  # the file's data: passed through, never kept whole
                left -= len(stream.take(min(left, OUT_STEP)))
            self._seen(text)

    def _seen(self, name: str) -> None:
        self.entries += 1
        base = name.rsplit("/", 1)[-1]
        if base in self.wanted:
            self.decided = TocAnswer(True, f"its archive names {name}")
            return
        if name < self.last:
            self.unsorted = True
        self.last = name
        self.modules_seen = self.modules_seen or _MODULES.match(name) is not None
        if not self.unsorted and self.modules_seen and self._passed(name):
            self.decided = TocAnswer(False, f"its archive is in name order and passed "
                                            f"{self.directory} after {self.entries} entries "
                                            f"without {self.driver}")

    def _passed(self, name: str) -> bool:
        """Past every place the module could be: all of usr/lib/modules/, or the driver's
        directory of the version `name` is under (lib/modules/ sorts before usr/)."""
        if name > "usr/lib/modules0":   # "0" sorts right after "/"
            return True
        found = _MODULES.match(name)
        if found is None or not found.group(1):
            return False
        directory = found.group(0) + self.directory
        return name > directory and not name.startswith(directory)


_MODULES = re.compile(r"^(usr/)?lib/modules/[^/]+/")
