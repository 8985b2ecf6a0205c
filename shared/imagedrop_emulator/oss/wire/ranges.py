"""The `Range` header as OSS reads it (pure).

By default OSS is lenient: a range it cannot serve (malformed, past the end, several ranges) is
ignored and the whole object comes back with 200. With `x-oss-range-behavior: standard` it
follows HTTP: an end past the object is clamped and a start past it is 416 `InvalidRange`.
"""

from __future__ import annotations

import re

from .. import errors

_SINGLE = re.compile(r"^bytes=(\d*)-(\d*)$")


def resolve_range(header: str, size: int, *, standard: bool = False) -> tuple[int, int] | None:
    """[start, end) to send with 206, or None to send the whole object with 200."""
    if not header:
        return None
    m = _SINGLE.match(header.strip().replace(" ", ""))
    if not m or (not m[1] and not m[2]):
        return None  # malformed or several ranges: ignored in both modes
    first, last = m[1], m[2]
    if not first:  # suffix: the last n bytes
        n = int(last)
        if n == 0:
            if standard:
                raise errors.invalid_range(size)
            return None
        if n > size and not standard:
            return None
        return (max(size - n, 0), size) if size else None
    start = int(first)
    end = int(last) + 1 if last else size
    if last and int(last) < start:
        return None
    if start >= size:
        if standard:
            raise errors.invalid_range(size)
        return None
    if end > size:
        if not standard:
            return None
        end = size
    return start, end
