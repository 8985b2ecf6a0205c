"""Objects through the real oss2 client, via `responses` and via the loopback server."""

from __future__ import annotations

import hashlib

import oss2
import pytest
from oss_helpers import BUCKET, MakeBucket

from imagedrop_emulator import FakeCloud

AWKWARD_KEYS = ["dir/a b+c%.json", "incoming/日本語 イメージ.qcow2", "x/%2F literal", "plus+only",
                "sp ace/../dots"]


@pytest.mark.parametrize("version", ["v1", "v4", "sts", "sts-v4"])
def test_put_get_round_trip_with_every_signature(make_bucket: MakeBucket, cloud: FakeCloud,
                                                 version: str) -> None:
    # Given a client signing with this version
    bucket = make_bucket(version)
    # When an object with an awkward key is written and read back
    result = bucket.put_object("dir/a b+c%.json", b'{"ok": true}')
    got = bucket.get_object("dir/a b+c%.json")
    # Then the bytes, the ETag (uppercase MD5) and the stored key are exact
    assert got.read() == b'{"ok": true}'
    assert result.etag == hashlib.md5(b'{"ok": true}').hexdigest().upper() == got.etag
    assert "dir/a b+c%.json" in cloud.oss.bucket(BUCKET).objects


def test_awkward_keys_survive_encoding_both_ways(bucket: oss2.Bucket, cloud: FakeCloud) -> None:
    for i, key in enumerate(AWKWARD_KEYS):
        bucket.put_object(key, str(i).encode())
    assert sorted(cloud.oss.bucket(BUCKET).objects) == sorted(AWKWARD_KEYS)
    assert sorted(o.key for o in oss2.ObjectIterator(bucket)) == sorted(AWKWARD_KEYS)
    for i, key in enumerate(AWKWARD_KEYS):
        assert bucket.get_object(key).read() == str(i).encode()


def test_metadata_headers_and_crc(bucket: oss2.Bucket, cloud: FakeCloud) -> None:
    bucket.put_object("a.qcow2", b"x" * 1000, headers={"x-oss-meta-owner": "team-a",
                                                       "Content-Type": "application/x-qemu"})
    head = bucket.head_object("a.qcow2")
    assert head.content_length == 1000
    assert head.headers["x-oss-meta-owner"] == "team-a"
    assert head.content_type == "application/x-qemu"
    assert head.object_type == "Normal"
    crc = oss2.utils.Crc64()
    crc.update(b"x" * 1000)
    assert head.server_crc == crc.crc == cloud.oss.get_object(BUCKET, "a.qcow2").crc64
    assert head.headers["ETag"].startswith('"')


