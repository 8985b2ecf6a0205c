"""The owners' real-client checks of ECS and MNS, over the socket: `imagedrop local serve` driven only
through `alibabacloud-ecs20140526` and `aliyun-mns-sdk` (plus raw HTTP where a status must be seen)."""

from __future__ import annotations

import gzip
import time
from pathlib import Path
from typing import Iterator

import oss2
import pytest

from cli_process import serve
import requests
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_tea_openapi.models import Config
from mns.account import Account
from mns.mns_exception import MNSServerException
from mns.message_property import MessagePropertyValue, PropertyType
from mns.queue import Message, QueueMeta
from mns.subscription import SubscriptionMeta
from mns.topic import TopicMeta
from Tea.exceptions import TeaException

pytestmark = pytest.mark.server

Info = dict[str, str]
DISK = Path(__file__).parents[1] / "fixtures" / "disks" / "mbr-linux.qcow2.gz"


@pytest.fixture(scope="module")
def served() -> Iterator[Info]:
    yield from serve("--speed", "1")


def _ecs(info: Info, secret: str | None = None) -> EcsClient:
    return EcsClient(Config(access_key_id=info["access_key_id"],
                            access_key_secret=secret or info["access_key_secret"],
                            region_id=info["region"], endpoint=info["ecs"].removeprefix("http://"),
                            protocol="http"))


def _account(info: Info, secret: str | None = None, key: str | None = None) -> Account:
    return Account(info["mns"], key or info["access_key_id"], secret or info["access_key_secret"])


def _import(info: Info, name: str) -> ecs_models.ImportImageResponseBody:
    bucket = oss2.Bucket(oss2.Auth(info["access_key_id"], info["access_key_secret"]), info["oss"],
                         info["bucket"])
    key = "owners/mbr-linux.qcow2"
    if not bucket.object_exists(key):
        bucket.put_object(key, gzip.decompress(DISK.read_bytes()))
    mapping = ecs_models.ImportImageRequestDiskDeviceMapping(ossbucket=info["bucket"], ossobject=key,
                                                             disk_image_size=20)
    return _ecs(info).import_image(ecs_models.ImportImageRequest(
        region_id=info["region"], image_name=name, disk_device_mapping=[mapping])).body


# ---------------------------------------------------------------------------------------- ECS


def test_ecs_error_body_has_every_documented_field(served: Info) -> None:
    with pytest.raises(TeaException) as err:
        _ecs(served).describe_task_attribute(ecs_models.DescribeTaskAttributeRequest(
            region_id=served["region"], task_id="t-none"))
    data = err.value.data
    assert set(data) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert (data["Code"], data["statusCode"]) == ("InvalidTaskId.NotFound", 400)
    assert data["Recommend"].endswith(f"q=InvalidTaskId.NotFound&product=Ecs&requestId={data['RequestId']}")
    assert err.value.message.startswith("code: 400, ") and data["RequestId"] in err.value.message
    with pytest.raises(TeaException) as wrong:
        _ecs(served, secret="wrong").describe_regions(ecs_models.DescribeRegionsRequest())
    assert wrong.value.code == "SignatureDoesNotMatch"
    assert "server string to sign is:ACS3-HMAC-SHA256" in wrong.value.message


