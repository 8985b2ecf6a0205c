"""AppendObject, DeleteMultipleObjects, conditional GETs, `response-*` overrides, V4 presigned URLs
and bucket sub-resources the emulator does not answer — through both doors, with real oss2."""

from __future__ import annotations

import json

import oss2
import pytest
import requests
from oss_helpers import BUCKET, MakeBucket

from imagedrop_emulator import FakeCloud


def test_append_grows_the_object_and_emits_append_events(cloud: FakeCloud,
                                                         bucket: oss2.Bucket) -> None:
    received: list[bytes] = []
    cloud.oss.add_notification(BUCKET, name="logs", sink=received.append,
                               events=("oss:ObjectCreated:AppendObject",))
    first = bucket.append_object("logs/app.log", 0, b"one\n",
                                 headers={"Content-Type": "text/plain", "x-oss-meta-src": "a"})
    second = bucket.append_object("logs/app.log", first.next_position, b"two\n")
    cloud.pump.run_until_idle()

    assert (first.next_position, second.next_position) == (4, 8)
    assert second.crc == cloud.oss.get_object(BUCKET, "logs/app.log").crc64
    head = bucket.head_object("logs/app.log")
    assert head.object_type == "Appendable" and head.content_type == "text/plain"
    assert head.headers["x-oss-meta-src"] == "a"
    assert bucket.get_object("logs/app.log").read() == b"one\ntwo\n"
    events = [json.loads(p)["events"][0] for p in received]
    assert [e["eventName"] for e in events] == ["ObjectCreated:AppendObject"] * 2
    assert [e["oss"]["object"]["deltaSize"] for e in events] == [4, 4]


def test_append_at_the_wrong_position_or_to_a_normal_object_is_refused(
        bucket: oss2.Bucket) -> None:
    bucket.append_object("a.log", 0, b"12345")
    with pytest.raises(oss2.exceptions.PositionNotEqualToLength) as wrong:
        bucket.append_object("a.log", 2, b"x")
    assert wrong.value.next_position == 5  # oss2 reads x-oss-next-append-position
    assert "length 5" in wrong.value.message
    with pytest.raises(oss2.exceptions.PositionNotEqualToLength):
        bucket.append_object("new.log", 3, b"x")
    bucket.put_object("plain", b"p")
    with pytest.raises(oss2.exceptions.ObjectNotAppendable) as normal:
        bucket.append_object("plain", 1, b"x")
    assert normal.value.message == "The object is not appendable."
    assert bucket.get_object("a.log").read() == b"12345"


def test_batch_delete_reports_every_key_and_limits_the_list(cloud: FakeCloud,
                                                            bucket: oss2.Bucket) -> None:
    keys = ["d/a", "d/b c", "d/<&>", "d/ü+%"]
    for key in keys:
        bucket.put_object(key, b"x")
    result = bucket.batch_delete_objects(keys[:3] + ["d/absent"])
    assert result.deleted_keys == keys[:3] + ["d/absent"]
    assert sorted(cloud.oss.bucket(BUCKET).objects) == ["d/ü+%"]
    with pytest.raises(oss2.exceptions.MalformedXml) as too_many:
        bucket.batch_delete_objects([f"k{i}" for i in range(1001)])
    assert "1 to 1000" in too_many.value.message
    quiet = bucket.batch_delete_objects(["d/ü+%"])
    assert quiet.deleted_keys == ["d/ü+%"] and not cloud.oss.bucket(BUCKET).objects


def test_conditional_gets_answer_304_and_412(bucket: oss2.Bucket) -> None:
    etag = bucket.put_object("c.txt", b"cond").etag
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("c.txt", headers={"If-None-Match": f'"{etag}"'})
    with pytest.raises(oss2.exceptions.PreconditionFailed) as failed:
        bucket.get_object("c.txt", headers={"If-Match": '"0123"'})
    assert failed.value.details["Condition"] == "If-Match"
    assert bucket.get_object("c.txt", headers={"If-Match": f'"{etag}"'}).read() == b"cond"
    assert bucket.get_object("c.txt", headers={"If-None-Match": '"0123"'}).read() == b"cond"
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.get_object("c.txt", headers={"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.head_object("c.txt", headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})


def test_response_parameters_override_headers(bucket: oss2.Bucket) -> None:
    bucket.put_object("r.bin", b"r", headers={"Content-Type": "application/octet-stream"})
    got = bucket.get_object("r.bin", params={"response-content-type": "text/csv",
                                             "response-content-disposition": "attachment"})
    assert got.headers["Content-Type"] == "text/csv"
    assert got.headers["Content-Disposition"] == "attachment"
    assert bucket.head_object("r.bin").content_type == "application/octet-stream"


def test_v4_presigned_urls_are_verified(make_bucket: MakeBucket) -> None:
    bucket = make_bucket("v4")
    bucket.put_object("p/ü 1+1", b"v4url")
    url = bucket.sign_url("GET", "p/ü 1+1", 60)
    assert requests.get(url, timeout=10).content == b"v4url"
    stretched = requests.get(url.replace("x-oss-expires=60", "x-oss-expires=600"), timeout=10)
    assert stretched.status_code == 403 and b"SignatureDoesNotMatch" in stretched.content
    stale = requests.get(make_bucket("v4").sign_url("GET", "p/ü 1+1", -10), timeout=10)
    assert stale.status_code == 403 and b"Request has expired." in stale.content
    wrong = make_bucket("v4", secret="wrong").sign_url("GET", "p/ü 1+1", 60)
    assert requests.get(wrong, timeout=10).status_code == 403


def test_unanswered_bucket_sub_resources_are_501_and_never_touch_the_bucket(
        cloud: FakeCloud, bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.ServerError) as stat:
        bucket.get_bucket_stat()
    assert stat.value.status == 501 and "?stat" in stat.value.message
    with pytest.raises(oss2.exceptions.ServerError):
        bucket.delete_bucket_cors()  # must not be taken for DeleteBucket
    with pytest.raises(oss2.exceptions.ServerError):
        bucket.get_bucket_lifecycle()  # must not be taken for ListObjects
    assert BUCKET in cloud.oss.buckets
