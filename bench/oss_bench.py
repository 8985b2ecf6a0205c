"""Local OSS emulator benchmark: small round trip, 1 GiB multipart upload, listing 10,000 objects.

Run `python bench/oss_bench.py` (or through the bench runner). Targets: small PUT+GET median
≤ 2 ms, 1 GiB upload peak RSS ≤ 100 MiB, and a listing that takes seconds at most.
The upload runs in a child process so its peak RSS is not inflated by the rest of the run.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import oss2

from imagedrop_emulator import Clock, CloudServer, FakeCloud

MIB = 1024 * 1024
BUCKET = "bench-bucket"


def _cloud() -> FakeCloud:
    cloud = FakeCloud(clock=Clock(speed=0.0), services=("oss",))
    cloud.oss.create_bucket(BUCKET)
    return cloud


def _bucket(cloud: FakeCloud, endpoint: str, crc: bool = True) -> oss2.Bucket:
    return oss2.Bucket(oss2.Auth(cloud.access_key_id, cloud.access_key_secret), endpoint, BUCKET,
                       enable_crc=crc)


def small_round_trip(rounds: int = 300, crc: bool = True) -> tuple[float, float]:
    """Median milliseconds of one 1 KiB PUT followed by its GET over loopback keep-alive:
    end to end through oss2, and the part spent inside the emulator's OSS handler."""
    cloud = _cloud()
    payload = os.urandom(1024)
    wire = cloud.services["oss"]
    handled: list[float] = []
    inner = wire.handle

    def timed(req):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return inner(req)
        finally:
            handled.append(time.perf_counter() - start)

    wire.handle = timed  # type: ignore[method-assign]
    with CloudServer(cloud) as server:
        bucket = _bucket(cloud, server.endpoints["oss"], crc)
        bucket.put_object("warm", payload)
        samples, server_side = [], []
        for i in range(rounds):
            handled.clear()
            start = time.perf_counter()
            bucket.put_object(f"small/{i}", payload)
            bucket.get_object(f"small/{i}").read()
            samples.append((time.perf_counter() - start) * 1000)
            server_side.append(sum(handled) * 1000)
    cloud.oss.close()
    return statistics.median(samples), statistics.median(server_side)


def upload_child(size: int) -> dict[str, float]:
    """Runs in its own process: resumable_upload of a sparse file of `size` bytes."""
    cloud = _cloud()
    with tempfile.TemporaryDirectory() as tmp, CloudServer(cloud) as server:
        path = os.path.join(tmp, "sparse.raw")
        with open(path, "wb") as f:
            f.truncate(size)
        bucket = _bucket(cloud, server.endpoints["oss"])
        start = time.perf_counter()
        oss2.resumable_upload(bucket, "big/sparse.raw", path,
                              store=oss2.ResumableStore(root=tmp), part_size=16 * MIB,
                              num_threads=2)
        elapsed = time.perf_counter() - start
        stored = cloud.oss.get_object(BUCKET, "big/sparse.raw")
        assert stored.size == size and stored.body.on_disk
    cloud.oss.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": elapsed, "mib_per_s": size / MIB / elapsed, "peak_rss_mib": peak_kib / 1024}


def big_upload(size: int = 1024 * MIB) -> dict[str, float]:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--upload-child", str(size)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def list_many(count: int = 10_000) -> float:
    """Seconds for oss2 to list `count` objects (1,000 per page) over loopback."""
    cloud = _cloud()
    for i in range(count):
        cloud.oss.put_object(BUCKET, f"incoming/{i:06d}.json", b"{}")
    with CloudServer(cloud) as server:
        bucket = _bucket(cloud, server.endpoints["oss"])
        start = time.perf_counter()
        listed = sum(1 for _ in oss2.ObjectIterator(bucket, prefix="incoming/", max_keys=1000))
        elapsed = time.perf_counter() - start
    cloud.oss.close()
    assert listed == count, f"listed {listed} of {count} objects"
    return elapsed


def main() -> None:
    rt, rt_server = small_round_trip()
    rt_no_crc, _ = small_round_trip(crc=False)  # oss2 builds a CRC table per request (~0.4 ms)
    up = big_upload()
    listing = list_many()
    rows = [
        ("small PUT+GET round trip (median)", f"{rt:.2f} ms", "<= 2 ms", rt <= 2.0),
        ("  same, oss2 enable_crc=False", f"{rt_no_crc:.2f} ms", "<= 2 ms", rt_no_crc <= 2.0),
        ("  of which inside the OSS handler", f"{rt_server:.2f} ms", "-", True),
        ("1 GiB multipart upload throughput", f"{up['mib_per_s']:.0f} MiB/s", "-", True),
        ("1 GiB multipart upload peak RSS", f"{up['peak_rss_mib']:.0f} MiB", "<= 100 MiB",
         up["peak_rss_mib"] <= 100),
        ("list 10,000 objects", f"{listing:.2f} s", "-", True),
    ]
    print(f"{'OSS emulator':<38} {'result':>14} {'target':>12}  ok")
    for name, value, target, ok in rows:
        print(f"{name:<38} {value:>14} {target:>12}  {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--upload-child":
        print(json.dumps(upload_child(int(sys.argv[2]))))
    else:
        main()
