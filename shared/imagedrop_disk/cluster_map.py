"""The guest's view of a disk: its bytes, read through a container's mapping.

A container (qcow2, vmdk, vhd) maps fixed-size guest clusters to places in the file. Each reader
implements `locate` for a run of clusters; `ClusteredGuest.read` turns those places into as few
file reads as it can (adjacent clusters become one read) and decompresses only the prefix of a
compressed cluster that the caller asked for.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Protocol

from .errors import (BudgetExceeded, CorruptImage, DiskError, GuestUnreadable, ZstdCorrupt,
                     ZstdMissing)
from .zstd_prefix import zstd_prefix
from .source import ByteSource
from .work import Work

# Hard caps the container phase (format, tables, partition layout) never exceeds, whatever a
# header claims.
MAX_READS = 16
MAX_BYTES = 256 * 1024
# Caps of the whole inspection once the guest's file systems are read too (container included).
GUEST_MAX_READS = 40
GUEST_MAX_BYTES = 4 * 1024 * 1024
TABLE_WINDOW = 64 * 1024  # in the guest phase a container table is read this much at a time
MAX_GUEST_READ = 1024 * 1024  # one guest read (a run of cache blocks) at most
MAX_RUN_GAP = 16 * 1024  # read through a hole this small rather than spend another round trip


class BudgetedSource:
    """Caches the head and tail it is given and refuses to exceed the read caps.

    A corrupt header must never turn into a thousand round trips or a gigabyte read.
    """

    def __init__(self, inner: ByteSource):
        self.inner = inner
        self.size = inner.size
        self._cached: list[tuple[int, bytes]] = []
        self.max_reads = MAX_READS
        self.max_bytes = MAX_BYTES
        self.guest_phase = False
        self.work = Work()   # what the whole inspection may compute, whatever it reads

    def enter_guest_phase(self, max_reads: int = GUEST_MAX_READS,
                          max_bytes: int = GUEST_MAX_BYTES) -> None:
        """Raise the caps for reading the guest's file systems; what was spent so far counts.

        Past them a read raises BudgetExceeded (the inspection notes it and goes on) instead of
        DiskError (the image is refused)."""
        self.max_reads, self.max_bytes = max_reads, max_bytes
        self.guest_phase = True

    @property
    def spent(self) -> tuple[int, int]:
        return getattr(self.inner, "reads", 0), getattr(self.inner, "bytes_read", 0)

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise CorruptImage(f"a table points at offset {offset}, length {length}")
        length = max(0, min(length, self.size - offset))
        if length == 0:
            return b""
        cached = self._cached_range(offset, length)
        if cached is not None:
            return cached
        reads, spent = self.spent
        if self.guest_phase and (reads >= self.max_reads or spent + length > self.max_bytes):
            raise BudgetExceeded(f"reading the guest would pass the inspection's budget of "
                                 f"{self.max_reads} reads and {self.max_bytes} bytes "
                                 f"({reads} reads, {spent} bytes spent)")
        if length > self.max_bytes:
            raise DiskError(f"inspecting this image would need a {length}-byte read, over the "
                            f"{self.max_bytes}-byte cap: a header field is corrupt")
        if reads >= self.max_reads or spent + length > self.max_bytes:
            raise DiskError(f"inspecting this image would need more than {self.max_reads} reads "
                            f"or {self.max_bytes} bytes: its tables are corrupt or scattered")
        data = self.inner.read(offset, length)
        self._cached.append((offset, data))
        return data

    def read_exact(self, offset: int, length: int, what: str) -> bytes:
        if offset < 0 or offset + length > self.size:
            raise CorruptImage(f"{what} at offset {offset} (+{length} bytes) lies beyond the end "
                               f"of the file ({self.size} bytes): the file is truncated or corrupt")
        data = self.read(offset, length)
        if len(data) != length:
            raise CorruptImage(f"{what} at offset {offset}: short read ({len(data)} of {length})")
        return data

    def read_table(self, offset: int, length: int, what: str) -> bytes:
        """Entries of a container's mapping table. In the guest phase the aligned window around
        them is read once, so the next lookups in the same table cost no round trip."""
        if not self.guest_phase or not 0 < length <= TABLE_WINDOW or offset < 0 \
                or self._cached_range(offset, length) is not None:
            return self.read_exact(offset, length, what)
        start = offset - offset % TABLE_WINDOW
        if offset + length > start + TABLE_WINDOW or offset + length > self.size:
            return self.read_exact(offset, length, what)
        window = self.read(start, min(TABLE_WINDOW, self.size - start))
        return window[offset - start:offset - start + length]

    def read_around(self, offset: int, length: int) -> bytes:
        """`read`, but in the guest phase the aligned window around the range is read once, so
        the compressed clusters next to this one (written one after another) cost no round
        trip."""
        if not self.guest_phase or offset < 0 or length <= 0 \
                or self._cached_range(offset, length) is not None:
            return self.read(offset, length)
        start = offset - offset % TABLE_WINDOW
        end = offset + length
        end = min(self.size, max(start + TABLE_WINDOW, end + (-end) % TABLE_WINDOW))
        if offset >= end:
            return b""
        window = self.read(start, end - start)
        return window[offset - start:offset - start + length]

    def _cached_range(self, offset: int, length: int) -> bytes | None:
        for start, data in self._cached:
            if start <= offset and offset + length <= start + len(data):
                return data[offset - start:offset - start + length]
        return None


class GuestView(Protocol):
    virtual_size: int

    def read(self, offset: int, length: int) -> bytes: ...


@dataclass(frozen=True)
class Zero:
    """Unallocated or known-zero cluster."""


@dataclass(frozen=True)
class Plain:
    file_offset: int


@dataclass(frozen=True)
class Compressed:
    file_offset: int
    max_length: int  # upper bound of the compressed bytes
    codec: str       # "deflate" (raw), "zlib", "zstd"


Location = Zero | Plain | Compressed


class RawGuest:
    """The file is the disk (raw, fixed VHD)."""

    def __init__(self, source: BudgetedSource, virtual_size: int):
        self.source = source
        self.virtual_size = virtual_size

    def read(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self.virtual_size - offset, MAX_GUEST_READ))
        data = self.source.read(offset, length)
        return data + bytes(length - len(data))


class ClusteredGuest:
    """Base of the sparse containers: subclasses set cluster_size and implement `locate`."""

    cluster_size: int
    virtual_size: int
    source: BudgetedSource

    def locate(self, first: int, count: int) -> list[Location]:
        raise NotImplementedError

    def read(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self.virtual_size - offset, MAX_GUEST_READ))
        if length == 0:
            return b""
        cs = self.cluster_size
        first, last = offset // cs, (offset + length - 1) // cs
        locations = self.locate(first, last - first + 1)
        pieces = _Assembler(self.source, cs).assemble(first, locations, offset, offset + length)
        return pieces


class _Assembler:
    def __init__(self, source: BudgetedSource, cluster_size: int):
        self.source = source
        self.cs = cluster_size

    def assemble(self, first: int, locs: list[Location], start: int, end: int) -> bytes:
        self._prefetch_runs(first, locs, start, end)
        out = bytearray()
        for i, loc in enumerate(locs):
            base = (first + i) * self.cs
            lo, hi = max(start, base) - base, min(end, base + self.cs) - base
            if isinstance(loc, Zero):
                out += bytes(hi - lo)
            elif isinstance(loc, Plain):
                data = self.source.read_exact(loc.file_offset + lo, hi - lo, "a data cluster")
                out += data
            else:
                out += decompress_prefix(self.source, loc, hi)[lo:hi]
        return bytes(out)

    def _prefetch_runs(self, first: int, locs: list[Location], start: int, end: int) -> None:
        """One read per run of nearby clusters, plain or compressed (written one after another
        in a converted image); later reads are served from the cache."""
        spans: list[tuple[int, int]] = []
        for i, loc in enumerate(locs):
            if isinstance(loc, Zero):
                continue
            if isinstance(loc, Compressed):  # whole windows, as read_around reads them
                lo = loc.file_offset - loc.file_offset % TABLE_WINDOW
                hi = loc.file_offset + loc.max_length
                spans.append((lo, hi + (-hi) % TABLE_WINDOW))
                continue
            base = (first + i) * self.cs
            lo, hi = max(start, base) - base, min(end, base + self.cs) - base
            spans.append((loc.file_offset + lo, loc.file_offset + hi))
        spans.sort()
        runs: list[list[int]] = []
        for s, e in spans:
            if runs and s - runs[-1][1] <= MAX_RUN_GAP and e - runs[-1][0] <= MAX_GUEST_READ:
                runs[-1][1] = max(runs[-1][1], e)
            else:
                runs.append([s, e])
        for s, e in runs:
            if s < self.source.size:
                self.source.read(s, min(e, self.source.size) - s)


def decompress_prefix(source: BudgetedSource, loc: Compressed, want: int) -> bytes:
    """The first `want` bytes of a compressed cluster, reading only the compressed bytes needed."""
    # Deflate never grows data by more than a few bytes per 16 KiB block: this much input always
    # holds `want` bytes of output.
    budget = min(loc.max_length, want + want // 64 + 1024)
    raw = source.read_around(loc.file_offset, max(0, budget))
    if not raw:
        raise CorruptImage(f"a compressed cluster at offset {loc.file_offset} lies beyond the end "
                           f"of the file: the file is truncated")
    try:
        if loc.codec == "zstd":
            out = _zstd_prefix(raw, want)
            source.work.charge("decoded", len(out))
            return out
        wbits = -15 if loc.codec == "deflate" else 15
        out = zlib.decompressobj(wbits).decompress(raw, want)
        source.work.charge("decoded", len(out))
        return out
    except zlib.error as exc:
        raise CorruptImage(f"a compressed cluster at offset {loc.file_offset} does not "
                           f"decompress ({exc})") from None


def _zstd_prefix(raw: bytes, want: int) -> bytes:
    try:
        return zstd_prefix(raw, want)
    except ZstdMissing:
        raise GuestUnreadable("the clusters are zstd-compressed and the optional 'zstandard' "
                              "module is not installed (pip install 'imagedrop[zstd]')") from None
    except ZstdCorrupt as exc:
        raise CorruptImage(f"a zstd-compressed cluster does not decompress ({exc})") from None
