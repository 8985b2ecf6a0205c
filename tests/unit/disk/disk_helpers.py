"""Fixture images (gzip-compressed, built by tests/fixtures/disks/make_fixtures.sh) and what
qemu-img and the build script say about each."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

from imagedrop_disk import BytesSource, CountingSource, Inspection, inspect
from imagedrop_disk.errors import DiskError
from imagedrop_disk.cluster_map import GUEST_MAX_BYTES, GUEST_MAX_READS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "disks"
EXPECTED: dict[str, dict] = json.loads((FIXTURES / "expected.json").read_text())
QEMU_INFO: dict[str, dict] = json.loads((FIXTURES / "qemu-info.json").read_text())
# Images refused with one error line (no inspection): name → words that line contains.
REFUSED: dict[str, str] = {n: e["error"] for n, e in EXPECTED.items() if "error" in e}
NAMES = sorted(n for n in EXPECTED if n not in REFUSED)
QEMU_FORMAT = {"vpc": "vhd"}  # qemu's driver name → ours


@lru_cache(maxsize=None)
def image_bytes(name: str) -> bytes:
    return gzip.decompress((FIXTURES / f"{name}.gz").read_bytes())


def write_image(name: str, directory: Path) -> Path:
    path = directory / name
    path.write_bytes(image_bytes(name))
    return path


def inspect_bounded(data: bytes) -> Inspection | DiskError:
    """Inspect: an Inspection or one DiskError line, within the caps of the whole inspection,
    checked on the source itself (a DiskError has no counters)."""
    counting = CountingSource(BytesSource(data))
    try:
        result: Inspection | DiskError = inspect(counting)
    except DiskError as exc:
        message = str(exc)
        assert message and "\n" not in message
        result = exc
    assert counting.reads <= GUEST_MAX_READS
    assert counting.bytes_read <= GUEST_MAX_BYTES
    return result


def mutated(data: bytes, edits: list[tuple[int, int, bool]]) -> bytes:
    """`data` with each (offset, value, from_the_end) byte edit that falls inside it."""
    out = bytearray(data)
    for offset, value, at_end in edits:
        position = len(out) - 1 - offset if at_end else offset
        if 0 <= position < len(out):
            out[position] = value
    return bytes(out)
