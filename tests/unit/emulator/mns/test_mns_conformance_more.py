"""Owner-style checks with the real `mns` SDK over loopback: the operations a user's script calls that
the first conformance pass missed (topic and subscription attributes, subscription paging, message
properties, the handle of a delayed message)."""

from __future__ import annotations

import pytest
from mns.account import Account
from mns.mns_exception import MNSServerException
from mns.message_property import (MessagePropertyValue, MessageSystemPropertyValue, PropertyType,
                                  SystemPropertyType)
from mns.queue import Message, QueueMeta
from mns.subscription import SubscriptionMeta
from mns.topic import TopicMeta

from imagedrop_emulator import FakeCloud

pytestmark = pytest.mark.server

START_MS = 1_800_000_000_000
HOOK = "http://127.0.0.1:9/hook"  # never called: nothing is published in these tests


def server_error(call) -> MNSServerException:  # type: ignore[no-untyped-def]
    with pytest.raises(MNSServerException) as err:
        call()
    return err.value


def test_set_topic_attributes_changes_only_what_is_given(account: Account, mns_cloud: FakeCloud) -> None:
    topic = account.get_topic("events")
    topic.create(TopicMeta())
    mns_cloud.clock.advance(5)
    meta = TopicMeta()
    meta.set_maximum_message_size(2048)
    topic.set_attributes(meta)
    got = topic.get_attributes()
    assert (got.maximum_message_size, got.logging_enabled) == (2048, False)
    assert (got.create_time, got.last_modify_time) == (1_800_000_000, 1_800_000_005)
    logging = TopicMeta()
    logging.set_logging_enabled(True)
    topic.set_attributes(logging)
    assert (topic.get_attributes().maximum_message_size, topic.get_attributes().logging_enabled) == (2048, True)

    too_small = TopicMeta()
    too_small.set_maximum_message_size(100)
    err = server_error(lambda: topic.set_attributes(too_small))
    assert err.type == "InvalidArgument" and "MaximumMessageSize" in err.message
    missing = server_error(lambda: account.get_topic("nope").set_attributes(meta))
    assert missing.type == "TopicNotExist"


def test_set_subscription_attributes_changes_the_notify_strategy(account: Account,
                                                                  mns_cloud: FakeCloud) -> None:
    topic = account.get_topic("events")
    topic.create(TopicMeta())
    sub = topic.get_subscription("hook")
    sub.subscribe(SubscriptionMeta(HOOK, notify_content_format="JSON"))
    assert sub.get_attributes().notify_strategy == "BACKOFF_RETRY"
    mns_cloud.clock.advance(7)

    sub.set_attributes(SubscriptionMeta(notify_strategy="EXPONENTIAL_DECAY_RETRY"))

    got = sub.get_attributes()
    assert (got.notify_strategy, got.notify_content_format, got.endpoint) == (
        "EXPONENTIAL_DECAY_RETRY", "JSON", HOOK)
    assert (got.create_time, got.last_modify_time) == (1_800_000_000, 1_800_000_007)
    bad = server_error(lambda: sub.set_attributes(SubscriptionMeta(notify_strategy="SOMETIMES")))
    assert bad.type == "InvalidArgument" and "NotifyStrategy" in bad.message
    gone = server_error(lambda: topic.get_subscription("nope").set_attributes(
        SubscriptionMeta(notify_strategy="BACKOFF_RETRY")))
    assert gone.type == "SubscriptionNotExist"


def test_list_subscription_by_topic_pages_with_ret_number_and_marker(account: Account) -> None:
    topic = account.get_topic("events")
    topic.create(TopicMeta())
    for name in ("s1", "s2", "s3", "other"):
        topic.get_subscription(name).subscribe(SubscriptionMeta(HOOK))

    first, marker = topic.list_subscription(prefix="s", ret_number=2)
    assert [u.rsplit("/", 1)[1] for u in first] == ["s1", "s2"]
    assert all(u.startswith("http://127.0.0.1:") and "/topics/events/subscriptions/" in u for u in first)
    assert marker
    rest, last = topic.list_subscription(prefix="s", ret_number=2, marker=marker)
    assert ([u.rsplit("/", 1)[1] for u in rest], last) == (["s3"], "")
    everything, none = topic.list_subscription()
    assert (len(everything), none) == (4, "")
    err = server_error(lambda: account.get_topic("nope").list_subscription())
    assert err.type == "TopicNotExist"


