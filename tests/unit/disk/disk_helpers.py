"""Fixture images (gzip-compressed, built by tests/fixtures/disks/make_fixtures.sh) and what
qemu-img and the build script say about each."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

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
