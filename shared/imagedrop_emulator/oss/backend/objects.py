"""The objects OSS keeps: buckets, objects, multipart parts and uploads, and the rules every
stored object obeys (key names, the metadata a request stores with it)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Mapping

from .. import errors
from .body import StoredBody
from .notify import NotificationRule

# Standard headers OSS stores with an object and returns on GET/HEAD.
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language",
                  "expires")


@dataclass
class FakePart:
    number: int
    body: StoredBody
    etag: str           # uppercase hex MD5, no quotes
    last_modified: float

    @property
    def size(self) -> int:
        return self.body.size


@dataclass
class FakeUpload:
    upload_id: str
    key: str
    initiated: float
    headers: dict[str, str] = field(default_factory=dict)
    parts: dict[int, FakePart] = field(default_factory=dict)


@dataclass
class FakeObject:
    key: str
    body: StoredBody
    etag: str                      # as OSS computes it, uppercase, without quotes
    content_type: str
    last_modified: float
    user_meta: dict[str, str] = field(default_factory=dict)   # "x-oss-meta-name" -> value
    stored_headers: dict[str, str] = field(default_factory=dict)
    object_type: str = "Normal"    # "Normal" | "Multipart" | "Appendable"
    storage_class: str = "Standard"
    restore_ready_at: float | None = None     # emulated time a restore finishes (archived classes)
    restore_expires_at: float | None = None   # emulated time the restored copy goes away

    @property
    def size(self) -> int:
        return self.body.size

    @property
    def crc64(self) -> int:
        return self.body.crc64

    @property
    def content_md5(self) -> str | None:
        """Base64 MD5, which OSS returns for simple uploads only."""
        if self.object_type != "Normal" or self.body.md5 is None:
            return None
        return base64.b64encode(self.body.md5).decode()

    def read(self, offset: int = 0, length: int | None = None) -> bytes:
        return self.body.read(offset, self.size - offset if length is None else length)

    @property
    def data(self) -> bytes:
        return self.read()


@dataclass
class FakeBucket:
    name: str
    region: str
    created: float
    objects: dict[str, FakeObject] = field(default_factory=dict)
    uploads: dict[str, FakeUpload] = field(default_factory=dict)
    rules: list[NotificationRule] = field(default_factory=list)
    storage_class: str = "Standard"
    acl: str = "private"
    _sorted: list[str] | None = field(default=None, repr=False)

    def sorted_keys(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.objects)
        return self._sorted

    def changed(self) -> None:
        self._sorted = None


class ObjectSource:
    """Random-access reads over a stored object (an `imagedrop_disk.ByteSource`)."""

    def __init__(self, obj: FakeObject):
        self._obj = obj

    @property
    def size(self) -> int:
        return self._obj.size

    def read(self, offset: int, length: int) -> bytes:
        return self._obj.body.read(offset, length)


def metadata_from(headers: Mapping[str, str] | None) -> tuple[str | None, dict[str, str], dict[str, str]]:
    """(content type, x-oss-meta-* headers, other stored headers) from request headers."""
    lowered = {k.lower(): str(v) for k, v in (headers or {}).items()}
    meta = {k: v for k, v in lowered.items() if k.startswith("x-oss-meta-")}
    stored = {k: lowered[k] for k in STORED_HEADERS if k in lowered}
    return lowered.get("content-type") or None, meta, stored


def check_key(key: str) -> None:
    if not key or len(key.encode("utf-8")) > 1023 or key[0] in "/\\":
        raise errors.invalid_object_name(key)
