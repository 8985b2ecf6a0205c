"""Multipart uploads: oss2.resumable_upload completes, survives a dropped connection and resumes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import oss2
import pytest
from oss_helpers import BUCKET

from imagedrop_emulator import FakeCloud

MIB = 1024 * 1024


def _counting(cloud: FakeCloud, method: str) -> list[int]:
    calls: list[int] = []
    original = getattr(cloud.oss, method)

    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return original(*args, **kwargs)

    setattr(cloud.oss, method, wrapper)
    return calls


def test_resumable_upload_resumes_only_missing_parts(bucket: oss2.Bucket, cloud: FakeCloud,
                                                     tmp_path: Path) -> None:
    # Given a 25 MiB file, 5 MiB parts, and a connection reset on the third UploadPart
    source = tmp_path / "disk.raw"
    source.write_bytes(os.urandom(25 * MIB))
    checkpoints = tmp_path / "checkpoints"
    uploads = _counting(cloud, "upload_part")
    listings = _counting(cloud, "list_parts")
    cloud.faults.script("oss", "UploadPart", [None, None, "reset"])

    def upload() -> oss2.models.PutObjectResult:
        return oss2.resumable_upload(bucket, "incoming/disk.raw", str(source),
                                     store=oss2.ResumableStore(root=str(checkpoints)),
                                     multipart_threshold=5 * MIB, part_size=5 * MIB, num_threads=1)

    # When the first attempt fails part-way
    with pytest.raises(oss2.exceptions.RequestError):
        upload()
    assert len(uploads) == 2 and not cloud.oss.bucket(BUCKET).objects
    # And the upload is run again with the same checkpoint folder
    result = upload()

    # Then only the three missing parts were sent, after ListParts found the first two
    assert len(uploads) == 5
    assert listings, "resume must ask the service which parts it already has"
    stored = cloud.oss.get_object(BUCKET, "incoming/disk.raw")
    data = source.read_bytes()
    assert stored.size == len(data) and stored.object_type == "Multipart"
    assert stored.body.on_disk  # a big object is spooled, not held in memory
    part_md5s = b"".join(hashlib.md5(data[i:i + 5 * MIB]).digest() for i in range(0, len(data), 5 * MIB))
    assert result.etag == stored.etag == hashlib.md5(part_md5s).hexdigest().upper() + "-5"
    assert stored.read(12 * MIB, 100) == data[12 * MIB:12 * MIB + 100]
    assert bucket.head_object("incoming/disk.raw").server_crc == stored.crc64


def test_complete_rejects_bad_parts_and_abort_forgets_upload(bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload("m").upload_id
    small = bucket.upload_part("m", upload_id, 1, b"a" * 1000)
    last = bucket.upload_part("m", upload_id, 2, b"b" * 10)
    with pytest.raises(oss2.exceptions.ServerError) as wrong:
        bucket.complete_multipart_upload("m", upload_id, [oss2.models.PartInfo(1, "0" * 32)])
    assert (wrong.value.status, wrong.value.code) == (400, "InvalidPart")
    with pytest.raises(oss2.exceptions.ServerError) as tiny:
        bucket.complete_multipart_upload("m", upload_id, [oss2.models.PartInfo(1, small.etag),
                                                          oss2.models.PartInfo(2, last.etag)])
    assert tiny.value.code == "EntityTooSmall"
    assert [p.part_number for p in bucket.list_parts("m", upload_id).parts] == [1, 2]
    bucket.abort_multipart_upload("m", upload_id)
    with pytest.raises(oss2.exceptions.NoSuchUpload) as gone:
        bucket.list_parts("m", upload_id)
    assert gone.value.details["UploadId"] == upload_id


def test_complete_with_forbid_overwrite(bucket: oss2.Bucket) -> None:
    bucket.put_object("taken", b"x")
    upload_id = bucket.init_multipart_upload("taken").upload_id
    part = bucket.upload_part("taken", upload_id, 1, b"y")
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.complete_multipart_upload("taken", upload_id, [oss2.models.PartInfo(1, part.etag)],
                                         headers={"x-oss-forbid-overwrite": "true"})
    assert (err.value.status, err.value.code) == (409, "FileAlreadyExists")
