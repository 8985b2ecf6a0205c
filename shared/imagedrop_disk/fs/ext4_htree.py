"""ext3/4 hashed directories (htree): the name hash and the walk from the dx_root to the one
leaf block that can hold a name, so a lookup in a directory of thousands of entries reads two or
three blocks instead of all of them. Listing still reads the blocks linearly."""

from __future__ import annotations

import struct
from collections.abc import Callable

M32 = 0xFFFFFFFF
DEFAULT_SEED = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
LEGACY, HALF_MD4, TEA = 0, 1, 2
UNSIGNED_OFFSET = 3            # legacy_unsigned, half_md4_unsigned, tea_unsigned
FLAG_UNSIGNED_HASH = 0x2       # superblock s_flags: the signed versions mean the unsigned ones
MAX_LEVELS = 3                 # indirect levels (largedir allows 3)


def name_hash(name: bytes, version: int, seed: tuple[int, ...]) -> int | None:
    """The major hash of `name` (low bit clear), None for a hash version not read here."""
    unsigned = version >= UNSIGNED_OFFSET
    base = version - UNSIGNED_OFFSET if unsigned else version
    buf = list(seed) if any(seed) else list(DEFAULT_SEED)
    if base == LEGACY:
        h = _legacy(name, unsigned)
    elif base == HALF_MD4:
        for i in range(0, len(name), 32):
            _half_md4(buf, _hashbuf(name[i:], 8, unsigned))
        h = buf[1]
    elif base == TEA:
        for i in range(0, len(name), 16):
            _tea(buf, _hashbuf(name[i:], 4, unsigned))
        h = buf[0]
    else:
        return None
    h &= ~1 & M32
    return (0x7FFFFFFF - 1) << 1 if h == 0x7FFFFFFF << 1 else h


def _signed(byte: int, unsigned: bool) -> int:
    return byte if unsigned or byte < 128 else byte - 256


def _hashbuf(msg: bytes, num: int, unsigned: bool) -> list[int]:
    length = len(msg)
    pad = (length | length << 8) & M32
    pad = (pad | pad << 16) & M32
    out: list[int] = []
    val = pad
    for i in range(min(length, num * 4)):
        val = (_signed(msg[i], unsigned) + (val << 8)) & M32
        if i % 4 == 3:
            out.append(val)
            val = pad
    if len(out) < num:
        out.append(val)
    while len(out) < num:
        out.append(pad)
    return out


def _legacy(name: bytes, unsigned: bool) -> int:
    h0, h1 = 0x12A3FE2D, 0x37ABE8F9
    for byte in name:
        h = (h1 + (h0 ^ (_signed(byte, unsigned) * 7152373 & M32))) & M32
        if h & 0x80000000:
            h = (h - 0x7FFFFFFF) & M32
        h1, h0 = h0, h
    return (h0 << 1) & M32


def _rol(x: int, s: int) -> int:
    return ((x << s) | (x >> (32 - s))) & M32


def _half_md4(buf: list[int], x: list[int]) -> None:
    a, b, c, d = buf
    f = lambda x_, y, z: z ^ (x_ & (y ^ z))  # noqa: E731
    g = lambda x_, y, z: ((x_ & y) + ((x_ ^ y) & z)) & M32  # noqa: E731
    h = lambda x_, y, z: x_ ^ y ^ z  # noqa: E731
    k2, k3 = 0o13240474631, 0o15666365641
    for fn, k, order, shifts in ((f, 0, (0, 1, 2, 3, 4, 5, 6, 7), (3, 7, 11, 19)),
                                 (g, k2, (1, 3, 5, 7, 0, 2, 4, 6), (3, 5, 9, 13)),
                                 (h, k3, (3, 7, 2, 6, 1, 5, 0, 4), (3, 9, 11, 15))):
        for i, idx in enumerate(order):
            s = shifts[i % 4]
            if i % 4 == 0:
                a = _rol((a + fn(b, c, d) + x[idx] + k) & M32, s)
            elif i % 4 == 1:
                d = _rol((d + fn(a, b, c) + x[idx] + k) & M32, s)
            elif i % 4 == 2:
                c = _rol((c + fn(d, a, b) + x[idx] + k) & M32, s)
            else:
                b = _rol((b + fn(c, d, a) + x[idx] + k) & M32, s)
    buf[0], buf[1] = (buf[0] + a) & M32, (buf[1] + b) & M32
    buf[2], buf[3] = (buf[2] + c) & M32, (buf[3] + d) & M32


def _tea(buf: list[int], x: list[int]) -> None:
    total, b0, b1 = 0, buf[0], buf[1]
    a, b, c, d = x[:4]
    for _ in range(16):
        total = (total + 0x9E3779B9) & M32
        b0 = (b0 + ((((b1 << 4) + a) & M32) ^ ((b1 + total) & M32) ^ (((b1 >> 5) + b) & M32))) & M32
        b1 = (b1 + ((((b0 << 4) + c) & M32) ^ ((b0 + total) & M32) ^ (((b0 >> 5) + d) & M32))) & M32
    buf[0], buf[1] = (buf[0] + b0) & M32, (buf[1] + b1) & M32


def leaf_blocks(root: bytes, name: bytes, seed: tuple[int, ...], unsigned_flag: bool,
                block_at: Callable[[int], bytes]) -> list[int] | None:
    """The directory's logical blocks that may hold `name`, in order; None when the index is
    not one read here (then the caller reads the directory linearly)."""
    bs = len(root)
    if len(root) < 40:
        return None
    reserved, version, info_len, levels = struct.unpack_from("<IBBB", root, 24)
    if reserved or info_len != 8 or levels >= MAX_LEVELS:
        return None
    if unsigned_flag and version < UNSIGNED_OFFSET:
        version += UNSIGNED_OFFSET
    target = name_hash(name, version, seed)
    if target is None:
        return None
    node, at = root, 24 + info_len
    for level in range(levels + 1):
        entries = _entries(node, at, bs)
        if entries is None:
            return None
        i = max(j for j, (h, _) in enumerate(entries) if j == 0 or h <= target)
        chosen = [entries[i][1]]
        # Names whose hashes collide may go on in the next block (its hash has bit 0 set). A
        # continuation into the next index node is not followed: it needs a hash collision
        # exactly at a node boundary.
        if i + 1 < len(entries) and entries[i + 1][0] & ~1 == target:
            chosen.append(entries[i + 1][1])
        if level == levels:
            return chosen
        node, at = block_at(chosen[0]), 8
    return None


def _entries(node: bytes, at: int, bs: int) -> list[tuple[int, int]] | None:
    if at + 8 > len(node):
        return None
    limit, count = struct.unpack_from("<HH", node, at)
    if not 0 < count <= limit or at + limit * 8 > bs:
        return None
    out = [(0, struct.unpack_from("<I", node, at + 4)[0] & 0x0FFFFFFF)]
    for j in range(1, count):
        h, blk = struct.unpack_from("<II", node, at + j * 8)
        out.append((h, blk & 0x0FFFFFFF))
    return out
