"""Helpers of the fake ECS tests: fixture disks, a stand-in OSS, real SDK clients and requests."""

from __future__ import annotations

import gzip
import importlib
from dataclasses import dataclass
from pathlib import Path

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.models import Config

from imagedrop_disk import BytesSource
from imagedrop_emulator import FakeCloud, ServiceError

DISKS = Path(__file__).parents[3] / "fixtures" / "disks"
START = 1_800_000_000.0  # 2027-01-15T08:00Z: a fixed emulated time so minute stamps are exact
BUCKET = "images"

def disk_bytes(name: str) -> bytes:
    """A fixture disk image made by qemu-img (stored gzipped)."""
    return gzip.decompress((DISKS / f"{name}.gz").read_bytes())

@dataclass
class _Object:
    data: bytes
    etag: str = ""

    @property
    def size(self) -> int:
        return len(self.data)

class StandInOss:
    """The OssBackend surface the fake ECS uses, for when the real fake OSS is not importable."""

    def __init__(self, cloud: FakeCloud):
        self.cloud = cloud
        self.buckets: dict[str, tuple[str, dict[str, _Object]]] = {}

    def create_bucket(self, name: str, region: str | None = None) -> None:
        self.buckets[name] = (region or self.cloud.region, {})

    def bucket_region(self, bucket: str) -> str:
        if bucket not in self.buckets:
            raise ServiceError(404, "NoSuchBucket", "The specified bucket does not exist.")
        return self.buckets[bucket][0]

    def put_object(self, bucket: str, key: str, data: bytes) -> None:
        self.bucket_region(bucket)
        self.buckets[bucket][1][key] = _Object(data)

    def get_object(self, bucket: str, key: str) -> _Object:
        self.bucket_region(bucket)
        if key not in self.buckets[bucket][1]:
            raise ServiceError(404, "NoSuchKey", "The specified key does not exist.")
        return self.buckets[bucket][1][key]

    def open_source(self, bucket: str, key: str) -> BytesSource:
        return BytesSource(self.get_object(bucket, key).data)

def real_oss_available() -> bool:
    try:
        return hasattr(importlib.import_module("imagedrop_emulator.oss"), "OssBackend")
    except ImportError:
        return False

def make_client(cloud: FakeCloud, endpoint: str, *, access_key_id: str | None = None,
                secret: str | None = None, token: str | None = None,
                region: str = "cn-hangzhou") -> Client:
    config = Config(access_key_id=access_key_id or cloud.access_key_id,
                    access_key_secret=secret or cloud.access_key_secret, security_token=token,
                    region_id=region, endpoint=endpoint, protocol="http")
    return Client(config)

def import_request(key: str = "linux.qcow2", *, name: str = "web-2026.11", size: int | None = 10,
                   fmt: str | None = "QCOW2", token: str | None = None, check: bool = True,
                   **extra: object) -> ecs_models.ImportImageRequest:
    """An ImportImage request of one system disk from the test bucket, with the image check on."""
    disk = ecs_models.ImportImageRequestDiskDeviceMapping(
        ossbucket=BUCKET, ossobject=key, format=fmt, disk_image_size=size)
    extra.setdefault("detection_strategy", "Standard" if check else None)
    return ecs_models.ImportImageRequest(
        region_id="cn-hangzhou", image_name=name, disk_device_mapping=[disk], client_token=token,
        **extra)  # type: ignore[arg-type]
