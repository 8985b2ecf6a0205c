"""The real `mns` SDK (http.client) against the fake over loopback: queues, topics, errors."""

from __future__ import annotations

import base64
import threading

import pytest
from mns.account import Account
from mns.mns_exception import MNSServerException
from mns.queue import Message, QueueMeta
from mns.subscription import SubscriptionMeta
from mns.topic import TopicMessage, TopicMeta

from imagedrop_emulator import Clock, CloudServer, FakeCloud

pytestmark = pytest.mark.server


def make_queue(account: Account, name: str = "imagedrop-track", **meta: int):  # type: ignore[no-untyped-def]
    queue = account.get_queue(name)
    queue_meta = QueueMeta()
    for key, value in meta.items():
        getattr(queue_meta, f"set_{key}")(value)
    queue.create(queue_meta)
    return queue


def test_send_receive_delete_with_the_sdk_default_base64_encoding(account: Account,
                                                                   mns_cloud: FakeCloud) -> None:
    queue = make_queue(account)
    sent = queue.send_message(Message('{"taskId":"t-1","attempt":1}'))

    # On the wire (and in the backend) the body is the base64 text the SDK produced.
    stored = mns_cloud.mns.queue("imagedrop-track").messages
    [(_, message)] = stored.items()
    assert message.body == base64.b64encode(b'{"taskId":"t-1","attempt":1}').decode()
    assert sent.message_body_md5 == message.body_md5

    got = queue.receive_message(0)
    assert got.message_body == b'{"taskId":"t-1","attempt":1}'
    assert (got.message_id, got.dequeue_count, got.priority) == (sent.message_id, 1, 8)
    assert got.receipt_handle.endswith("==")  # handles go into the URL unencoded
    queue.delete_message(got.receipt_handle)
    assert mns_cloud.mns.queue("imagedrop-track").messages == {}


def test_encoding_off_sends_escaped_raw_text(account: Account, mns_cloud: FakeCloud) -> None:
    queue = make_queue(account)
    queue.set_encoding(False)
    queue.send_message(Message('{"raw":true,"lt":"<&>"}'))

    assert mns_cloud.mns.receive_message("imagedrop-track").body == '{"raw":true,"lt":"<&>"}'
    mns_cloud.clock.advance(30)
    assert queue.receive_message().message_body == '{"raw":true,"lt":"<&>"}'


def test_empty_queue_is_message_not_exist(account: Account) -> None:
    queue = make_queue(account)
    with pytest.raises(MNSServerException) as empty:
        queue.receive_message(0)
    assert empty.value.type == "MessageNotExist"
    assert empty.value.message == "Message not exist."
    assert empty.value.request_id and empty.value.host_id.startswith("http://127.0.0.1:")


def test_delay_then_clock_advance(account: Account, mns_cloud: FakeCloud) -> None:
    queue = make_queue(account)
    message = Message("next poll")
    message.set_delayseconds(600)
    queue.send_message(message)
    with pytest.raises(MNSServerException):
        queue.receive_message(0)

    mns_cloud.clock.advance(600)

    got = queue.receive_message(0)
    assert got.message_body == b"next poll"
    assert got.enqueue_time == 1_800_000_000_000


def test_visibility_redelivery_and_change_visibility(account: Account, mns_cloud: FakeCloud) -> None:
    queue = make_queue(account, visibilitytimeout=20)
    queue.send_message(Message("work"))
    first = queue.receive_message(0)
    assert first.next_visible_time == 1_800_000_020_000

    mns_cloud.clock.advance(20)
    second = queue.receive_message(0)
    assert second.dequeue_count == 2

    changed = queue.change_message_visibility(second.receipt_handle, 100)
    assert changed.receipt_handle != second.receipt_handle
    assert int(changed.next_visible_time) == 1_800_000_120_000  # the SDK leaves it a string here
    with pytest.raises(MNSServerException) as stale:
        queue.delete_message(second.receipt_handle)
    assert stale.value.type == "ReceiptHandleError"
    assert stale.value.message.startswith("The receipt handle you provide is not valid.")
    queue.delete_message(changed.receipt_handle)