def _with_properties(body: str) -> Message:
    message = Message(body)
    message.add_user_property("attempt", MessagePropertyValue(PropertyType.NUMBER, 3))
    message.add_user_property("final", MessagePropertyValue(PropertyType.BOOLEAN, False))
    message.add_user_property("note", MessagePropertyValue(PropertyType.STRING, "a <b> & c"))
    message.add_user_property("raw", MessagePropertyValue(PropertyType.BINARY, b"\x00\xff"))
    message.add_system_property("traceparent", MessageSystemPropertyValue(SystemPropertyType.STRING, "00-ab-cd-01"))
    return message


def _props(message) -> dict[str, tuple[str, object]]:  # type: ignore[no-untyped-def]
    return {k: (v.get_data_type(), v.get_binary_value() if v.get_data_type() == "BINARY"
                else v.get_string_value_by_type()) for k, v in message.user_properties.items()}


EXPECTED = {"attempt": ("NUMBER", "3"), "final": ("BOOLEAN", "false"), "note": ("STRING", "a <b> & c"),
            "raw": ("BINARY", b"\x00\xff")}


def test_user_and_system_properties_come_back_on_peek_and_receive(account: Account, mns_cloud: FakeCloud) -> None:
    queue = account.get_queue("props")
    queue.create(QueueMeta())
    queue.send_message(_with_properties("one"))

    peeked = queue.peek_message()
    assert _props(peeked) == EXPECTED
    got = queue.receive_message(0)
    assert got.message_body == b"one" and _props(got) == EXPECTED
    assert got.user_properties["raw"].get_binary_value() == b"\x00\xff"
    assert got.system_properties["traceparent"].get_string_value_by_type() == "00-ab-cd-01"
    [(_, stored)] = mns_cloud.mns.queue("props").messages.items()
    assert stored.user_properties[0] == ("attempt", "3", "NUMBER")


def test_batch_send_keeps_properties_per_message(account: Account) -> None:
    queue = account.get_queue("props")
    queue.create(QueueMeta())
    queue.batch_send_message([_with_properties("with"), Message("without")])

    peeked = queue.batch_peek_message(16)
    assert [(m.message_body, _props(m)) for m in peeked] == [(b"with", EXPECTED), (b"without", {})]
    got = queue.batch_receive_message(16, 0)
    assert [(m.message_body, _props(m)) for m in got] == [(b"with", EXPECTED), (b"without", {})]
    assert got[1].system_properties == {}


def test_a_delayed_message_comes_back_with_a_handle_that_moves_or_drops_it(account: Account,
                                                                            mns_cloud: FakeCloud) -> None:
    queue = account.get_queue("delays")
    queue.create(QueueMeta())
    plain = queue.send_message(Message("now"))
    assert plain.receipt_handle == ""  # only delayed messages get one
    delayed = Message("later")
    delayed.set_delayseconds(600)
    sent = queue.send_message(delayed)
    assert sent.receipt_handle.startswith("1-")
    assert queue.get_attributes().delay_messages == 1

    moved = queue.change_message_visibility(sent.receipt_handle, 10)  # make it visible sooner
    assert int(moved.next_visible_time) == START_MS + 10_000
    assert server_error(lambda: queue.delete_message(sent.receipt_handle)).type == "ReceiptHandleError"
    queue.delete_message(queue.receive_message(0).receipt_handle)  # "now"
    mns_cloud.clock.advance(10)
    got = queue.receive_message(0)
    assert (got.message_body, got.dequeue_count) == (b"later", 1)

    dropped = Message("never")
    dropped.set_delayseconds(60)
    handle = queue.send_message(dropped).receipt_handle
    queue.delete_message(handle)
    mns_cloud.clock.advance(3600)
    assert [m.message_body for m in queue.batch_receive_message(16, 0)] == [b"later"]  # redelivered, not "never"


