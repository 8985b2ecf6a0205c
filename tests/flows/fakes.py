"""In-memory fakes of the pipeline's adapters (imagedrop.ports), for flow tests without HTTP.

They keep what the flows depend on: put-if-absent, ClientToken idempotency, tasks that end when a
test says so, image-check items, and scripted failures, including an answer lost after the call
was carried out. The wire protocols are the emulator's business, not theirs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from imagedrop.cloud.oss_store import MAX_SMALL_OBJECT
from imagedrop.ports import ObjectInfo
from imagedrop.config import Settings
from imagedrop.errors import CloudError, PermanentCloudError, RetryableCloudError
from imagedrop.model.events import ObjectCreated, TrackMessage
from imagedrop.services import Services
from imagedrop.decide.ecs_answers import ImageView, TaskView
from imagedrop_disk.source import BytesSource

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "imagedrop_cli" / "samples"
REGION = "cn-hangzhou"
BUCKET = "images"


class Script:
    """Failures queued per operation: each call of a scripted operation takes the next one.

    `lost=True` carries the call out and then raises, as a connection reset after the request
    reached the cloud does."""

    def __init__(self) -> None:
        self._queued: dict[str, list[tuple[CloudError, bool] | None]] = {}

    def fail(self, op: str, error: CloudError, *, times: int = 1, lost: bool = False,
             after: int = 0) -> None:
        """The next `times` calls of `op` fail, once `after` calls have gone through."""
        self._queued.setdefault(op, []).extend([None] * after + [(error, lost)] * times)

    def clear(self) -> None:
        self._queued.clear()

    def run(self, op: str, call: Callable[[], Any]) -> Any:
        queued = self._queued.get(op)
        if not queued:
            return call()
        failure = queued.pop(0)
        if failure is None:
            return call()
        error, lost = failure
        if lost:
            call()
        raise error


def throttled(service: str = "ecs") -> RetryableCloudError:
    return RetryableCloudError(service, "Throttling", "Request was denied due to request throttling.",
                               status=503)


@dataclass
class StoredObject:
    data: bytes
    etag: str
    last_modified: int
    storage_class: str = "Standard"
    restore: str = ""   # x-oss-restore, for an archived object being or having been restored


class MemoryBucket:
    def __init__(self, clock: Callable[[], float], region: str = REGION):
        self.objects: dict[str, StoredObject] = {}
        self.script = Script()
        self._clock = clock
        self._region = region

    def drop(self, key: str, data: bytes | str) -> ObjectCreated:
        """A producer's upload, and the event OSS would send for it."""
        raw = data.encode() if isinstance(data, str) else data
        etag = hashlib.md5(raw).hexdigest().upper()
        self.objects[key] = StoredObject(raw, etag, int(self._clock()))
        return ObjectCreated(bucket=BUCKET, key=key, etag=etag, size=len(raw),
                             event_name="ObjectCreated:PutObject", region=REGION,
                             event_time=None, request_id=None)

    def head(self, key: str) -> ObjectInfo | None:
        def go() -> ObjectInfo | None:
            obj = self.objects.get(key)
            if obj is None:
                return None
            return ObjectInfo(key, len(obj.data), obj.etag, "application/octet-stream",
                              obj.storage_class, obj.last_modified, obj.restore)
        return self.script.run("head", go)

    def read(self, key: str, offset: int, length: int) -> bytes:
        return self.script.run("read", lambda: self.objects[key].data[offset:offset + length])

    def get_small(self, key: str, limit: int = MAX_SMALL_OBJECT) -> bytes | None:
        def go() -> bytes | None:
            obj = self.objects.get(key)
            return None if obj is None else obj.data[:limit]
        return self.script.run("get", go)

    def get_json(self, key: str) -> Any | None:
        data = self.get_small(key)
        return None if data is None else json.loads(data)

    def put(self, key: str, data: bytes | str, content_type: str = "application/json") -> None:
        raw = data.encode() if isinstance(data, str) else data
        self.script.run("put", lambda: self._store(key, raw))

    def put_if_absent(self, key: str, data: bytes | str) -> bool:
        raw = data.encode() if isinstance(data, str) else data

        def go() -> bool:
            if key in self.objects:
                return False
            self._store(key, raw)
            return True
        return bool(self.script.run("put", go))

    def _store(self, key: str, raw: bytes) -> None:
        self.objects[key] = StoredObject(raw, hashlib.md5(raw).hexdigest().upper(), int(self._clock()))

    def delete(self, key: str) -> None:
        self.script.run("delete", lambda: self.objects.pop(key, None))

    def region(self) -> str:
        return self._region

    def source(self, key: str, size: int) -> BytesSource:
        return BytesSource(self.objects[key].data[:size])

    def json(self, key: str) -> Any:
        return json.loads(self.objects[key].data)


@dataclass
class FakeTask:
    image_id: str
    status: str = "Processing"
    progress: int = 0
    error_code: str | None = None


@dataclass
class FakeImage:
    params: dict[str, Any]
    status: str = "Creating"
    detection: str | None = None
    risks: list[dict[str, str]] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    shared_with: list[str] = field(default_factory=list)


