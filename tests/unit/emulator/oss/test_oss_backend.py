"""The backend and its pure parts, without HTTP."""

from __future__ import annotations

import hashlib
import io

import oss2
import pytest
from oss_helpers import BUCKET

from imagedrop_disk import ByteSource
from imagedrop_emulator import FakeCloud, ServiceError
from imagedrop_emulator.oss.backend.listing import list_keys
from imagedrop_emulator.oss.wire.ranges import resolve_range

MIB = 1024 * 1024


def test_small_bodies_stay_in_memory_large_ones_go_to_disk(cloud: FakeCloud) -> None:
    small = cloud.oss.put_object(BUCKET, "small", b"s" * 1000)
    large = cloud.oss.put_object(BUCKET, "large", io.BytesIO(b"L" * (6 * MIB)))
    assert not small.body.on_disk and large.body.on_disk
    assert large.etag == hashlib.md5(b"L" * (6 * MIB)).hexdigest().upper()
    crc = oss2.utils.Crc64()
    crc.update(b"L" * (6 * MIB))
    assert large.crc64 == crc.crc


def test_open_source_is_a_byte_source(cloud: FakeCloud) -> None:
    cloud.oss.put_object(BUCKET, "img", bytes(range(256)))
    source = cloud.oss.open_source(BUCKET, "img")
    assert isinstance(source, ByteSource)
    assert source.size == 256
    assert source.read(250, 100) == bytes(range(250, 256))


def test_multipart_etag_and_crc_combine(cloud: FakeCloud) -> None:
    parts = [b"a" * (200 * 1024), b"b" * (150 * 1024)]
    upload = cloud.oss.initiate_multipart_upload(BUCKET, "mp")
    etags = [cloud.oss.upload_part(BUCKET, "mp", upload.upload_id, i + 1, p).etag
             for i, p in enumerate(parts)]
    obj = cloud.oss.complete_multipart_upload(BUCKET, "mp", upload.upload_id,
                                              [(1, etags[0]), (2, f'"{etags[1]}"')])
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest().upper()
    assert obj.etag == f"{expected}-2"
    crc = oss2.utils.Crc64()
    crc.update(b"".join(parts))
    assert obj.crc64 == crc.crc and obj.data == b"".join(parts)


def test_bucket_region_and_bad_names(cloud: FakeCloud) -> None:
    cloud.oss.create_bucket("tokyo-images", region="ap-northeast-1")
    assert cloud.oss.bucket_region("tokyo-images") == "ap-northeast-1"
    assert cloud.oss.bucket_region(BUCKET) == cloud.region
    with pytest.raises(ServiceError) as err:
        cloud.oss.create_bucket("Bad_Name")
    assert err.value.code == "InvalidBucketName"
    with pytest.raises(ServiceError) as missing:
        cloud.oss.get_object("nope-bucket", "k")
    assert missing.value.code == "NoSuchBucket"


@pytest.mark.parametrize("header, size, standard, expected", [
    ("bytes=0-9", 100, False, (0, 10)),
    ("bytes=90-", 100, False, (90, 100)),
    ("bytes=-10", 100, False, (90, 100)),
    ("bytes=-200", 100, False, None),
    ("bytes=-200", 100, True, (0, 100)),
    ("bytes=100-", 100, False, None),
    ("bytes=50-500", 100, False, None),
    ("bytes=50-500", 100, True, (50, 100)),
    ("bytes=9-3", 100, False, None),
    ("bytes=0-1,5-6", 100, False, None),
    ("items=0-9", 100, True, None),
    ("", 100, False, None),
])
def test_resolve_range(header: str, size: int, standard: bool, expected: tuple[int, int] | None) -> None:
    assert resolve_range(header, size, standard=standard) == expected


def test_resolve_range_standard_unsatisfiable() -> None:
    with pytest.raises(ServiceError) as err:
        resolve_range("bytes=100-", 100, standard=True)
    assert (err.value.status, err.value.code) == (416, "InvalidRange")


KEYS = sorted(["a", "b/1", "b/2", "b/c/3", "c", "d/4"])


@pytest.mark.parametrize("kwargs, keys, prefixes, truncated, next_marker", [
    ({}, KEYS, [], False, ""),
    ({"delimiter": "/"}, ["a", "c"], ["b/", "d/"], False, ""),
    ({"delimiter": "/", "max_keys": 2}, ["a"], ["b/"], True, "b/"),
    ({"delimiter": "/", "marker": "b/"}, ["c"], ["d/"], False, ""),
    ({"prefix": "b/", "delimiter": "/"}, ["b/1", "b/2"], ["b/c/"], False, ""),
    ({"prefix": "b/", "max_keys": 1}, ["b/1"], [], True, "b/1"),
    ({"marker": "b/2"}, ["b/c/3", "c", "d/4"], [], False, ""),
    ({"prefix": "zz"}, [], [], False, ""),
])
def test_list_keys(kwargs, keys, prefixes, truncated, next_marker) -> None:  # type: ignore[no-untyped-def]
    page = list_keys(KEYS, **kwargs)
    assert (page.keys, page.prefixes, page.truncated, page.next_marker) == \
        (keys, prefixes, truncated, next_marker)
