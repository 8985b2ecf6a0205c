"""An outside reviewer's checks: `imagedrop local serve` driven only through the real SDKs, the way
Alibaba's own documentation uses them (oss2 V1 and V4, the tea ECS client, the MNS SDK)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import oss2
import pytest
import requests
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_util import models as util_models
from mns.account import Account
from mns.mns_exception import MNSExceptionBase
from mns.queue import Message, QueueMeta
from mns.subscription import SubscriptionMeta
from mns.topic import TopicMessage, TopicMeta
from Tea.exceptions import TeaException

from cli_process import serve
from imagedrop_cli.demo import sample_files

pytestmark = pytest.mark.server

Info = dict[str, str]


@pytest.fixture(scope="module")
def served() -> Iterator[Info]:
    yield from serve()


@pytest.fixture(scope="module")
def fast() -> Iterator[Info]:
    """A second stack whose clock runs fast enough for imports to finish within a test."""
    yield from serve("--speed", "600")


def _bucket(info: Info, v4: bool = False, name: str | None = None) -> oss2.Bucket:
    ak, sk = info["access_key_id"], info["access_key_secret"]
    if v4:
        return oss2.Bucket(oss2.AuthV4(ak, sk), info["oss"], name or info["bucket"],
                           region=info["region"])
    return oss2.Bucket(oss2.Auth(ak, sk), info["oss"], name or info["bucket"])


# ---------------------------------------------------------------------------------------- OSS


@pytest.mark.parametrize("v4", [False, True], ids=["v1", "v4"])
def test_user_metadata_and_content_type_come_back_on_head(served: Info, v4: bool) -> None:
    bucket = _bucket(served, v4)
    key = f"meta/{'v4' if v4 else 'v1'}.json"
    bucket.put_object(key, b'{"a": 1}', headers={"Content-Type": "application/json",
                                                 "x-oss-meta-a": "b", "x-oss-meta-Mixed": "Case"})
    head = bucket.head_object(key)
    assert head.content_type == "application/json"
    assert head.content_length == 8
    assert head.headers["x-oss-meta-a"] == "b"
    assert head.headers["x-oss-meta-mixed"] == "Case"
    meta = bucket.get_object_meta(key)
    assert meta.content_length == 8 and meta.etag == head.etag


def test_get_object_to_file_and_resumable_download(served: Info, tmp_path: Path) -> None:
    bucket = _bucket(served)
    data = os.urandom(3 * 1024 * 1024 + 17)
    bucket.put_object("dl/blob.bin", data)
    bucket.get_object_to_file("dl/blob.bin", str(tmp_path / "a.bin"))
    assert (tmp_path / "a.bin").read_bytes() == data
    oss2.resumable_download(bucket, "dl/blob.bin", str(tmp_path / "b.bin"),
                            multiget_threshold=1024 * 1024, part_size=512 * 1024, num_threads=3,
                            store=oss2.ResumableDownloadStore(root=str(tmp_path)))
    assert (tmp_path / "b.bin").read_bytes() == data


@pytest.mark.parametrize("v4", [False, True], ids=["v1", "v4"])
def test_signed_url_works_with_plain_requests_and_expires(served: Info, v4: bool) -> None:
    bucket = _bucket(served, v4)
    key = "signed/report é 1+1.txt"
    bucket.put_object(key, b"presigned")
    url = bucket.sign_url("GET", key, 60)
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == b"presigned"
    longer = url.replace("x-oss-expires=60", "x-oss-expires=6000") if v4 else \
        url.replace("Expires=", "Expires=1")
    tampered = requests.get(longer, timeout=10)
    assert tampered.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in tampered.content
    other_key = requests.get(url.replace("report", "rapport"), timeout=10)
    assert other_key.status_code == 403 and b"SignatureDoesNotMatch" in other_key.content
    put_url = bucket.sign_url("PUT", "signed/up.txt", 60)
    assert requests.put(put_url, data=b"up", timeout=10).status_code == 200
    assert bucket.get_object("signed/up.txt").read() == b"up"


def test_object_exists_and_zero_byte_objects(served: Info) -> None:
    bucket = _bucket(served)
    assert bucket.object_exists("nope/never") is False
    bucket.put_object("zero/empty", b"")
    assert bucket.object_exists("zero/empty") is True
    assert bucket.head_object("zero/empty").content_length == 0
    assert bucket.get_object("zero/empty").read() == b""
    with pytest.raises(oss2.exceptions.NoSuchKey) as err:
        bucket.get_object("nope/never")
    assert err.value.code == "NoSuchKey"


def test_batch_delete_objects(served: Info) -> None:
    bucket = _bucket(served)
    keys = ["bd/a", "bd/b c", "bd/ü&<x>"]
    for k in keys:
        bucket.put_object(k, b"x")
    result = bucket.batch_delete_objects(keys + ["bd/missing"])
    assert sorted(result.deleted_keys) == sorted(keys + ["bd/missing"])
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix="bd/")] == []
    with pytest.raises(oss2.exceptions.ClientError):
        bucket.batch_delete_objects([])  # the SDK refuses an empty list itself


@pytest.mark.parametrize("v4", [False, True], ids=["v1", "v4"])
def test_list_objects_v2_paging_owner_and_start_after(served: Info, v4: bool) -> None:
    bucket = _bucket(served, v4)
    prefix = f"lv2-{'v4' if v4 else 'v1'}/"
    keys = [f"{prefix}{i:02d} ü" for i in range(7)]
    for k in keys:
        bucket.put_object(k, b"1")
    first = bucket.list_objects_v2(prefix=prefix, max_keys=3, fetch_owner=True)
    assert [o.key for o in first.object_list] == keys[:3]
    assert first.is_truncated and first.next_continuation_token
    assert first.object_list[0].owner is not None and first.object_list[0].owner.id
    second = bucket.list_objects_v2(prefix=prefix, max_keys=3,
                                    continuation_token=first.next_continuation_token)
    assert [o.key for o in second.object_list] == keys[3:6]
    assert second.object_list[0].owner is None  # no owner unless asked
    after = bucket.list_objects_v2(prefix=prefix, start_after=keys[4])
    assert [o.key for o in after.object_list] == keys[5:] and not after.is_truncated
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix=prefix, max_keys=2)] == keys


def test_copy_object_keeps_or_replaces_metadata(served: Info) -> None:
    bucket = _bucket(served)
    bucket.put_object("cp/src", b"copyme", headers={"x-oss-meta-k": "v", "Content-Type": "text/x"})
    bucket.copy_object(served["bucket"], "cp/src", "cp/dst ü")
    head = bucket.head_object("cp/dst ü")
    assert head.headers["x-oss-meta-k"] == "v" and head.content_type == "text/x"
    assert bucket.get_object("cp/dst ü").read() == b"copyme"
    bucket.copy_object(served["bucket"], "cp/src", "cp/dst2",
                       headers={"x-oss-metadata-directive": "REPLACE", "x-oss-meta-n": "1"})
    replaced = bucket.head_object("cp/dst2")
    assert replaced.headers.get("x-oss-meta-n") == "1" and "x-oss-meta-k" not in replaced.headers


def test_append_object_appends_and_checks_position(served: Info) -> None:
    bucket = _bucket(served)
    first = bucket.append_object("ap/log", 0, b"hello ")
    assert first.next_position == 6
    second = bucket.append_object("ap/log", first.next_position, b"world")
    assert second.next_position == 11
    assert bucket.get_object("ap/log").read() == b"hello world"
    assert bucket.head_object("ap/log").object_type == "Appendable"
    with pytest.raises(oss2.exceptions.PositionNotEqualToLength) as err:
        bucket.append_object("ap/log", 3, b"x")
    assert err.value.code == "PositionNotEqualToLength"
    bucket.put_object("ap/normal", b"n")
    with pytest.raises(oss2.exceptions.ObjectNotAppendable) as refused:
        bucket.append_object("ap/normal", 1, b"x")
    assert refused.value.code == "ObjectNotAppendable"


def test_bucket_info_service_listing_and_bucket_lifecycle(served: Info) -> None:
    bucket = _bucket(served)
    info = bucket.get_bucket_info()
    assert info.name == served["bucket"]
    assert info.location == f"oss-{served['region']}"
    assert info.owner.id == served["account_id"]
    assert bucket.get_bucket_location().location == f"oss-{served['region']}"
    service = oss2.Service(oss2.Auth(served["access_key_id"], served["access_key_secret"]),
                           served["oss"])
    names = [b.name for b in oss2.BucketIterator(service)]
    assert served["bucket"] in names
    fresh = _bucket(served, name="reviewer-new-bucket")
    fresh.create_bucket()
    assert "reviewer-new-bucket" in [b.name for b in service.list_buckets().buckets]
    fresh.put_object("k", b"v")
    with pytest.raises(oss2.exceptions.BucketNotEmpty) as busy:
        fresh.delete_bucket()
    assert busy.value.code == "BucketNotEmpty"
    fresh.delete_object("k")
    fresh.delete_bucket()
    with pytest.raises(oss2.exceptions.NoSuchBucket) as gone:
        fresh.get_bucket_info()
    assert gone.value.code == "NoSuchBucket"


def test_conditional_get_and_sub_resources_the_emulator_does_not_answer(served: Info) -> None:
    bucket = _bucket(served)
    etag = bucket.put_object("cond/x", b"x").etag
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("cond/x", headers={"If-None-Match": f'"{etag}"'})
    with pytest.raises(oss2.exceptions.PreconditionFailed) as failed:
        bucket.get_object("cond/x", headers={"If-Match": '"not-it"'})
    assert failed.value.code == "PreconditionFailed"
    got = bucket.get_object("cond/x", params={"response-content-disposition": "attachment"})
    assert got.headers["Content-Disposition"] == "attachment"
    for call in (bucket.get_bucket_stat, bucket.delete_bucket_cors, bucket.get_bucket_lifecycle):
        with pytest.raises(oss2.exceptions.ServerError) as refused:
            call()
        assert refused.value.status == 501 and refused.value.code == "NotImplemented"
    assert bucket.get_bucket_info().name == served["bucket"]  # DELETE ?cors left it alone


def test_v4_bucket_creation_and_listing(served: Info) -> None:
    fresh = _bucket(served, v4=True, name="reviewer-v4-bucket")
    fresh.create_bucket()
    fresh.put_object("a b/ü", b"1")
    assert [o.key for o in fresh.list_objects_v2().object_list] == ["a b/ü"]
    fresh.delete_object("a b/ü")
    fresh.delete_bucket()


@pytest.mark.parametrize("v4", [False, True], ids=["v1", "v4"])
def test_unicode_space_and_plus_keys_round_trip(served: Info, v4: bool) -> None:
    bucket = _bucket(served, v4)
    for key in ["uni/日本語 ファイル.qcow2", "uni/a+b%20c", "uni/ trailing ", "uni/?#&="]:
        bucket.put_object(key, key.encode())
        assert bucket.get_object(key).read() == key.encode()
        assert bucket.object_exists(key)
    listed = {o.key for o in oss2.ObjectIterator(bucket, prefix="uni/")}
    assert "uni/a+b%20c" in listed and "uni/日本語 ファイル.qcow2" in listed


def test_wrong_secret_is_signature_mismatch_for_both_versions(served: Info) -> None:
    for auth in (oss2.Auth(served["access_key_id"], "wrong"),
                 oss2.AuthV4(served["access_key_id"], "wrong")):
        bucket = oss2.Bucket(auth, served["oss"], served["bucket"], region=served["region"])
        with pytest.raises(oss2.exceptions.SignatureDoesNotMatch) as err:
            bucket.put_object("x", b"y")
        assert err.value.code == "SignatureDoesNotMatch"


# ---------------------------------------------------------------------------------------- ECS


def _ecs(info: Info) -> EcsClient:
    return EcsClient(Config(access_key_id=info["access_key_id"],
                            access_key_secret=info["access_key_secret"], region_id=info["region"],
                            endpoint=info["ecs"].removeprefix("http://"), protocol="http"))


def _import(info: Info, name: str, *, data_disk: bool = False,
            dry_run: bool | None = None) -> ecs_models.ImportImageResponse:
    disk, _ = sample_files()
    bucket = _bucket(info)
    key = f"images/{disk.name}"
    if not bucket.object_exists(key):
        bucket.put_object_from_file(key, str(disk))
    mappings = [ecs_models.ImportImageRequestDiskDeviceMapping(
        ossbucket=info["bucket"], ossobject=key, format="RAW" if disk.suffix == ".raw" else None,
        disk_image_size=20)]
    if data_disk:
        mappings.append(ecs_models.ImportImageRequestDiskDeviceMapping(
            ossbucket=info["bucket"], ossobject=key, disk_image_size=40, device="/dev/xvdb"))
    return _ecs(info).import_image(ecs_models.ImportImageRequest(
        region_id=info["region"], image_name=name, ostype="linux", platform="Ubuntu",
        architecture="x86_64", disk_device_mapping=mappings, dry_run=dry_run))


def _wait_available(info: Info, image_id: str) -> ecs_models.DescribeImagesResponseBodyImagesImage:
    ecs = _ecs(info)
    for _ in range(200):
        found = ecs.describe_images(ecs_models.DescribeImagesRequest(
            region_id=info["region"], image_id=image_id, status="Available")).body.images.image
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"{image_id} never became Available")


def test_import_with_a_data_disk_shows_both_disks(fast: Info) -> None:
    answer = _import(fast, "reviewer-two-disks", data_disk=True)
    image = _wait_available(fast, answer.body.image_id)
    disks = image.disk_device_mappings.disk_device_mapping
    assert len(disks) == 2
    assert {d.type for d in disks} == {"system", "data"}
    assert image.image_owner_alias == "self"


def test_dry_run_import_answers_dry_run_operation(fast: Info) -> None:
    with pytest.raises(TeaException) as err:
        _import(fast, "reviewer-dry-run", dry_run=True)
    assert err.value.code == "DryRunOperation"
    assert "DryRun" in err.value.message
    listed = _ecs(fast).describe_images(ecs_models.DescribeImagesRequest(
        region_id=fast["region"], image_name="reviewer-dry-run", status="Creating,Available"))
    assert listed.body.total_count == 0


def test_describe_images_owner_alias_paging_modify_and_delete(fast: Info) -> None:
    ids = [_import(fast, f"reviewer-page-{i}").body.image_id for i in range(3)]
    for image_id in ids:
        _wait_available(fast, image_id)
    ecs = _ecs(fast)
    pages = [ecs.describe_images(ecs_models.DescribeImagesRequest(
        region_id=fast["region"], image_owner_alias="self", page_size=1, page_number=number,
        image_name="reviewer-page-")).body for number in (1, 2, 3, 4)]
    assert [(b.page_number, b.page_size, b.total_count) for b in pages] == \
        [(1, 1, 3), (2, 1, 3), (3, 1, 3), (4, 1, 3)]
    assert [i.image_id for b in pages for i in b.images.image] == ids[::-1]  # newest first
    others = ecs.describe_images(ecs_models.DescribeImagesRequest(
        region_id=fast["region"], image_owner_alias="system"))
    assert not set(ids) & {i.image_id for i in others.body.images.image}
    everything = ecs.describe_images(ecs_models.DescribeImagesRequest(
        region_id=fast["region"], image_owner_alias="self", page_size=100))
    assert set(ids) <= {i.image_id for i in everything.body.images.image}

    ecs.modify_image_attribute(ecs_models.ModifyImageAttributeRequest(
        region_id=fast["region"], image_id=ids[0], image_name="reviewer-renamed",
        description="renamed by a reviewer", image_family="reviewers"))
    image = ecs.describe_images(ecs_models.DescribeImagesRequest(
        region_id=fast["region"], image_id=ids[0])).body.images.image[0]
    assert (image.image_name, image.description, image.image_family) == \
        ("reviewer-renamed", "renamed by a reviewer", "reviewers")

    with pytest.raises(TeaException) as dry:
        ecs.delete_image(ecs_models.DeleteImageRequest(region_id=fast["region"], image_id=ids[0],
                                                       dry_run=True))
    assert dry.value.code == "DryRunOperation"
    ecs.delete_image(ecs_models.DeleteImageRequest(region_id=fast["region"], image_id=ids[0]))
    after = ecs.describe_images(ecs_models.DescribeImagesRequest(region_id=fast["region"],
                                                                 image_id=ids[0]))
    assert after.body.total_count == 0
    with pytest.raises(TeaException) as err:
        ecs.delete_image(ecs_models.DeleteImageRequest(region_id=fast["region"], image_id=ids[0]))
    assert err.value.code == "InvalidImageId.NotFound"


def test_describe_regions_and_task_paging(fast: Info) -> None:
    ecs = _ecs(fast)
    regions = ecs.describe_regions(ecs_models.DescribeRegionsRequest()).body.regions.region
    assert fast["region"] in {r.region_id for r in regions}
    assert all(r.region_endpoint for r in regions)
    for i in range(3):
        _import(fast, f"reviewer-task-{i}")
    first = ecs.describe_tasks(ecs_models.DescribeTasksRequest(
        region_id=fast["region"], task_action="ImportImage", page_size=2, page_number=1)).body
    second = ecs.describe_tasks(ecs_models.DescribeTasksRequest(
        region_id=fast["region"], task_action="ImportImage", page_size=2, page_number=2)).body
    assert first.total_count >= 3 and first.page_size == 2 and len(first.task_set.task) == 2
    assert second.page_number == 2 and second.task_set.task
    ids = {t.task_id for t in first.task_set.task} | {t.task_id for t in second.task_set.task}
    assert len(ids) == len(first.task_set.task) + len(second.task_set.task)


def test_unknown_action_through_call_api_is_a_clear_error(fast: Info) -> None:
    ecs = _ecs(fast)
    params = open_api_models.Params(action="DescribeInstancesTurbo", version="2014-05-26",
                                    protocol="HTTP", pathname="/", method="POST", auth_type="AK",
                                    style="RPC", req_body_type="formData", body_type="json")
    request = open_api_models.OpenApiRequest(query={"RegionId": fast["region"]})
    with pytest.raises(TeaException) as err:
        ecs.call_api(params, request, util_models.RuntimeOptions())
    assert err.value.code == "InvalidAction.NotFound"
    assert "DescribeInstancesTurbo" in err.value.message
    known = open_api_models.Params(action="DescribeRegions", version="2014-05-26", protocol="HTTP",
                                   pathname="/", method="POST", auth_type="AK", style="RPC",
                                   req_body_type="formData", body_type="json")
    answer = ecs.call_api(known, open_api_models.OpenApiRequest(query={}),
                          util_models.RuntimeOptions())
    assert answer["body"]["Regions"]["Region"]


# ---------------------------------------------------------------------------------------- MNS


def _account(info: Info) -> Account:
    return Account(info["mns"], info["access_key_id"], info["access_key_secret"])


def test_queue_create_attributes_and_delete(served: Info) -> None:
    account = _account(served)
    queue = account.get_queue("reviewer-attrs")
    queue.create(QueueMeta(vis_timeout=45, max_msg_size=2048, msg_ttl=3600, delay_sec=0,
                           polling_wait_sec=3, logging_enabled=True))
    meta = queue.get_attributes()
    assert (meta.visibility_timeout, meta.maximum_message_size, meta.message_retention_period,
            meta.polling_wait_seconds) == (45, 2048, 3600, 3)
    assert meta.queue_name == "reviewer-attrs"
    assert meta.create_time > 0 and meta.last_modify_time >= meta.create_time
    assert meta.logging_enabled is True
    queue.delete()
    with pytest.raises(MNSExceptionBase) as err:
        queue.get_attributes()
    assert err.value.type == "QueueNotExist"


def test_priority_batch_send_receive_peek_and_visibility(served: Info) -> None:
    queue = _account(served).get_queue("reviewer-messages")
    queue.create(QueueMeta(vis_timeout=30))
    low = queue.send_message(Message("low", priority=16))
    high = queue.send_message(Message("high", priority=1))
    assert low.message_id and high.message_id and low.message_body_md5
    peeked = queue.peek_message_with_str_body()
    assert peeked.message_body == "high" and peeked.dequeue_count == 0
    sent = queue.batch_send_message([Message(f"b{i}") for i in range(3)])
    assert len({m.message_id for m in sent}) == 3
    got = queue.batch_receive_message_with_str_body(16, wait_seconds=1)
    bodies = [m.message_body for m in got]
    assert bodies[0] == "high" and bodies[-1] == "low"  # 1 is the highest priority, 8 the default
    assert sorted(m.message_body for m in got) == ["b0", "b1", "b2", "high", "low"]
    assert all(m.dequeue_count == 1 for m in got)
    first = got[0]
    changed = queue.change_message_visibility(first.receipt_handle, 1)
    assert changed.receipt_handle != first.receipt_handle and changed.next_visible_time
    with pytest.raises(MNSExceptionBase) as stale:
        queue.delete_message(first.receipt_handle)
    assert stale.value.type in ("MessageNotExist", "ReceiptHandleError")
    queue.batch_delete_message([m.receipt_handle for m in got[1:]])
    again = queue.receive_message_with_str_body(wait_seconds=5)
    assert again.message_body == first.message_body and again.dequeue_count == 2
    queue.delete_message(again.receipt_handle)
    with pytest.raises(MNSExceptionBase) as empty:
        queue.receive_message(wait_seconds=1)
    assert empty.value.type == "MessageNotExist"
    queue.delete()


def test_topic_subscribe_publish_and_list(served: Info) -> None:
    account = _account(served)
    queue = account.get_queue("reviewer-sub-target")
    queue.create(QueueMeta())
    queue.set_encoding(False)  # topic messages arrive as published, not base64
    topic = account.get_topic("reviewer-topic")
    topic.create(TopicMeta())
    endpoint = f"acs:mns:{served['region']}:{served['account_id']}:queues/reviewer-sub-target"
    topic.get_subscription("reviewer-sub").subscribe(
        SubscriptionMeta(endpoint, notify_content_format="SIMPLIFIED"))
    topics, _ = account.list_topic(prefix="reviewer-")
    assert [t.rsplit("/", 1)[1] for t in topics] == ["reviewer-topic"]
    names, _ = topic.list_subscription()
    assert any(n.endswith("reviewer-sub") for n in names)
    published = topic.publish_message(TopicMessage("to the queue"))
    assert published.message_id
    got = queue.receive_message(wait_seconds=5)
    assert got.message_body == "to the queue"
    queue.delete_message(got.receipt_handle)