def test_http_push_bodies_per_format_and_tag_header(account: Account, mns_cloud: FakeCloud) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from xml.etree import ElementTree

    from mns.topic import TopicMessage

    received: list[tuple[str, dict[str, str], bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        topic = account.get_topic("events")
        topic.create(TopicMeta())
        for fmt in ("XML", "JSON", "SIMPLIFIED"):
            topic.get_subscription(fmt.lower()).subscribe(SubscriptionMeta(f"{url}/{fmt}", notify_content_format=fmt))
        sent = topic.publish_message(TopicMessage('done <m-1> & "ok"'))
        tagged = topic.publish_message(TopicMessage("tagged", message_tag="import-done"))
        mns_cloud.pump.run_until_idle()
    finally:
        server.shutdown()
        server.server_close()

    by_path = {}
    for path, headers, body in received:
        by_path.setdefault(path, []).append((headers, body))
    assert sorted(by_path) == ["/JSON", "/SIMPLIFIED", "/XML"]
    # XML and JSON carry the message's id and tag in the body; SIMPLIFIED, whose body is the
    # message itself, in the x-mns-message-id and x-mns-message-tag headers
    (xml_headers, xml_body), (tagged_headers, tagged_body) = by_path["/XML"]
    (plain_headers, _), (plain_tagged_headers, _) = by_path["/SIMPLIFIED"]
    assert "x-mns-message-tag" not in xml_headers and "x-mns-message-tag" not in tagged_headers
    assert "x-mns-message-id" not in xml_headers and xml_headers["x-mns-request-id"]
    assert plain_headers["x-mns-message-id"] == sent.message_id and "x-mns-message-tag" not in plain_headers
    assert plain_tagged_headers["x-mns-message-tag"] == "import-done"
    assert plain_tagged_headers["x-mns-message-id"] == tagged.message_id
    ns = "{http://mns.aliyuncs.com/doc/v1/}"
    note = ElementTree.fromstring(xml_body)
    assert note.tag == f"{ns}Notification"
    assert [c.tag.removeprefix(ns) for c in note] == ["TopicOwner", "TopicName", "Subscriber", "SubscriptionName",
                                                      "MessageId", "Message", "MessageMD5", "PublishTime"]
    assert note.find(f"{ns}Message").text == 'done <m-1> & "ok"'  # type: ignore[union-attr]
    assert note.find(f"{ns}MessageId").text == sent.message_id  # type: ignore[union-attr]
    tagged_note = ElementTree.fromstring(tagged_body)
    assert [c.tag.removeprefix(ns) for c in tagged_note][-3:] == ["MessageMD5", "MessageTag", "PublishTime"]
    assert tagged_note.find(f"{ns}MessageTag").text == "import-done"  # type: ignore[union-attr]
    assert json.loads(by_path["/JSON"][1][1])["MessageTag"] == "import-done"
    doc = json.loads(by_path["/JSON"][0][1])
    assert list(doc) == ["TopicOwner", "Message", "Subscriber", "PublishTime", "SubscriptionName", "MessageMD5",
                         "TopicName", "MessageId"]  # the key order MNS documents
    assert (doc["Message"], doc["MessageMD5"], doc["MessageId"]) == ('done <m-1> & "ok"', sent.message_body_md5,
                                                                     sent.message_id)
    assert doc["PublishTime"] == START_MS and doc["TopicOwner"] == mns_cloud.account_id
    assert by_path["/SIMPLIFIED"][0][1] == 'done <m-1> & "ok"'.encode()
    assert tagged.message_id != sent.message_id
