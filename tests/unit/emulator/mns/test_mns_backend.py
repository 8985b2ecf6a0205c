"""The MNS backend called directly: queue rules on the emulated clock, topics and their notifications."""

from __future__ import annotations

import hashlib
import json

import pytest
from mns.account import Account
from mns.subscription import SubscriptionMeta
from mns.topic import TopicMessage, TopicMeta

from imagedrop_emulator import FakeCloud, ServiceError


def code_of(excinfo: pytest.ExceptionInfo[ServiceError]) -> tuple[int, str]:
    return excinfo.value.status, excinfo.value.code


def test_send_receive_delete_keeps_the_body_and_its_md5(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("jobs")
    sent = mns.send_message("jobs", "eyJhIjoxfQ==")

    got = mns.receive_message("jobs")

    assert got.message_id == sent.message_id
    assert got.body == "eyJhIjoxfQ=="
    assert got.body_md5 == hashlib.md5(b"eyJhIjoxfQ==").hexdigest().upper()
    assert got.dequeue_count == 1
    assert got.enqueue_time_ms == 1_800_000_000_000
    assert got.next_visible_time_ms == 1_800_000_030_000  # default visibility timeout 30 s
    mns.delete_message("jobs", got.receipt_handle or "")
    with pytest.raises(ServiceError) as empty:
        mns.receive_message("jobs")
    assert code_of(empty) == (404, "MessageNotExist")
    assert empty.value.message == "Message not exist."


def test_a_delayed_message_appears_only_when_the_clock_reaches_it(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("track")
    mns.send_message("track", "poll", delay_seconds=120)

    with pytest.raises(ServiceError):
        mns.receive_message("track")
    assert mns.queue_counts("track") == {"ActiveMessages": 0, "InactiveMessages": 0, "DelayMessages": 1}
    assert mns.next_visible("track") == 1_800_000_120.0
    mns_cloud.clock.advance(119)
    with pytest.raises(ServiceError):
        mns.receive_message("track")
    mns_cloud.clock.advance(1)

    assert mns.receive_message("track").body == "poll"


def test_an_unacknowledged_message_comes_back_with_a_new_handle(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q", visibility_timeout=10)
    mns.send_message("q", "x")
    first = mns.receive_message("q")
    with pytest.raises(ServiceError):
        mns.receive_message("q")  # in flight

    mns_cloud.clock.advance(10)
    second = mns.receive_message("q")

    assert second.dequeue_count == 2
    assert second.first_dequeue_time_ms == first.first_dequeue_time_ms
    assert second.receipt_handle != first.receipt_handle
    with pytest.raises(ServiceError) as stale:
        mns.delete_message("q", first.receipt_handle or "")
    assert code_of(stale) == (400, "ReceiptHandleError")
    mns.delete_message("q", second.receipt_handle or "")
    assert mns.queue_counts("q")["ActiveMessages"] == 0


def test_change_visibility_issues_a_new_handle_and_retires_the_old(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q")
    mns.send_message("q", "x")
    got = mns.receive_message("q")

    changed = mns.change_message_visibility("q", got.receipt_handle or "", 300)

    assert changed.next_visible_time_ms == 1_800_000_300_000
    with pytest.raises(ServiceError) as old:
        mns.change_message_visibility("q", got.receipt_handle or "", 5)
    assert code_of(old) == (400, "ReceiptHandleError")
    mns_cloud.clock.advance(299)
    with pytest.raises(ServiceError):
        mns.receive_message("q")
    mns_cloud.clock.advance(1)
    assert mns.receive_message("q").dequeue_count == 2


def test_priority_one_is_received_first(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q")
    mns.send_message("q", "low", priority=16)
    mns.send_message("q", "normal")
    mns.send_message("q", "urgent", priority=1)

    assert [m.body for m in mns.receive_messages("q", 3)] == ["urgent", "normal", "low"]


@pytest.mark.parametrize("kwargs, element", [
    ({"delay_seconds": 604801}, "DelaySeconds"),
    ({"delay_seconds": -1}, "DelaySeconds"),
    ({"priority": 0}, "Priority"),
    ({"priority": 17}, "Priority"),
])
def test_out_of_range_send_arguments_are_invalid_argument(mns_cloud: FakeCloud, kwargs: dict[str, int],
                                                          element: str) -> None:
    mns_cloud.mns.create_queue("q")
    with pytest.raises(ServiceError) as bad:
        mns_cloud.mns.send_message("q", "x", **kwargs)
    assert code_of(bad) == (400, "InvalidArgument")
    assert bad.value.message.startswith(f"The value of {element} should between")


def test_body_larger_than_the_queue_maximum_is_refused(mns_cloud: FakeCloud) -> None:
    mns_cloud.mns.create_queue("q", maximum_message_size=1024)
    with pytest.raises(ServiceError) as bad:
        mns_cloud.mns.send_message("q", "x" * 1025)
    assert code_of(bad) == (400, "InvalidArgument")
    assert "MessageBody should between 1 and 1024 bytes" in bad.value.message


def test_create_queue_is_idempotent_only_with_the_same_attributes(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    first = mns.create_queue("q", visibility_timeout=60)
    assert mns.create_queue("q", visibility_timeout=60) is first
    with pytest.raises(ServiceError) as clash:
        mns.create_queue("q", visibility_timeout=61)
    assert code_of(clash) == (409, "QueueAlreadyExist")
    with pytest.raises(ServiceError) as bad_name:
        mns.create_queue("9starts-with-digit")
    assert code_of(bad_name) == (400, "InvalidQueueName")
    with pytest.raises(ServiceError) as missing:
        mns.queue("nope")
    assert code_of(missing) == (404, "QueueNotExist")


def test_messages_expire_after_the_retention_period(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q", message_retention_period=60)
    mns.send_message("q", "old")
    mns_cloud.clock.advance(60)
    with pytest.raises(ServiceError):
        mns.receive_message("q")


def test_bytes_bodies_are_stored_as_their_utf8_text(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q")
    mns.send_message("q", "画像".encode())
    assert mns.receive_message("q").body == "画像"
    with pytest.raises(ServiceError) as binary:
        mns.send_message("q", b"\xff\xfe")
    assert "base64-encode binary bodies" in binary.value.message


# ---------------------------------------------------------------------------------------- topics

def queue_arn(cloud: FakeCloud, name: str) -> str:
    return f"acs:mns:{cloud.region}:{cloud.account_id}:queues/{name}"


def test_publish_delivers_the_json_notification_to_a_queue_subscriber(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("inbox")
    mns.create_topic("events")
    mns.subscribe("events", "team", queue_arn(mns_cloud, "inbox"), "JSON")

    published = mns.publish_message("events", "Image m-1 import finished", tag="import-done")

    note = json.loads(mns.receive_message("inbox").body)
    assert list(note) == ["TopicOwner", "Message", "Subscriber", "PublishTime", "SubscriptionName",
                          "MessageMD5", "TopicName", "MessageId", "MessageTag"]
    assert note["Message"] == "Image m-1 import finished" and note["MessageTag"] == "import-done"
    assert note["MessageId"] == published.message_id
    assert note["MessageMD5"] == hashlib.md5(b"Image m-1 import finished").hexdigest().upper()
    assert (note["TopicName"], note["SubscriptionName"], note["TopicOwner"]) == ("events", "team",
                                                                                 mns_cloud.account_id)
    assert note["PublishTime"] == 1_800_000_000_000
    assert mns.topic("events").published == [published]


def test_xml_and_simplified_formats_and_filter_tags(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    for name in ("xml-box", "raw-box", "tagged-box"):
        mns.create_queue(name)
    mns.create_topic("events")
    mns.subscribe("events", "xml", queue_arn(mns_cloud, "xml-box"), "XML")
    mns.subscribe("events", "raw", queue_arn(mns_cloud, "raw-box"), "SIMPLIFIED")
    mns.subscribe("events", "tagged", queue_arn(mns_cloud, "tagged-box"), "SIMPLIFIED", filter_tag="done")

    mns.publish_message("events", "a<b", tag="started")

    xml_body = mns.receive_message("xml-box").body
    assert xml_body.startswith("<?xml") and "<Message>a&lt;b</Message>" in xml_body
    assert "<SubscriptionName>xml</SubscriptionName>" in xml_body
    assert mns.receive_message("raw-box").body == "a<b"
    with pytest.raises(ServiceError):
        mns.receive_message("tagged-box")  # tag "started" does not match filter "done"
    mns.publish_message("events", "finished", tag="done")
    assert mns.receive_message("tagged-box").body == "finished"


def test_a_subscription_without_a_format_gets_xml(mns_cloud: FakeCloud, account: Account) -> None:
    mns_cloud.mns.create_queue("box")
    topic = account.get_topic("events")
    topic.create(TopicMeta())
    topic.get_subscription("plain").subscribe(SubscriptionMeta(queue_arn(mns_cloud, "box")))
    topic.publish_message(TopicMessage("hello", "team-a"))
    body = mns_cloud.mns.receive_message("box").body
    assert body.startswith("<?xml") and "<Message>hello</Message><MessageMD5>" in body
    assert "<MessageTag>team-a</MessageTag>" in body
    assert mns_cloud.mns.subscription("events", "plain").notify_content_format == "XML"


def test_subscriptions_refuse_endpoints_the_emulator_must_not_call(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_topic("events")
    for endpoint in ("http://example.com/hook", "https://127.0.0.1/hook",
                     "acs:mns:us-west-1:999:queues/elsewhere", "mail:directmail:a@example.com"):
        with pytest.raises(ServiceError) as bad:
            mns.subscribe("events", "s", endpoint)
        assert code_of(bad) == (400, "EndpointInvalid")
        assert endpoint in bad.value.message
    with pytest.raises(ServiceError) as no_topic:
        mns.subscribe("nope", "s", queue_arn(mns_cloud, "x"))
    assert code_of(no_topic) == (404, "TopicNotExist")


def test_publishing_to_a_missing_queue_is_recorded_not_raised(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_topic("events")
    mns.subscribe("events", "gone", queue_arn(mns_cloud, "gone"))
    mns.publish_message("events", "x")
    [(sub, _, why)] = mns.topic("events").undelivered
    assert sub == "gone" and why.startswith("QueueNotExist")
