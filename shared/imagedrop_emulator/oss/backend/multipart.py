"""Multipart uploads: initiate, upload part, complete (ETag `<md5 of part md5s>-<N>`), abort, list."""

from __future__ import annotations

import hashlib
import uuid
from typing import BinaryIO, Mapping

from . import archive
from .. import errors
from .body import StoredBody
from .objects import FakeBucket, FakeObject, FakePart, FakeUpload, check_key, metadata_from

MIN_PART_SIZE = 100 * 1024   # every part but the last must be at least 100 KiB
MAX_PART_NUMBER = 10000


def parse_part_number(raw: str) -> int:
    try:
        number = int(raw)
    except ValueError:
        raise errors.invalid_part_number(raw) from None
    if not 1 <= number <= MAX_PART_NUMBER:
        raise errors.invalid_part_number(raw)
    return number


def multipart_etag(part_md5s: list[bytes]) -> str:
    return f"{hashlib.md5(b''.join(part_md5s)).hexdigest().upper()}-{len(part_md5s)}"


class MultipartMixin:
    """Multipart operations of `OssBackend` (which provides lock, spool_dir, env, bucket, _store)."""

    def _upload(self, bucket: str, key: str, upload_id: str) -> tuple[FakeBucket, FakeUpload]:
        target = self.bucket(bucket)  # type: ignore[attr-defined]
        upload = target.uploads.get(upload_id)
        if upload is None or upload.key != key:
            raise errors.no_such_upload(upload_id)
        return target, upload

    def initiate_multipart_upload(self, bucket: str, key: str, *,
                                  headers: Mapping[str, str] | None = None) -> FakeUpload:
        target = self.bucket(bucket)  # type: ignore[attr-defined]
        check_key(key)
        lowered = {k.lower(): str(v) for k, v in (headers or {}).items()}
        archive.storage_class_of(lowered.get("x-oss-storage-class"), target.storage_class)
        upload = FakeUpload(uuid.uuid4().hex.upper(), key, self.env.clock.now(),  # type: ignore[attr-defined]
                            lowered)
        with self.lock:  # type: ignore[attr-defined]
            target.uploads[upload.upload_id] = upload
        return upload

    def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int,
                    data: bytes | BinaryIO) -> FakePart:
        self._upload(bucket, key, upload_id)
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise errors.invalid_part_number(str(part_number))
        body = StoredBody.from_stream(data, self.spool_dir)  # type: ignore[attr-defined]
        part = FakePart(part_number, body, (body.md5 or b"").hex().upper(),
                        self.env.clock.now())  # type: ignore[attr-defined]
        with self.lock:  # type: ignore[attr-defined]
            try:
                _, upload = self._upload(bucket, key, upload_id)  # aborted meanwhile?
            except Exception:
                body.discard()
                raise
            old = upload.parts.get(part_number)
            upload.parts[part_number] = part
        if old is not None:
            old.body.discard()
        return part

    def list_parts(self, bucket: str, key: str, upload_id: str, *, marker: int = 0,
                   max_parts: int = 1000) -> tuple[list[FakePart], bool, int]:
        """(parts after `marker`, truncated, next marker)."""
        with self.lock:  # type: ignore[attr-defined]
            _, upload = self._upload(bucket, key, upload_id)
            ordered = [upload.parts[n] for n in sorted(upload.parts) if n > marker]
        page = ordered[:max_parts]
        truncated = len(ordered) > max_parts
        return page, truncated, (page[-1].number if page else marker)

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        with self.lock:  # type: ignore[attr-defined]
            target, upload = self._upload(bucket, key, upload_id)
            del target.uploads[upload_id]
        for part in upload.parts.values():
            part.body.discard()

    def complete_multipart_upload(self, bucket: str, key: str, upload_id: str,
                                  parts: list[tuple[int, str]] | None, *,
                                  headers: Mapping[str, str] | None = None,
                                  request_id: str | None = None) -> FakeObject:
        """Join the listed parts (or all, with `x-oss-complete-all: yes`) into one object."""
        lowered = {k.lower(): str(v) for k, v in (headers or {}).items()}
        with self.lock:  # type: ignore[attr-defined]
            target, upload = self._upload(bucket, key, upload_id)
            if parts is None or lowered.get("x-oss-complete-all", "").lower() == "yes":
                parts = [(n, upload.parts[n].etag) for n in sorted(upload.parts)]
            chosen = self._check_parts(upload, parts)
            forbid = lowered.get("x-oss-forbid-overwrite", "").lower() == "true"
            if forbid and key in target.objects:
                raise errors.file_already_exists(key, complete=True)
            del target.uploads[upload_id]  # nobody else may complete or abort it now
        body = StoredBody.concat([p.body for p in chosen], self.spool_dir)  # type: ignore[attr-defined]
        content_type, meta, stored = metadata_from(upload.headers)
        storage_class = archive.storage_class_of(upload.headers.get("x-oss-storage-class"),
                                                 target.storage_class)
        obj = FakeObject(key, body, multipart_etag([p.body.md5 or b"" for p in chosen]),
                         content_type or "application/octet-stream",
                         self.env.clock.now(),  # type: ignore[attr-defined]
                         meta, stored, "Multipart", storage_class)
        try:
            return self._store(target, obj, lowered, "ObjectCreated:CompleteMultipartUpload",  # type: ignore[attr-defined]
                               request_id, complete=True)
        finally:
            for part in upload.parts.values():
                part.body.discard()

    @staticmethod
    def _check_parts(upload: FakeUpload, parts: list[tuple[int, str]]) -> list[FakePart]:
        if not parts:
            raise errors.malformed_xml("CompleteMultipartUpload lists no Part")
        numbers = [n for n, _ in parts]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise errors.invalid_part_order(upload.upload_id)
        chosen: list[FakePart] = []
        for number, etag in parts:
            part = upload.parts.get(number)
            if part is None or part.etag != etag.strip('"').upper():
                raise errors.invalid_part(upload.upload_id, number, etag)
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_SIZE:
                raise errors.entity_too_small(part.number, part.size)
        return chosen
