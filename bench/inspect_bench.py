"""Reads, bytes, time and peak memory of `imagedrop_disk.inspect` for every fixture image (and the
zstd bomb), plus 2 TiB sparse images made on the spot when qemu-img is installed. Every read
stands for an OSS ranged GET. Peak memory is measured in a fresh process per image: how far the
inspection raised its peak resident set above the process's own after imports."""

from __future__ import annotations

import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from imagedrop_disk import CountingSource, FileSource, inspect
from imagedrop_disk.errors import DiskError

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "disks"
RUNS = 15


_PEAK = """
import resource, sys
from imagedrop_disk import FileSource, inspect
from imagedrop_disk.errors import DiskError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    inspect(FileSource(sys.argv[1]))
except DiskError:
    pass
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
BASELINES: list[float] = []


def _peak_mib(path: str) -> str:
    """The process's peak resident memory after inspecting, in MiB (Linux gives KiB)."""
    done = subprocess.run([sys.executable, "-c", _PEAK, path], capture_output=True, text=True)
    if done.returncode:
        return "error"
    before, after = (int(n) for n in done.stdout.split())
    BASELINES.append(before / 1024)
    return f"{after / 1024:.1f}"


def _fixtures(directory: Path) -> list[tuple[str, FileSource]]:
    """Each fixture unpacked to a local file: the time includes real file reads."""
    out: list[tuple[str, FileSource]] = []
    names = sorted(json.loads((FIXTURES / "expected.json").read_text())) + ["zstd-bomb.qcow2"]
    for name in names:
        path = directory / name
        path.write_bytes(gzip.decompress((FIXTURES / f"{name}.gz").read_bytes()))
        out.append((name, FileSource(path)))
    return out


def _big_sparse(directory: Path) -> list[tuple[str, FileSource]]:
    """GPT disks at (nearly) 2 TiB: the largest VHD qemu makes is 2040 GiB."""
    if shutil.which("qemu-img") is None or shutil.which("sgdisk") is None:
        return []
    out: list[tuple[str, FileSource]] = []
    for fmt, opts, size, name in (("qcow2", [], "2T", "2tib.qcow2"),
                                  ("vmdk", [], "2T", "2tib.vmdk"),
                                  ("vmdk", ["-o", "subformat=streamOptimized"], "2T",
                                   "2tib.stream.vmdk"),
                                  ("vpc", [], "2040G", "2040gib.vhd")):
        raw = directory / f"{name}.raw"
        raw.unlink(missing_ok=True)
        subprocess.run(["truncate", "-s", size, str(raw)], check=True)
        subprocess.run(["sgdisk", "-o", "-n1:2048:+100M", "-t1:EF00", "-n2:0:0", "-t2:8300",
                        str(raw)], check=True, capture_output=True)
        subprocess.run(["qemu-img", "convert", "-O", fmt, *opts, str(raw), str(directory / name)],
                       check=True)
        raw.unlink()
        out.append((f"{name} (generated)", FileSource(directory / name)))
    return out


def _row(name: str, source: FileSource) -> tuple[str, ...]:
    times = []
    result = None
    for _ in range(RUNS):
        start = time.perf_counter()
        try:
            result = inspect(source)
        except DiskError:  # refused in one line (a container that is none of ours): its cost
            counting = CountingSource(source)
            try:
                inspect(counting)
            except DiskError:
                pass
            return (name, "refused", "", str(counting.reads), str(counting.bytes_read), "",
                    _peak_mib(source.path))
        except Exception as exc:  # a benchmark reports, it does not stop
            return (name, type(exc).__name__, "", "", "", "", "")
        times.append((time.perf_counter() - start) * 1000)
    assert result is not None
    return (name, result.format, _gib(result.virtual_size), str(result.reads),
            str(result.bytes_read), f"{statistics.median(times):.2f}", _peak_mib(source.path))


def _gib(n: int) -> str:
    return f"{n / 1024**3:.3f} GiB" if n >= 1024**3 else f"{n / 1024**2:.2f} MiB"


def main() -> None:
    table = Table(title="imagedrop_disk.inspect: cost per image (median of %d runs)" % RUNS)
    for col in ("image", "format", "virtual size", "reads", "bytes read", "median ms",
                "peak RSS MiB"):
        table.add_column(col, justify="left" if col in ("image", "format") else "right")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in _fixtures(Path(tmp)) + _big_sparse(Path(tmp)):
            rows.append(_row(name, source))
    for row in rows:
        table.add_row(*row)
    reads = [int(r[3]) for r in rows if r[3]]
    spent = [int(r[4]) for r in rows if r[4]]
    Console(width=120).print(table)
    peaks = [float(r[6]) for r in rows if r[6] not in ("", "error")]
    print(f"max reads {max(reads)}, max bytes {max(spent)} ({max(spent) / 1024:.1f} KiB), "
          f"max peak RSS {max(peaks):.1f} MiB (the process after its imports: "
          f"{max(BASELINES):.1f} MiB) over {len(rows)} images")


if __name__ == "__main__":
    main()
