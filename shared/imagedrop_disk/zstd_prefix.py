"""The first bytes of a zstd frame, never more: for qcow2 clusters and Btrfs extents alike.

A 20 KB frame can hold 600 MiB of zeros, so output stops at what was asked and the frame may not
ask for a window larger than `MAX_WINDOW`. `zstandard` is an optional extra of the project.
"""

from __future__ import annotations

from .errors import ZstdCorrupt, ZstdMissing

MAX_WINDOW = 8 * 1024 * 1024  # qcow2 clusters are at most 2 MiB, Btrfs extents 128 KiB


def zstd_prefix(raw: bytes, want: int) -> bytes:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        raise ZstdMissing("install the zstd extra (pip install 'imagedrop[zstd]')") from None
    out = bytearray()
    try:
        decompressor = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
        with decompressor.stream_reader(raw, read_size=64 * 1024) as reader:
            while len(out) < want:
                chunk = reader.read(want - len(out))
                if not chunk:
                    break
                out += chunk
        return bytes(out)
    except zstandard.ZstdError as exc:
        raise ZstdCorrupt(str(exc)) from None