class FakeEcs:
    def __init__(self) -> None:
        self.tasks: dict[str, FakeTask] = {}
        self.images: dict[str, FakeImage] = {}
        self.tokens: dict[str, tuple[str, str]] = {}
        self.calls: list[str] = []
        self.script = Script()
        self._ids = itertools.count(1)

    def _call(self, action: str, go: Callable[[], Any]) -> Any:
        self.calls.append(action)
        return self.script.run(action, go)

    def import_image(self, params: dict[str, Any]) -> tuple[str, str]:
        def go() -> tuple[str, str]:
            token = params.get("ClientToken", "")
            if token in self.tokens:
                return self.tokens[token]
            n = next(self._ids)
            image_id, task_id = f"m-fake{n:04d}", f"t-fake{n:04d}"
            self.images[image_id] = FakeImage(dict(params),
                                              detection="Processing" if params.get("DetectionStrategy") else None)
            self.tasks[task_id] = FakeTask(image_id)
            self.tokens[token] = (image_id, task_id)
            return image_id, task_id
        return self._call("ImportImage", go)

    def finish(self, task_id: str, *, risks: list[dict[str, str]] | None = None) -> None:
        """The import ends well: the task Finished, the image Available, its check done."""
        task = self.tasks[task_id]
        task.status, task.progress = "Finished", 100
        image = self.images[task.image_id]
        image.status = "Available"
        if image.detection:
            image.detection, image.risks = "Finished", list(risks or [])

    def describe_task(self, task_id: str) -> TaskView:
        def go() -> TaskView:
            task = self.tasks.get(task_id)
            if task is None:
                raise PermanentCloudError("ecs", "InvalidTaskId.NotFound", f"task {task_id} not found")
            return TaskView(task.status, task.progress, task.error_code)
        return self._call("DescribeTaskAttribute", go)

    def describe_image_raw(self, image_id: str, region: str | None = None) -> dict[str, Any] | None:
        def go() -> dict[str, Any] | None:
            image = self.images.get(image_id)
            if image is None:
                return None
            raw: dict[str, Any] = {"ImageId": image_id, "Status": image.status, "Progress": "100%",
                                   "OSType": image.params.get("OSType"),
                                   "Architecture": image.params.get("Architecture"),
                                   "BootMode": image.params.get("BootMode")}
            if image.detection:
                raw["DetectionOptions"] = {"Status": image.detection,
                                           "Items": {"Item": list(image.risks)}}
            return raw
        return self._call("DescribeImages", go)

    def describe_image(self, image_id: str, region: str | None = None) -> ImageView | None:
        raw = self.describe_image_raw(image_id, region)
        return ImageView.from_wire(raw) if raw else None

    def modify_image(self, image_id: str, attributes: dict[str, str]) -> None:
        self._call("ModifyImageAttribute", lambda: self.images[image_id].attributes.update(attributes))

    def copy_image(self, image_id: str, destination: str, *, name: str, token: str,
                   tags: list[dict[str, str]] | None = None) -> str:
        return self._call("CopyImage", lambda: f"m-copy-{destination}-{image_id}")

    def share_image(self, image_id: str, accounts: list[str], region: str | None = None) -> None:
        self._call("ModifyImageSharePermission",
                   lambda: self.images[image_id].shared_with.extend(accounts))

    def cancel_task(self, task_id: str) -> None:
        def go() -> None:
            task = self.tasks[task_id]
            if task.status == "Processing":
                task.status = "Cancelled"
        self._call("CancelTask", go)


class FakeMns:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, int]] = []
        self.published: list[dict[str, Any]] = []
        self.script = Script()

    def send(self, queue: str, body: str, delay_seconds: int = 0) -> str:
        def go() -> str:
            self.sent.append((queue, body, delay_seconds))
            return f"msg-{len(self.sent)}"
        return self.script.run("send", go)

    def publish(self, topic: str, body: str, tag: str = "") -> str:
        def go() -> str:
            self.published.append(json.loads(body))
            return f"pub-{len(self.published)}"
        return self.script.run("publish", go)

    def track_messages(self) -> list[TrackMessage]:
        return [TrackMessage.model_validate_json(body) for _, body, _ in self.sent]

    def states(self) -> list[str]:
        """The states announced, in order (the CloudEvent type's last word)."""
        return [event["type"].rsplit(".", 1)[-1] for event in self.published]


class Clock:
    def __init__(self, start: float = 1_796_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Cloud:
    """One deployment's worth of fakes and the `Services` wired to them."""

    clock: Clock = field(default_factory=Clock)
    ecs: FakeEcs = field(default_factory=FakeEcs)
    mns: FakeMns = field(default_factory=FakeMns)
    bucket: MemoryBucket = field(init=False)
    services: Services = field(init=False)

    def __post_init__(self) -> None:
        self.bucket = MemoryBucket(self.clock)
        settings = Settings(region=REGION, account_id="1234567890123456", queue="imagedrop-track",
                            mns_endpoint="http://127.0.0.1:1", topic="imagedrop-events")
        self.services = Services.wired(settings, buckets={BUCKET: self.bucket}, ecs=self.ecs,
                                       mns=self.mns, clock=self.clock)

    def record(self, manifest_key: str) -> dict[str, Any] | None:
        obj = self.bucket.objects.get(f"imagedrop/status/{manifest_key}")
        return None if obj is None else json.loads(obj.data)


def sample_disk() -> bytes:
    return (SAMPLES / "web.qcow2").read_bytes()


def manifest(**fields: Any) -> str:
    body: dict[str, Any] = {"image_name": "web-2026-11", "os_type": "linux", "platform": "Ubuntu",
                            "architecture": "x86_64", "boot_mode": "BIOS"}
    body.update(fields)
    return json.dumps(body)
