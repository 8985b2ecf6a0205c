"""`imagedrop push` upload throughput against one `put_object_from_file`, and peak memory.

A 1 GiB sparse raw image is pushed to a local emulator (OSS only, no functions) twice in the same
run, each in its own child process so each peak RSS is its own:
  - `imagedrop push IMAGE --local --image-name …` (local inspection, resumable parallel multipart
    with a checkpoint, CRC64, progress, the manifest last);
  - a single `bucket.put_object_from_file` of the same file (CRC64 on, no progress, no resume).
Target: push not slower than the single PUT. Run `python bench/push_bench.py [SIZE_MIB]`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imagedrop_cli.local import LocalStack

MIB = 1024 * 1024
SINGLE_PUT = """
import sys, oss2, json
info = json.loads(sys.argv[1])
bucket = oss2.Bucket(oss2.Auth(info["access_key_id"], info["access_key_secret"]), info["oss"], info["bucket"],
                     enable_crc=True)
bucket.put_object_from_file("incoming/single-put.raw", sys.argv[2])
"""


def _run_child(args: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{args[:3]} failed ({child.returncode}): {child.stderr.read().decode()[-400:]}")  # type: ignore[union-attr]
    return seconds, usage.ru_maxrss / 1024


def main() -> int:
    size_mib = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1024
    with tempfile.TemporaryDirectory() as tmp, LocalStack(speed=0.0, faults="", with_functions=False,
                                                          background=False) as stack:
        assert stack.info
        image = Path(tmp) / "bench.raw"
        with image.open("wb") as f:  # sparse: the bytes read back are zeros, the disk holds nothing
            f.truncate(size_mib * MIB)
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEDROP_")}
        env["IMAGEDROP_LOCAL"] = json.dumps(stack.info.as_json())
        push = [sys.executable, "-c", "from imagedrop_cli import main; main()", "push", str(image), "--image-name", "bench-push",
                "--os-type", "linux", "--platform", "Others Linux", "--architecture", "x86_64", "--json"]
        single = [sys.executable, "-c", SINGLE_PUT, env["IMAGEDROP_LOCAL"], str(image)]
        rows = []
        for name, args in (("single put_object_from_file", single), ("imagedrop push", push)):
            seconds, rss = _run_child(args, env, tmp)
            rows.append((name, seconds, size_mib / seconds, rss))
        stored = stack.cloud.oss.bucket(stack.info.bucket).objects
        assert stored["incoming/bench.raw"].size == stored["incoming/single-put.raw"].size == size_mib * MIB
    print(f"push of a {size_mib} MiB sparse raw image to the local emulator (loopback)")
    print(f"{'path':<30} {'seconds':>8} {'MiB/s':>8} {'peak RSS MiB':>13}")
    for name, seconds, rate, rss in rows:
        print(f"{name:<30} {seconds:>8.2f} {rate:>8.1f} {rss:>13.1f}")
    ratio = rows[1][2] / rows[0][2]
    print(f"imagedrop push / single PUT throughput: {ratio:.2f}x (target ≥ 1.0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