def test_long_poll_wakes_up_when_a_message_arrives(account: Account, mns_cloud: FakeCloud) -> None:
    queue = make_queue(account)
    received: list[bytes] = []
    waiter = threading.Thread(target=lambda: received.append(queue.receive_message(30).message_body))
    waiter.start()
    mns_cloud.mns.send_message("imagedrop-track", base64.b64encode(b"wake up").decode())
    waiter.join(timeout=30)
    assert received == [b"wake up"]


def test_server_side_validation_names_the_element(account: Account) -> None:
    queue = make_queue(account)
    message = Message("x")
    message.set_delayseconds(604801)
    with pytest.raises(MNSServerException) as bad:
        queue.send_message(message)
    assert bad.value.type == "InvalidArgument"
    assert "DelaySeconds should between 0 and 604800 seconds" in bad.value.message


def test_bodies_up_to_the_queue_maximum_and_not_beyond(account: Account) -> None:
    queue = make_queue(account)
    queue.set_encoding(False)
    queue.send_message(Message("x" * 65536))
    assert len(queue.receive_message(0).message_body) == 65536
    with pytest.raises(MNSServerException) as too_big:
        queue.send_message(Message("x" * 65537))
    assert too_big.value.type == "InvalidArgument"
    assert "MessageBody should between 1 and 65536 bytes" in too_big.value.message


def test_queue_attributes_and_conflicting_create(account: Account) -> None:
    queue = make_queue(account, visibilitytimeout=45, delay_seconds=5)
    attrs = queue.get_attributes()
    assert (attrs.visibility_timeout, attrs.delay_seconds, attrs.queue_name) == (45, 5, "imagedrop-track")
    queue.create(QueueMeta(vis_timeout=45, delay_sec=5))  # same attributes: no error
    with pytest.raises(MNSServerException) as clash:
        queue.create(QueueMeta(vis_timeout=46))
    assert clash.value.type == "QueueAlreadyExist"
    with pytest.raises(MNSServerException) as missing:
        account.get_queue("absent").get_attributes()
    assert missing.value.type == "QueueNotExist"


def test_topic_publish_reaches_a_queue_subscription(account: Account, mns_cloud: FakeCloud) -> None:
    inbox = make_queue(account, "team-inbox")
    topic = account.get_topic("imagedrop-events")
    topic.create(TopicMeta())
    arn = f"acs:mns:{mns_cloud.region}:{mns_cloud.account_id}:queues/team-inbox"
    topic.get_subscription("team-a").subscribe(SubscriptionMeta(arn, notify_content_format="SIMPLIFIED"))

    published = topic.publish_message(TopicMessage("image ready", "import-done"))

    inbox.set_encoding(False)  # topic notifications land in the queue as plain text
    assert inbox.receive_message(0).message_body == "image ready"
    assert [m.message_id for m in mns_cloud.mns.topic("imagedrop-events").published] == [published.message_id]
    with pytest.raises(MNSServerException) as no_topic:
        account.get_topic("nope").publish_message(TopicMessage("x"))
    assert no_topic.value.type == "TopicNotExist"


def test_wrong_secret_is_signature_does_not_match(mns_server: CloudServer, mns_cloud: FakeCloud) -> None:
    mns_cloud.mns.create_queue("q")
    bad = Account(mns_server.endpoints["mns"], mns_cloud.access_key_id, "not-the-secret")
    with pytest.raises(MNSServerException) as denied:
        bad.get_queue("q").send_message(Message("x"))
    assert denied.value.type == "SignatureDoesNotMatch"
    assert "Check your key and signing method" in denied.value.message
    assert mns_cloud.mns.queue_counts("q")["ActiveMessages"] == 0

    stranger = Account(mns_server.endpoints["mns"], "LTAIunknown", "whatever")
    with pytest.raises(MNSServerException) as unknown:
        stranger.get_queue("q").get_attributes()
    assert unknown.value.type == "InvalidAccessKeyId"


