"""Inspection memory stays bounded whatever the image claims: a compressed cluster is decoded only
as far as asked (zstd-bomb.qcow2: a 20 KB zstd frame of 600 MiB of zeros, made by
tests/fixtures/disks/make_zstd_bomb.sh)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from imagedrop_disk import BytesSource
from imagedrop_disk.cluster_map import BudgetedSource, Compressed, decompress_prefix

zstandard = pytest.importorskip("zstandard")
FIXTURE = Path(__file__).parents[2] / "fixtures" / "disks" / "zstd-bomb.qcow2.gz"
MIB = 1024 * 1024

_MEASURE = """
import json, resource, sys
from imagedrop_disk import FileSource, inspect
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = inspect(FileSource(sys.argv[1]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth_kib": after - before, "table": result.partition_table,
                  "compression": result.details.get("compression_type")}))
"""


def test_a_zstd_bomb_is_inspected_in_bounded_memory(tmp_path: Path) -> None:
    image = tmp_path / "bomb.qcow2"
    image.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(image)], capture_output=True,
                          text=True, check=True, timeout=120)
    seen = json.loads(done.stdout)
    assert seen["compression"] == "zstd"
    # The whole frame decoded is 600 MiB; what the inspector asks of one cluster is 2 MiB.
    assert seen["growth_kib"] * 1024 < 64 * MIB, seen


def test_zstd_output_is_cut_at_what_is_asked() -> None:
    frame = zstandard.ZstdCompressor().compress(b"\0" * (64 * MIB))
    source = BudgetedSource(BytesSource(frame))
    out = decompress_prefix(source, Compressed(0, len(frame), "zstd"), 4096)
    assert out == b"\0" * 4096
