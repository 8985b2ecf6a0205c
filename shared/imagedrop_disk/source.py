"""Byte sources the disk readers work over.

Every read may be a network round trip (an OSS ranged GET), so readers ask for what they need in
few, small reads. `CountingSource` records how many reads and bytes an inspection cost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@runtime_checkable
class ByteSource(Protocol):
    """A read-only, random-access view of an object: a local file or an OSS object."""

    @property
    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset`; fewer only at the end of the object."""
        ...


class BoundedSource:
    """A source of known size: `read` clips to the end and leaves the fetching to subclasses."""

    _size: int

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        if offset >= self._size or length == 0:
            return b""
        return self._read_within(offset, min(length, self._size - offset))

    def _read_within(self, offset: int, length: int) -> bytes:
        """Exactly `length` bytes at `offset`, both inside the object."""
        raise NotImplementedError


class FileSource(BoundedSource):
    def __init__(self, path: str | os.PathLike[str]):
        self.path = os.fspath(path)
        self._size = os.path.getsize(self.path)

    def _read_within(self, offset: int, length: int) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(offset)
            return f.read(length)


class BytesSource:
    def __init__(self, data: bytes):
        self._data = bytes(data)

    @property
    def size(self) -> int:
        return len(self._data)

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        return self._data[offset:offset + length]


@dataclass
class CountingSource:
    """Wraps a source and counts what was asked of it."""

    inner: ByteSource
    reads: int = 0
    bytes_read: int = 0

    @property
    def size(self) -> int:
        return self.inner.size

    def read(self, offset: int, length: int) -> bytes:
        data = self.inner.read(offset, length)
        self.reads += 1
        self.bytes_read += len(data)
        return data
