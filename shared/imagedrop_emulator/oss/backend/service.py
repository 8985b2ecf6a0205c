"""OSS state: buckets, objects, multipart uploads and notification rules. No HTTP here.

Errors are `ServiceError`s with OSS's real codes and messages (see `errors.py`); the wire layer
only renders them. Thread-safe: the loopback server answers requests on many threads.
"""

from __future__ import annotations

import base64
import re
import shutil
import tempfile
import threading
import weakref
from typing import BinaryIO, Mapping

from ...core import new_request_id
from ...env import CloudEnv
from . import archive
from .. import errors
from .append import AppendMixin
from .body import StoredBody
from .listing import ListPage, list_keys
from .multipart import MultipartMixin
from .notify import DEFAULT_EVENTS, NotificationRule, ObjectEvent, Sink, trigger_payload
from .objects import FakeBucket, FakeObject, ObjectSource, check_key, metadata_from

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


class OssBackend(MultipartMixin, AppendMixin):
    def __init__(self, env: CloudEnv):
        self.env = env
        self.buckets: dict[str, FakeBucket] = {}
        self.lock = threading.RLock()
        self.spool_dir = tempfile.mkdtemp(prefix="imagedrop-oss-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.spool_dir, True)

    def close(self) -> None:
        """Delete every spooled body. The backend is unusable afterwards."""
        self._cleanup()

    # ------------------------------------------------------------------ buckets

    def create_bucket(self, name: str, region: str | None = None) -> FakeBucket:
        if not _BUCKET_NAME.match(name):
            raise errors.invalid_bucket_name(name)
        region = region or self.env.region
        with self.lock:
            existing = self.buckets.get(name)
            if existing is not None:
                if existing.region != region:
                    raise errors.bucket_exists_elsewhere(name)
                return existing
            bucket = FakeBucket(name, region, self.env.clock.now())
            self.buckets[name] = bucket
            return bucket

    def bucket(self, name: str) -> FakeBucket:
        found = self.buckets.get(name)
        if found is None:
            raise errors.no_such_bucket(name)
        return found

    def bucket_region(self, bucket: str) -> str:
        return self.bucket(bucket).region

    def delete_bucket(self, name: str) -> None:
        with self.lock:
            bucket = self.bucket(name)
            if bucket.objects or bucket.uploads:
                raise errors.bucket_not_empty(name)
            del self.buckets[name]

    # ------------------------------------------------------------------ objects

    def put_object(self, bucket: str, key: str, data: bytes | BinaryIO, *,
                   headers: Mapping[str, str] | None = None,
                   event_name: str = "ObjectCreated:PutObject",
                   request_id: str | None = None) -> FakeObject:
        target = self.bucket(bucket)
        check_key(key)
        content_type, meta, stored = metadata_from(headers)
        lowered = {k.lower(): str(v) for k, v in (headers or {}).items()}
        body = StoredBody.from_stream(data, self.spool_dir)
        given_md5 = lowered.get("content-md5")
        if given_md5 and given_md5 != base64.b64encode(body.md5 or b"").decode():
            body.discard()
            raise errors.invalid_digest(given_md5)
        try:
            storage_class = archive.storage_class_of(lowered.get("x-oss-storage-class"),
                                                     target.storage_class)
        except Exception:
            body.discard()
            raise
        obj = FakeObject(key, body, (body.md5 or b"").hex().upper(),
                         content_type or "application/octet-stream", self.env.clock.now(),
                         meta, stored, storage_class=storage_class)
        return self._store(target, obj, lowered, event_name, request_id)

    def _store(self, bucket: FakeBucket, obj: FakeObject, headers: Mapping[str, str],
               event_name: str, request_id: str | None, *, complete: bool = False) -> FakeObject:
        """Insert `obj`, honouring x-oss-forbid-overwrite atomically (put-if-absent)."""
        forbid = str(headers.get("x-oss-forbid-overwrite", "")).lower() == "true"
        with self.lock:
            old = bucket.objects.get(obj.key)
            if old is not None and forbid:
                obj.body.discard()
                raise errors.file_already_exists(obj.key, complete=complete)
            bucket.objects[obj.key] = obj
            if old is None:
                bucket.changed()
        if old is not None and old.body is not obj.body:
            old.body.discard()
        self._emit(bucket, obj, event_name, obj.size - (old.size if old else 0), request_id)
        return obj

    def get_object(self, bucket: str, key: str) -> FakeObject:
        found = self.bucket(bucket).objects.get(key)
        if found is None:
            raise errors.no_such_key(key)
        return found

    def head_object(self, bucket: str, key: str) -> FakeObject:
        return self.get_object(bucket, key)

    def read_object(self, bucket: str, key: str) -> FakeObject:
        """The object whose bytes are about to be read: refused while archived and not restored."""
        obj = self.get_object(bucket, key)
        archive.check_readable(obj, self.env.clock.now())
        return obj

    def restore_object(self, bucket: str, key: str, request_body: bytes) -> int:
        """RestoreObject: 202 started, 200 extended (see `archive`)."""
        obj = self.get_object(bucket, key)
        with self.lock:
            if obj.storage_class not in archive.ARCHIVED:
                return archive.restore(obj, 1, "", self.env.clock.now())  # raises
            days, tier = archive.parse_restore_request(request_body, obj.storage_class)
            return archive.restore(obj, days, tier, self.env.clock.now())

    def restore_state(self, obj: FakeObject) -> str | None:
        return archive.restore_header(obj, self.env.clock.now())

    def delete_object(self, bucket: str, key: str) -> None:
        """Idempotent, as on OSS: deleting a missing key succeeds."""
        target = self.bucket(bucket)
        with self.lock:
            old = target.objects.pop(key, None)
            if old is not None:
                target.changed()
        if old is not None:
            old.body.discard()

    def delete_objects(self, bucket: str, keys: list[str]) -> list[str]:
        """DeleteMultipleObjects: every named key is reported deleted, present or not (as OSS)."""
        self.bucket(bucket)
        for key in keys:
            self.delete_object(bucket, key)
        return keys

    def open_source(self, bucket: str, key: str) -> ObjectSource:
        return ObjectSource(self.get_object(bucket, key))

    def copy_object(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str, *,
                    headers: Mapping[str, str] | None = None,
                    request_id: str | None = None) -> FakeObject:
        source = self.read_object(src_bucket, src_key)
        target = self.bucket(dst_bucket)
        check_key(dst_key)
        lowered = {k.lower(): str(v) for k, v in (headers or {}).items()}
        # Not given: the destination bucket's default class (our choice; OSS does not say).
        storage_class = archive.storage_class_of(lowered.get("x-oss-storage-class"),
                                                 target.storage_class)
        if lowered.get("x-oss-metadata-directive", "COPY").upper() == "REPLACE":
            content_type, meta, stored = metadata_from(lowered)
            content_type = content_type or source.content_type
        else:
            content_type, meta, stored = source.content_type, dict(source.user_meta), dict(source.stored_headers)
        body = StoredBody.concat([source.body], self.spool_dir)
        body.md5 = source.body.md5
        obj = FakeObject(dst_key, body, source.etag, content_type, self.env.clock.now(), meta,
                         stored, source.object_type, storage_class)
        return self._store(target, obj, lowered, "ObjectCreated:CopyObject", request_id)

    def list_objects(self, bucket: str, *, prefix: str = "", marker: str = "", delimiter: str = "",
                     max_keys: int = 100) -> tuple[ListPage, list[FakeObject]]:
        target = self.bucket(bucket)
        with self.lock:
            page = list_keys(target.sorted_keys(), prefix=prefix, marker=marker,
                             delimiter=delimiter, max_keys=max_keys)
            return page, [target.objects[k] for k in page.keys]

    # ------------------------------------------------------------------ notifications

    def add_notification(self, bucket: str, *, name: str, sink: Sink, prefix: str = "",
                         suffix: str = "", events: tuple[str, ...] = DEFAULT_EVENTS) -> NotificationRule:
        rule = NotificationRule(name, sink, prefix, suffix, tuple(events))
        with self.lock:
            self.bucket(bucket).rules.append(rule)
        return rule

    def _emit(self, bucket: FakeBucket, obj: FakeObject, event_name: str, delta: int,
              request_id: str | None) -> None:
        rules = [r for r in bucket.rules if r.matches(event_name, obj.key)]
        if not rules:
            return
        event = ObjectEvent(event_name, bucket.name, bucket.region, self.env.account_id, obj.key,
                            obj.size, delta, obj.etag, obj.content_type, dict(obj.user_meta),
                            request_id or new_request_id(), obj.last_modified)
        for rule in rules:
            self.env.pump.deliver_later(rule.name, rule.sink, trigger_payload(event, rule))



