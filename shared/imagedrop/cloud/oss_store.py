"""The OSS bucket as the pipeline sees it: HEAD, small GETs, ranged reads, put-if-absent."""

from __future__ import annotations

import json
from typing import Any, Callable, TypeVar

from imagedrop_disk.source import BoundedSource
from .credentials import Credentials
from .oss_errors import translate_oss_error
from .retry import call_translated
from ..ports import ObjectInfo

T = TypeVar("T")
MAX_SMALL_OBJECT = 1024 * 1024  # manifests, status records, claims


def default_oss_endpoint(region: str) -> str:
    return f"https://oss-{region}.aliyuncs.com"


class ObjectStore:
    def __init__(self, bucket_name: str, *, endpoint: str, credentials: Credentials,
                 attempts: int = 4, region: str | None = None):
        import oss2

        if credentials.security_token:
            auth: Any = oss2.StsAuth(credentials.access_key_id, credentials.access_key_secret,
                                     credentials.security_token)
        else:
            auth = oss2.Auth(credentials.access_key_id, credentials.access_key_secret)
        self.name = bucket_name
        self.attempts = attempts
        self._bucket = oss2.Bucket(auth, endpoint, bucket_name, connect_timeout=10)
        self._oss2 = oss2

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        return call_translated(what, fn, translate_oss_error, attempts=self.attempts)

    def head(self, key: str) -> ObjectInfo | None:
        def go() -> ObjectInfo | None:
            try:
                r = self._bucket.head_object(key)
            except self._oss2.exceptions.NotFound:
                return None
            return ObjectInfo(key, r.content_length, (r.etag or "").strip('"'),
                              r.content_type or "", r.headers.get("x-oss-storage-class", ""),
                              int(r.last_modified or 0), r.headers.get("x-oss-restore", ""))
        return self._call(f"HEAD oss://{self.name}/{key}", go)

    def read(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        return self._call(f"GET oss://{self.name}/{key} bytes {offset}-{offset + length - 1}",
                          lambda: self._bucket.get_object(
                              key, byte_range=(offset, offset + length - 1),
                              headers={"x-oss-range-behavior": "standard"}).read())

    def get_small(self, key: str, limit: int = MAX_SMALL_OBJECT) -> bytes | None:
        def go() -> bytes | None:
            try:
                return self._bucket.get_object(key, byte_range=(0, limit - 1)).read()
            except self._oss2.exceptions.NoSuchKey:
                return None
        return self._call(f"GET oss://{self.name}/{key}", go)

    def get_json(self, key: str) -> Any | None:
        data = self.get_small(key)
        return None if data is None else json.loads(data)

    def put(self, key: str, data: bytes | str, content_type: str = "application/json") -> None:
        self._call(f"PUT oss://{self.name}/{key}",
                   lambda: self._bucket.put_object(key, data, headers={"Content-Type": content_type}))

    def put_if_absent(self, key: str, data: bytes | str) -> bool:
        """Write `key` unless it exists. True when this call created it."""
        def go() -> bool:
            try:
                self._bucket.put_object(key, data, headers={"x-oss-forbid-overwrite": "true",
                                                            "Content-Type": "application/json"})
                return True
            except self._oss2.exceptions.ServerError as exc:
                if exc.status == 409 and exc.code == "FileAlreadyExists":
                    return False
                raise
        return self._call(f"PUT (if absent) oss://{self.name}/{key}", go)

    def delete(self, key: str) -> None:
        self._call(f"DELETE oss://{self.name}/{key}", lambda: self._bucket.delete_object(key))

    def region(self) -> str:
        """The bucket's region id, e.g. `cn-hangzhou` (GetBucketLocation says `oss-cn-hangzhou`)."""
        location = self._call(f"GetBucketLocation {self.name}", self._bucket.get_bucket_location).location
        return location.removeprefix("oss-")

    def source(self, key: str, size: int) -> "OssByteSource":
        return OssByteSource(self, key, size)


class OssByteSource(BoundedSource):
    """A disk image in OSS as a `ByteSource`: every read is one ranged GET."""

    def __init__(self, store: ObjectStore, key: str, size: int):
        self._store = store
        self.key = key
        self._size = size

    def _read_within(self, offset: int, length: int) -> bytes:
        return self._store.read(self.key, offset, length)