def test_describe_tasks_time_window_and_task_attribute_shape(served: Info) -> None:
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))
    after = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(time.time() + 3600))
    answer = _import(served, "owners-window")
    ecs = _ecs(served)
    inside = ecs.describe_tasks(ecs_models.DescribeTasksRequest(
        region_id=served["region"], start_time=before, end_time=after, task_action="ImportImage")).body
    assert answer.task_id in {t.task_id for t in inside.task_set.task}
    assert (inside.page_number, inside.page_size) == (1, 10) and inside.total_count >= 1
    later = ecs.describe_tasks(ecs_models.DescribeTasksRequest(region_id=served["region"], start_time=after)).body
    assert (later.total_count, later.task_set.task) == (0, [])
    with pytest.raises(TeaException) as bad:
        ecs.describe_tasks(ecs_models.DescribeTasksRequest(region_id=served["region"], end_time="soon"))
    assert bad.value.code == "InvalidEndTime.Malformed"

    task = ecs.describe_task_attribute(ecs_models.DescribeTaskAttributeRequest(
        region_id=served["region"], task_id=answer.task_id)).body
    assert (task.task_action, task.task_status, task.support_cancel) == ("ImportImage", "Processing", "true")
    assert task.task_process.endswith("%") and len(task.creation_time) == len("2026-11-25T21:25Z")
    progress = task.operation_progress_set.operation_progress[0]
    assert progress.related_item_set.related_item[0].name == "OSSObject"
    ecs.cancel_task(ecs_models.CancelTaskRequest(region_id=served["region"], task_id=answer.task_id))


# ---------------------------------------------------------------------------------------- MNS


def test_mns_wrong_and_unknown_keys_are_403(served: Info) -> None:
    queue = _account(served, secret="wrong").get_queue(served["queue"])
    with pytest.raises(MNSServerException) as wrong:
        queue.get_attributes()
    assert wrong.value.type == "SignatureDoesNotMatch"
    assert wrong.value.request_id and wrong.value.host_id == served["mns"]
    with pytest.raises(MNSServerException) as unknown:
        _account(served, key="LTAInobody").get_queue(served["queue"]).get_attributes()
    assert unknown.value.type == "InvalidAccessKeyId"
    raw = requests.get(f"{served['mns']}/queues/{served['queue']}", timeout=10, headers={
        "x-mns-version": "2015-06-06", "Date": "Thu, 26 Nov 2026 02:00:00 GMT",
        "Authorization": f"MNS {served['access_key_id']}:AAAA"})
    assert raw.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in raw.text
    assert raw.headers["x-mns-request-id"] in raw.text


def test_subscription_attributes_and_paging(served: Info) -> None:
    topic = _account(served).get_topic("owners-topic")
    topic.create(TopicMeta())
    for name in ("a1", "a2", "a3"):
        topic.get_subscription(name).subscribe(SubscriptionMeta("http://127.0.0.1:9/none"))
    topic.get_subscription("a1").set_attributes(SubscriptionMeta(notify_strategy="EXPONENTIAL_DECAY_RETRY"))
    assert topic.get_subscription("a1").get_attributes().notify_strategy == "EXPONENTIAL_DECAY_RETRY"
    page, marker = topic.list_subscription(ret_number=2)
    assert [u.rsplit("/", 1)[1] for u in page] == ["a1", "a2"] and marker
    rest, end = topic.list_subscription(ret_number=2, marker=marker)
    assert ([u.rsplit("/", 1)[1] for u in rest], end) == (["a3"], "")
    meta = TopicMeta()
    meta.set_logging_enabled(True)
    topic.set_attributes(meta)
    assert topic.get_attributes().logging_enabled is True
    topic.delete()


def test_properties_and_delayed_handle(served: Info) -> None:
    queue = _account(served).get_queue("owners-props")
    queue.create(QueueMeta())
    message = Message("with attempt")
    message.add_user_property("attempt", MessagePropertyValue(PropertyType.NUMBER, 2))
    queue.send_message(message)
    got = queue.receive_message(1)
    assert got.user_properties["attempt"].get_string_value_by_type() == "2"
    assert got.user_properties["attempt"].get_data_type() == "NUMBER"
    queue.delete_message(got.receipt_handle)

    delayed = Message("in an hour")
    delayed.set_delayseconds(3600)
    sent = queue.send_message(delayed)
    assert sent.receipt_handle
    queue.change_message_visibility(sent.receipt_handle, 0)  # due now
    again = queue.receive_message(2)
    assert (again.message_body, again.dequeue_count) == (b"in an hour", 1)
    queue.delete_message(again.receipt_handle)
    queue.delete()