def test_get_object_to_file_verifies_crc(bucket: oss2.Bucket, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = bytes(range(256)) * 4096
    bucket.put_object("blob", data)
    bucket.get_object_to_file("blob", str(tmp_path / "out"))  # raises InconsistentError on bad CRC
    assert (tmp_path / "out").read_bytes() == data


@pytest.mark.parametrize("byte_range, headers, status, body", [
    ((0, 9), None, 206, b"0123456789"),
    ((90, None), None, 206, bytes(range(90, 100))),      # open range
    ((None, 5), None, 206, bytes(range(95, 100))),      # suffix
    ((200, 300), None, 200, bytes(range(100))),          # unsatisfiable: whole object
    ((50, 500), {"x-oss-range-behavior": "standard"}, 206, bytes(range(50, 100))),
])
def test_range_reads(bucket: oss2.Bucket, byte_range, headers, status, body) -> None:  # type: ignore[no-untyped-def]
    bucket.put_object("r", bytes(range(100)) if byte_range != (0, 9) else b"0123456789" + bytes(90))
    got = bucket.get_object("r", byte_range=byte_range, headers=headers)
    assert got.status == status
    assert got.read() == body
    if status == 206:
        start = 0 if byte_range == (0, 9) else (byte_range[0] if byte_range[0] is not None else 95)
        assert got.content_range == f"bytes {start}-{start + len(body) - 1}/100"


def test_unsatisfiable_range_in_standard_mode_is_416(bucket: oss2.Bucket) -> None:
    bucket.put_object("r", bytes(100))
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.get_object("r", byte_range=(200, 300), headers={"x-oss-range-behavior": "standard"})
    assert (err.value.status, err.value.code) == (416, "InvalidRange")


def test_missing_key_and_bucket_errors(bucket: oss2.Bucket, make_bucket: MakeBucket) -> None:
    with pytest.raises(oss2.exceptions.NoSuchKey) as err:
        bucket.get_object("dir/missing.json")
    assert err.value.message == "The specified key does not exist."
    assert err.value.details["Key"] == "dir/missing.json"
    assert err.value.details["EC"] == "0026-00000001"
    assert err.value.request_id
    with pytest.raises(oss2.exceptions.NotFound) as head:  # HEAD 404 carries no body
        bucket.head_object("dir/missing.json")
    assert (head.value.status, head.value.code, head.value.details) == (404, "", {})
    with pytest.raises(oss2.exceptions.NoSuchBucket) as nob:
        make_bucket(name="no-such-bucket").get_object("k")
    assert nob.value.message == "The specified bucket does not exist."
    assert nob.value.details["BucketName"] == "no-such-bucket"


def test_delete_is_idempotent(bucket: oss2.Bucket, cloud: FakeCloud) -> None:
    bucket.put_object("gone", b"1")
    assert bucket.delete_object("gone").status == 204
    assert bucket.delete_object("gone").status == 204
    assert not bucket.object_exists("gone")


def test_forbid_overwrite_is_put_if_absent(bucket: oss2.Bucket, cloud: FakeCloud) -> None:
    headers = {"x-oss-forbid-overwrite": "true"}
    bucket.put_object("imagedrop/claims/abc", b"first", headers=headers)
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.put_object("imagedrop/claims/abc", b"second", headers=headers)
    assert (err.value.status, err.value.code) == (409, "FileAlreadyExists")
    assert err.value.message == "The object you specified already exists and can not be overwritten."
    assert bucket.get_object("imagedrop/claims/abc").read() == b"first"


def test_copy_object_keeps_or_replaces_metadata(bucket: oss2.Bucket) -> None:
    bucket.put_object("src/a b", b"payload", headers={"x-oss-meta-k": "v"})
    bucket.copy_object(BUCKET, "src/a b", "dst/a b")
    assert bucket.get_object("dst/a b").read() == b"payload"
    assert bucket.head_object("dst/a b").headers["x-oss-meta-k"] == "v"
    bucket.copy_object(BUCKET, "src/a b", "dst/c", headers={"x-oss-metadata-directive": "REPLACE",
                                                          "x-oss-meta-k": "new"})
    assert bucket.head_object("dst/c").headers["x-oss-meta-k"] == "new"
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.copy_object(BUCKET, "src/none", "dst/none")


def test_list_with_delimiter_and_paging(bucket: oss2.Bucket) -> None:
    keys = ["incoming/a.qcow2", "incoming/a.qcow2.json", "incoming/sub/b.raw", "incoming/sub/c.raw",
            "imagedrop/status/x", "top"]
    for key in keys:
        bucket.put_object(key, b"1")
    page = bucket.list_objects(prefix="incoming/", delimiter="/", max_keys=2)
    assert [o.key for o in page.object_list] == ["incoming/a.qcow2", "incoming/a.qcow2.json"]
    assert page.is_truncated and page.next_marker == "incoming/a.qcow2.json"
    rest = bucket.list_objects(prefix="incoming/", delimiter="/", marker=page.next_marker)
    assert rest.object_list == [] and rest.prefix_list == ["incoming/sub/"]
    assert not rest.is_truncated
    walked = [o.key for o in oss2.ObjectIterator(bucket, max_keys=1)]
    assert walked == sorted(keys)
    v2 = [o.key for o in oss2.ObjectIteratorV2(bucket, prefix="incoming/", max_keys=1)]
    assert v2 == sorted(k for k in keys if k.startswith("incoming/"))


def test_bucket_location_info_and_service(bucket: oss2.Bucket, cloud: FakeCloud,
                                          endpoint: str) -> None:
    assert bucket.get_bucket_location().location == "oss-cn-hangzhou"
    info = bucket.get_bucket_info()
    assert (info.name, info.location, info.storage_class) == (BUCKET, "oss-cn-hangzhou", "Standard")
    service = oss2.Service(oss2.Auth(cloud.access_key_id, cloud.access_key_secret), endpoint)
    assert [b.name for b in service.list_buckets().buckets] == [BUCKET]


def test_content_md5_is_checked(bucket: oss2.Bucket, cloud: FakeCloud) -> None:
    # Given a body and the Content-MD5 of another body, and one with its own
    import base64
    right = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    # When each is put
    bucket.put_object("md5/right", b"body", headers={"Content-MD5": right})
    with pytest.raises(oss2.exceptions.ServerError) as refused:
        bucket.put_object("md5/wrong", b"body", headers={"Content-MD5": wrong})
    # Then the matching one is stored and the other refused as OSS refuses it, and not stored
    assert refused.value.status == 400 and refused.value.code == "InvalidDigest"
    assert "md5/right" in cloud.oss.bucket(BUCKET).objects
    assert "md5/wrong" not in cloud.oss.bucket(BUCKET).objects
