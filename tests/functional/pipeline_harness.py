"""Test support: a whole local deployment per test: emulator on loopback, both functions on its events, the
clock frozen so `run()` plays hours of import deterministically."""

from __future__ import annotations

import gzip
import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import oss2

from imagedrop_cli.local import LocalStack
from imagedrop_cli.demo import sample_files
from imagedrop.model.status import StatusRecord, status_key

DISKS = Path(__file__).parents[1] / "fixtures" / "disks"
TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}
# What ECS's check says of a disk without cloud-init whose fstab names /dev/sda1 (the emulator's
# check items come from this scenario; the disk readers cannot see inside the guest yet).
AT_RISK = [
    {"Name": "GUESTOS.CloudInit", "Value": "NotInstalled", "RiskLevel": "Medium",
     "RiskCode": "CloudInit.NotInstalled"},
    {"Name": "GUESTOS.Fstab", "Value": "/dev/sda1", "RiskLevel": "High",
     "RiskCode": "Fstab.DeviceName"},
]


def running(tmp: Path, **options: Any) -> Iterator["Harness"]:
    """A local deployment for one test (clock frozen, no background pump), stopped after it;
    `options` go to LocalStack (faults, concurrency, twins, seed…)."""
    local = LocalStack(speed=0.0, background=False, **options)
    local.start()
    try:
        yield Harness(local, tmp)
    finally:
        local.stop()


class Harness:
    def __init__(self, stack: LocalStack, tmp: Path):
        self.stack = stack
        self.cloud = stack.cloud
        assert stack.info
        self.info = stack.info
        self.tmp = tmp
        self.bucket = oss2.Bucket(oss2.Auth(self.info.access_key_id, self.info.access_key_secret),
                                  self.info.oss, self.info.bucket)

    # ---- producing
    def fixture(self, name: str) -> Path:
        """A committed disk fixture, decompressed."""
        out = self.tmp / name
        if not out.exists():
            with gzip.open(DISKS / f"{name}.gz") as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        return out

    def sample(self) -> tuple[Path, dict[str, Any]]:
        disk, manifest = sample_files()
        return disk, json.loads(manifest.read_text())

    def put(self, key: str, data: bytes | str | Path) -> None:
        if isinstance(data, Path):
            self.bucket.put_object_from_file(key, str(data))
        else:
            self.bucket.put_object(key, data)

    def drop(self, disk: Path, manifest: dict[str, Any] | str, key: str = "incoming/web.qcow2",
             *, manifest_first: bool = False, one_by_one: bool = False) -> str:
        """Upload a disk and its manifest; `one_by_one` lets the first object's event be handled
        before the second object exists."""
        body = manifest if isinstance(manifest, str) else json.dumps(manifest)
        steps = [(key, disk), (key + ".json", body)]
        for k, v in (reversed(steps) if manifest_first else steps):
            self.put(k, v)
            if one_by_one:
                self.cloud.pump.pump()
        return key + ".json"

    # ---- observing
    def run(self, **kw: Any) -> int:
        return self.cloud.pump.run_until_idle(**kw)

    def status(self, manifest_key: str) -> StatusRecord:
        raw = self.bucket.get_object(status_key("imagedrop/", manifest_key)).read()
        return StatusRecord.model_validate_json(raw)

    def events(self, manifest_key: str | None = None) -> list[dict[str, Any]]:
        """CloudEvents published to the notification topic, oldest first."""
        out = []
        for message in self.cloud.mns.topic(self.info.topic).published:
            body = message.body if hasattr(message, "body") else message
            event = json.loads(body if isinstance(body, str) else body.decode())
            if manifest_key is None or event["subject"] == manifest_key:
                out.append(event)
        return out

    def states(self, manifest_key: str) -> list[str]:
        return [e["type"].rsplit(".", 1)[-1] for e in self.events(manifest_key)]

    def images(self) -> list[Any]:
        return [i for i in self.cloud.ecs.images.values()]

    def keys(self, prefix: str = "") -> list[str]:
        return [o.key for o in oss2.ObjectIterator(self.bucket, prefix=prefix)]


def drop_at_risk(h: Harness, **manifest_changes: Any) -> str:
    """The sample disk and manifest (with these changes), ECS's check finding AT_RISK."""
    h.cloud.ecs.scenario.detection = AT_RISK
    disk, manifest = h.sample()
    return h.drop(disk, {**manifest, **manifest_changes})


def one_terminal(h: Harness, key: str) -> str:
    ends = [s for s in h.states(key) if s in TERMINAL]
    assert len(ends) == 1, f"expected one terminal notification, got {h.states(key)}"
    return ends[0]


def state_of(h: Harness, key: str) -> str | None:
    try:
        return h.status(key).state
    except Exception:
        return None


def run_until_state(h: Harness, key: str, state: str) -> StatusRecord:
    h.run(until=lambda: state_of(h, key) == state)
    record = h.status(key)
    assert record.state == state, record.model_dump_json(indent=1)
    return record


def until(done: Callable[[], bool]) -> None:
    """Wait for another instance to get somewhere (bounded, so that a broken run fails instead
    of hanging)."""
    deadline = time.monotonic() + 60
    while not done():
        assert time.monotonic() < deadline, "the other instance never got there"
        time.sleep(0.01)


class WebhookSink:
    """A loopback HTTP endpoint that records every POST (headers and raw body); `fail_first`
    answers 500 to that many requests first."""

    def __init__(self, fail_first: int = 0):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = fail_first
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if sink.fail_first > 0:
                    sink.fail_first -= 1
                    self.send_response(500)
                else:
                    sink.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
