"""AppendObject: `POST /key?append&position=N` grows an Appendable object at its current end.

As on OSS: the first append (position 0) creates the object and fixes its Content-Type and user
metadata; every later append must name the current length, a Normal or Multipart object cannot
be appended to, and each append emits `ObjectCreated:AppendObject`.
"""

from __future__ import annotations

import base64
import hashlib
from typing import BinaryIO, Mapping

from .. import errors
from .body import StoredBody
from .objects import FakeObject, check_key, metadata_from


APPEND_EVENT = "ObjectCreated:AppendObject"


def parse_position(raw: str | None) -> int:
    if raw is None or not raw.isdigit():
        raise errors.invalid_position(raw)
    return int(raw)


def appended_etag(previous: str, part_md5: bytes) -> str:
    # Appendable objects have no whole-object MD5 on OSS; any stable, content-derived tag does.
    return hashlib.md5(previous.encode() + part_md5).hexdigest().upper()


class AppendMixin:
    """AppendObject for `OssBackend` (which provides lock, spool_dir, env, bucket, _emit)."""

    def append_object(self, bucket: str, key: str, position: int, data: bytes | BinaryIO, *,
                      headers: Mapping[str, str] | None = None,
                      request_id: str | None = None) -> FakeObject:
        target = self.bucket(bucket)  # type: ignore[attr-defined]
        check_key(key)
        lowered = {k.lower(): str(v) for k, v in (headers or {}).items()}
        part = StoredBody.from_stream(data, self.spool_dir)  # type: ignore[attr-defined]
        given_md5 = lowered.get("content-md5")
        if given_md5 and given_md5 != base64.b64encode(part.md5 or b"").decode():
            part.discard()
            raise errors.invalid_digest(given_md5)
        now = self.env.clock.now()  # type: ignore[attr-defined]
        with self.lock:  # type: ignore[attr-defined]
            old = target.objects.get(key)
            current = old.size if old is not None else 0
            if old is not None and old.object_type != "Appendable":
                part.discard()
                raise errors.object_not_appendable(key)
            if position != current:
                part.discard()
                raise errors.position_not_equal_to_length(position, current)
            if old is None:
                content_type, meta, stored = metadata_from(lowered)
                obj = FakeObject(key, part, appended_etag("", part.md5 or b""),
                                 content_type or "application/octet-stream", now, meta, stored,
                                 "Appendable")
                target.changed()
            else:
                body = StoredBody.concat([old.body, part], self.spool_dir)  # type: ignore[attr-defined]
                obj = FakeObject(key, body, appended_etag(old.etag, part.md5 or b""),
                                 old.content_type, now, old.user_meta, old.stored_headers,
                                 "Appendable")
            target.objects[key] = obj
        if old is not None:
            old.body.discard()
            part.discard()
        self._emit(target, obj, APPEND_EVENT, part.size, request_id)  # type: ignore[attr-defined]
        return obj
