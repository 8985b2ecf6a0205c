"""LZO1X decompression in pure Python, bounded: it never writes more than `limit` bytes and
never reads past its input. It follows the published description of the LZO1X byte stream."""

from __future__ import annotations

from ..errors import LzoError


def decompress(src: bytes, limit: int) -> bytes:
    out = bytearray()
    ip, end = 0, len(src)

    def byte() -> int:
        nonlocal ip
        if ip >= end:
            raise LzoError("input ends inside an instruction")
        ip += 1
        return src[ip - 1]

    def length(value: int, mask: int) -> int:
        if value:
            return value
        extra = mask
        while True:
            b = byte()
            if b:
                return extra + b
            extra += 255
            if extra > limit:
                raise LzoError("length run exceeds the output limit")

    def literals(count: int) -> None:
        nonlocal ip
        if ip + count > end:
            raise LzoError("literal run past the end of the input")
        if len(out) + count > limit:
            raise LzoError(f"output exceeds {limit} bytes")
        out.extend(src[ip:ip + count])
        ip += count

    def copy(distance: int, count: int) -> None:
        start = len(out) - distance
        if distance <= 0 or start < 0:
            raise LzoError(f"match distance {distance} before the start of the output")
        if len(out) + count > limit:
            raise LzoError(f"output exceeds {limit} bytes")
        if distance >= count:
            out.extend(out[start:start + count])
        else:
            for i in range(count):
                out.append(out[start + i])

    state = 0
    first = byte()
    if first > 17:
        state = min(first - 17, 4)
        literals(first - 17)
    else:
        ip -= 1
    while True:
        t = byte()
        if t < 16:
            if state == 0:
                literals(3 + length(t, 15))
                state = 4
                continue
            h = byte()
            if state == 4:
                copy((h << 2) + ((t >> 2) & 3) + 2049, 3)
            else:
                copy((h << 2) + ((t >> 2) & 3) + 1, 2)
            state = t & 3
        elif t < 32:
            count = 2 + length(t & 7, 7)
            le16 = byte() | byte() << 8
            distance = 16384 + ((t & 8) << 11) + (le16 >> 2)
            if distance == 16384:
                return bytes(out)
            copy(distance, count)
            state = le16 & 3
        elif t < 64:
            count = 2 + length(t & 31, 31)
            le16 = byte() | byte() << 8
            copy((le16 >> 2) + 1, count)
            state = le16 & 3
        else:
            h = byte()
            copy((h << 3) + ((t >> 2) & 7) + 1, (t >> 5) + 1)
            state = t & 3
        literals(state)