def test_sts_credentials_need_their_token(mns_server: CloudServer, mns_cloud: FakeCloud) -> None:
    mns_cloud.mns.create_queue("q")
    ak, sk, token = mns_cloud.credentials.issue_sts()

    Account(mns_server.endpoints["mns"], ak, sk, token).get_queue("q").send_message(Message("via sts"))
    assert mns_cloud.mns.receive_message("q").body == base64.b64encode(b"via sts").decode()

    with pytest.raises(MNSServerException) as no_token:
        Account(mns_server.endpoints["mns"], ak, sk).get_queue("q").get_attributes()
    assert no_token.value.type == "AccessDenied"
    assert "security token" in no_token.value.message


def test_throttle_fault_answers_too_many_requests(account: Account, mns_cloud: FakeCloud) -> None:
    queue = make_queue(account)
    mns_cloud.faults.add("mns", "SendMessage", "throttle", times=1)
    with pytest.raises(MNSServerException) as throttled:
        queue.send_message(Message("x"))
    assert throttled.value.type == "TooManyRequests"
    queue.send_message(Message("x"))  # the fault fired once
    assert mns_cloud.mns.queue_counts("imagedrop-track")["ActiveMessages"] == 1


def test_list_topic_and_list_queue_page_with_prefix_and_marker(account: Account) -> None:
    for name in ("evt-a", "evt-b", "evt-c", "other"):
        account.get_topic(name).create(TopicMeta())
        make_queue(account, f"q-{name}")
    urls, marker = account.list_topic(prefix="evt-", ret_number=2)
    assert [u.rsplit("/", 1)[1] for u in urls] == ["evt-a", "evt-b"] and marker == "evt-c"
    rest, last = account.list_topic(prefix="evt-", ret_number=2, marker=marker)
    assert [u.rsplit("/", 1)[1] for u in rest] == ["evt-c"] and last == ""
    queues, _ = account.list_queue(prefix="q-evt")
    assert [u.rsplit("/", 1)[1] for u in queues] == ["q-evt-a", "q-evt-b", "q-evt-c"]


def test_a_fast_clock_leaves_a_client_its_visibility_timeout_in_real_seconds() -> None:
    # Given the emulator at 600x (as `local up --speed 600` runs it) and a queue whose messages a
    # client holds for 30 s
    cloud = FakeCloud(clock=Clock(speed=600.0), services=("mns",))
    with CloudServer(cloud) as server:
        queue = make_queue(Account(server.endpoints["mns"], cloud.access_key_id, cloud.access_key_secret),
                           "inbox", visibilitytimeout=30)
        queue.send_message(Message("first"))
        queue.send_message(Message("second"))
        held = queue.receive_message(0)
        # When the emulated clock runs 20 real seconds' worth (3.3 emulated hours) while it reads
        cloud.clock.advance(600 * 20)
        # Then its receipt handle still holds, and nobody else gets the message
        queue.delete_message(held.receipt_handle)
        # And a message held past its 30 real seconds comes back, as the cloud's would
        late = queue.receive_message(0)
        cloud.clock.advance(600 * 31)
        with pytest.raises(MNSServerException) as stale:
            queue.delete_message(late.receipt_handle)
        assert stale.value.type == "ReceiptHandleError"
        again = queue.receive_message(0)
        assert (again.message_body, again.dequeue_count) == (late.message_body, 2)
        assert {held.message_body, late.message_body} == {b"first", b"second"}


def test_the_platform_trigger_retries_on_the_emulated_clock() -> None:
    # The EventBridge trigger is the cloud itself, not a client: its retry backoff stays emulated.
    cloud = FakeCloud(clock=Clock(speed=0.0, start=1_800_000_000.0), services=("mns",))
    cloud.mns.create_queue("track")
    calls: list[bytes] = []

    def failing(payload: bytes) -> None:
        calls.append(payload)
        raise RuntimeError("instance crashed")

    cloud.mns.add_eventbridge_trigger("track", name="poller", sink=failing)
    cloud.mns.send_message("track", "m")
    cloud.pump.run_until_idle()
    assert len(calls) == 4  # the first try and three retries, 10 + 20 + 40 emulated seconds apart
