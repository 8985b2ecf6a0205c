"""The bytes of a stored object or part: in memory while small, a temporary file when large.

A multi-GiB upload must never live in memory, so bodies above `MEMORY_LIMIT` are streamed to a
file under the backend's spool folder while MD5 and CRC-64/ECMA are computed on the way in.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import BinaryIO, Iterator

from oss2.utils import Crc64

MEMORY_LIMIT = 4 * 1024 * 1024
CHUNK = 1024 * 1024

# CRC-64/ECMA as OSS returns it in x-oss-hash-crc64ecma. Building the table costs ~0.4 ms, so it
# is built once and each body starts from a cheap copy.
_CRC64 = Crc64()


def _new_crc():  # type: ignore[no-untyped-def]
    return _CRC64.crc64.new()


def combine_crc(crc1: int, crc2: int, len2: int) -> int:
    return _CRC64.combine(crc1, crc2, len2)


class StoredBody:
    """Immutable bytes with their size, MD5 digest (None for concatenations) and CRC-64/ECMA."""

    def __init__(self, *, data: bytes | None, path: str | None, size: int, md5: bytes | None,
                 crc64: int):
        self._data = data
        self.path = path
        self.size = size
        self.md5 = md5
        self.crc64 = crc64

    # ------------------------------------------------------------------ building

    @classmethod
    def from_stream(cls, source: bytes | BinaryIO, spool_dir: str) -> "StoredBody":
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            crc = _new_crc()
            crc.update(data)
            return cls(data=data, path=None, size=len(data), md5=hashlib.md5(data).digest(),
                       crc64=crc.crcValue)
        md5, crc = hashlib.md5(), _new_crc()
        head = bytearray()
        while len(head) <= MEMORY_LIMIT:
            chunk = source.read(CHUNK)
            if not chunk:
                data = bytes(head)
                md5.update(data)
                crc.update(data)
                return cls(data=data, path=None, size=len(data), md5=md5.digest(), crc64=crc.crcValue)
            head += chunk
        fd, path = tempfile.mkstemp(prefix="obj-", dir=spool_dir)
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                chunk = head  # written as is: no second copy of the first megabytes
                while chunk:
                    md5.update(chunk)
                    crc.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                    chunk = source.read(CHUNK)
                del head
        except BaseException:
            os.unlink(path)
            raise
        return cls(data=None, path=path, size=size, md5=md5.digest(), crc64=crc.crcValue)

    @classmethod
    def concat(cls, parts: list["StoredBody"], spool_dir: str) -> "StoredBody":
        """One body made of `parts` in order (CompleteMultipartUpload), copied file to file."""
        total = sum(p.size for p in parts)
        crc = 0
        for part in parts:
            crc = combine_crc(crc, part.crc64, part.size) if part.size else crc
        if total <= MEMORY_LIMIT:
            return cls(data=b"".join(p.read(0, p.size) for p in parts), path=None, size=total,
                       md5=None, crc64=crc)
        fd, path = tempfile.mkstemp(prefix="obj-", dir=spool_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    part._copy_into(out)
        except BaseException:
            os.unlink(path)
            raise
        return cls(data=None, path=path, size=total, md5=None, crc64=crc)

    def _copy_into(self, out: BinaryIO) -> None:
        if self._data is not None:
            out.write(self._data)
            return
        assert self.path is not None
        out.flush()
        with open(self.path, "rb") as src:
            remaining, offset = self.size, 0
            copy_range = getattr(os, "copy_file_range", None)
            while remaining > 0 and copy_range is not None:
                try:
                    n = copy_range(src.fileno(), out.fileno(), remaining, offset)
                except OSError:
                    break
                if n <= 0:
                    break
                remaining -= n
                offset += n
            if remaining > 0:  # no kernel-side copy here: fall back to plain reads
                src.seek(offset)
                while chunk := src.read(CHUNK):
                    out.write(chunk)
            else:
                out.seek(0, os.SEEK_END)

    # ------------------------------------------------------------------ reading

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        end = min(offset + length, self.size)
        if offset >= end:
            return b""
        if self._data is not None:
            return self._data[offset:end]
        assert self.path is not None
        with open(self.path, "rb") as f:
            f.seek(offset)
            return f.read(end - offset)

    def iter_range(self, start: int, end: int) -> Iterator[bytes]:
        """The bytes in [start, end), in chunks of at most 1 MiB."""
        if self._data is not None:
            for pos in range(start, end, CHUNK):
                yield self._data[pos:min(pos + CHUNK, end)]
            return
        assert self.path is not None
        with open(self.path, "rb") as f:
            f.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = f.read(min(CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    @property
    def on_disk(self) -> bool:
        return self.path is not None

    def discard(self) -> None:
        """Free the spool file; later reads of this body fail."""
        if self.path is not None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
