"""A burst of drops on the emulator: every import ends once, none is imported twice.

Drops N disk+manifest pairs at once on a local stack (real oss2 uploads over loopback, both
functions on the emulator's events), runs the pipeline to the end on the emulated clock, and
counts terminal states, images and duplicate notifications.

    python -m bench burst [N]
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}


def run(n: int = 200) -> dict[str, float]:
    import oss2

    from imagedrop_cli.local import LocalStack
    from imagedrop_cli.demo import sample_files

    saved = dict(os.environ)
    os.environ["IMAGEDROP_LOG_LEVEL"] = "WARNING"
    disk, manifest_path = sample_files()
    manifest = json.loads(manifest_path.read_text())
    data = disk.read_bytes()
    stack = LocalStack(speed=0.0, faults="", background=False)
    info = stack.start()
    try:
        bucket = oss2.Bucket(oss2.Auth(info.access_key_id, info.access_key_secret), info.oss, info.bucket)
        started = time.perf_counter()

        def drop(i: int) -> None:
            key = f"incoming/burst/web-{i:04d}.qcow2"
            bucket.put_object(key, data)
            bucket.put_object(key + ".json", json.dumps({**manifest, "image_name": f"web-burst-{i:04d}"}))

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(drop, range(n)))
        uploaded = time.perf_counter()
        stack.cloud.pump.run_until_idle()
        finished = time.perf_counter()

        ends = Counter()
        per_import: Counter[str] = Counter()
        for message in stack.cloud.mns.topic(info.topic).published:
            event = json.loads(message.body)
            state = event["type"].rsplit(".", 1)[-1]
            if state in TERMINAL:
                ends[state] += 1
                per_import[event["subject"]] += 1
        images = list(stack.cloud.ecs.images.values())
        names = Counter(i.name for i in images)
        return {
            "drops": n,
            "terminal states": sum(ends.values()),
            "succeeded": ends["succeeded"],
            "imports with >1 terminal notification": sum(1 for c in per_import.values() if c > 1),
            "images": len(images),
            "duplicate imports": sum(c - 1 for c in names.values() if c > 1),
            "upload s (wall)": round(uploaded - started, 2),
            "pipeline s (wall)": round(finished - uploaded, 2),
            "invocations": len(stack.invocations),
        }
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 200
    result = run(n)
    width = max(len(k) for k in result)
    print(f"{'burst of drops on the emulator'.ljust(width)}  value")
    for key, value in result.items():
        print(f"{key.ljust(width)}  {value}")
    ok = (result["terminal states"] == n and result["duplicate imports"] == 0
          and result["imports with >1 terminal notification"] == 0)
    print("OK: every drop ended once, nothing imported twice" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
