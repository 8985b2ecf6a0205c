"""The guest fixtures (built by tests/fixtures/guests/make_*.sh) opened the way `inspect` does:
through the container, the partition table, the block cache and the read budget."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

from imagedrop_disk import BytesSource
from imagedrop_disk.guest_files import OpenedGuest
from imagedrop_disk.inspect import inspect_with_guest
from imagedrop_disk.model import Inspection

GUESTS = Path(__file__).resolve().parents[2] / "fixtures" / "guests"
EXT4_EXPECTED = json.loads((GUESTS / "ext4-expected.json").read_text())


@lru_cache(maxsize=None)
def guest_bytes(name: str) -> bytes:
    return gzip.decompress((GUESTS / f"{name}.gz").read_bytes())


def open_fixture(name: str) -> tuple[Inspection, OpenedGuest]:
    """The inspection and the opened guest; reads made later through the guest still count
    against (and are bounded by) the same budget."""
    inspection, opened = inspect_with_guest(BytesSource(guest_bytes(name)), lambda g: g)
    assert opened is not None
    return inspection, opened


def pattern(name: str, n: int) -> bytes:
    """What make_ext4.sh's `pattern` writes: block i of 1 KiB repeats "<name>:<i>:"."""
    blocks = ((f"{name}:{i:08d}:".encode() * 64)[:1024] for i in range(n // 1024 + 1))
    return b"".join(blocks)[:n]
