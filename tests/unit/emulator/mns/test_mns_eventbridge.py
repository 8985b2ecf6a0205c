"""The EventBridge-style queue trigger: CloudEvents arrays, deletion, retries, dead letters, delays."""

from __future__ import annotations

import base64
import json
import time

import pytest

from imagedrop_emulator import FakeCloud
from imagedrop_emulator.clock import Clock

CLOUD_EVENT_KEYS = ["id", "source", "specversion", "type", "datacontenttype", "subject", "time",
                    "aliyunaccountid", "aliyunpublishtime", "aliyunoriginalaccountid", "aliyuneventbusname",
                    "aliyunregionid", "aliyunpublishaddr", "data"]


class Recorder:
    """A function sink: records each invocation's event bytes; fails the first `fail` calls."""

    def __init__(self, fail: int = 0):
        self.calls: list[list[dict[str, object]]] = []
        self.fail = fail

    def __call__(self, payload: bytes) -> None:
        self.calls.append(json.loads(payload))
        if len(self.calls) <= self.fail:
            raise RuntimeError(f"handler crashed on call {len(self.calls)}")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_sink_gets_the_fc3_cloudevents_array_with_the_decoded_body(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("imagedrop-track")
    sink = Recorder()
    trigger = mns.add_eventbridge_trigger("imagedrop-track", name="track-trigger", sink=sink, function="poller")
    sent = mns.send_message("imagedrop-track", b64('{"attempt":1}'))

    mns_cloud.pump.run_until_idle()

    [[event]] = sink.calls
    assert list(event) == CLOUD_EVENT_KEYS
    assert event["id"] == sent.message_id
    assert event["source"] == event["aliyuneventbusname"] == "MNS-poller-track-trigger"
    assert (event["specversion"], event["type"]) == ("1.0", "mns:Queue:SendMessage")
    assert event["subject"] == f"acs:mns:cn-hangzhou:{mns_cloud.account_id}:queues/imagedrop-track"
    assert event["aliyunaccountid"] == event["aliyunoriginalaccountid"] == mns_cloud.account_id
    assert event["aliyunregionid"] == "cn-hangzhou"
    assert event["time"] == "2027-01-15T08:00:00.000Z"  # enqueue time on the emulated clock
    data = event["data"]
    assert isinstance(data, dict) and list(data) == ["requestId", "messageId", "messageBody"]
    assert data["messageId"] == sent.message_id
    assert data["messageBody"] == '{"attempt":1}'
    assert trigger.delivered == 1
    assert mns.queue("imagedrop-track").messages == {}  # consumed on success


def test_without_base64_decode_the_stored_body_is_passed(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q")
    sink = Recorder()
    mns.add_eventbridge_trigger("q", name="t", sink=sink, base64_decode=False)
    mns.send_message("q", b64("meesage from MNS console"))

    mns_cloud.pump.run_until_idle()

    assert sink.calls[0][0]["data"]["messageBody"] == "bWVlc2FnZSBmcm9tIE1OUyBjb25zb2xl"  # type: ignore[index]


def test_batches_group_messages_into_one_array(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q")
    sink = Recorder()
    mns.add_eventbridge_trigger("q", name="t", sink=sink, batch_size=2)
    for i in range(3):
        mns.send_message("q", b64(f"m{i}"))

    mns_cloud.pump.run_until_idle()

    assert [[e["data"]["messageBody"] for e in call] for call in sink.calls] == [  # type: ignore[index]
        ["m0", "m1"], ["m2"]]


def test_a_failing_sink_is_retried_on_the_backoff_then_dead_lettered(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q")
    mns.create_queue("q-dead")
    sink = Recorder(fail=10)
    trigger = mns.add_eventbridge_trigger("q", name="t", sink=sink, max_retries=3, backoff=(10, 20, 40),
                                          dead_letter_queue="q-dead")
    mns.send_message("q", b64("poison"))
    start = mns_cloud.clock.now()

    mns_cloud.pump.run_until_idle()

    assert len(sink.calls) == 4  # the first try and three retries
    assert mns_cloud.clock.now() - start == 10 + 20 + 40
    assert trigger.errors[0] == "RuntimeError: handler crashed on call 1"
    [dead] = trigger.dead
    assert (dead.attempts, dead.dead_letter_queue, dead.body) == (4, "q-dead", b64("poison"))
    assert mns.queue("q").messages == {}
    assert mns.receive_message("q-dead").body == b64("poison")


def test_without_a_dead_letter_queue_the_event_is_dropped_and_recorded(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q")
    sink = Recorder(fail=1)
    trigger = mns.add_eventbridge_trigger("q", name="t", sink=sink, max_retries=0)
    mns.send_message("q", b64("once"))

    mns_cloud.pump.run_until_idle()

    assert len(sink.calls) == 1
    assert [d.error for d in trigger.dead] == ["RuntimeError: handler crashed on call 1"]
    assert mns.queue("q").messages == {}


def test_a_sink_that_recovers_gets_the_message_once_more(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q")
    sink = Recorder(fail=1)
    trigger = mns.add_eventbridge_trigger("q", name="t", sink=sink)
    mns.send_message("q", b64("flaky"))

    mns_cloud.pump.run_until_idle()

    assert len(sink.calls) == 2 and trigger.delivered == 1 and trigger.dead == []
    assert sink.calls[0][0]["id"] == sink.calls[1][0]["id"]


def test_delayed_messages_arrive_only_after_the_clock_moves(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("track")
    sink = Recorder()
    mns.add_eventbridge_trigger("track", name="t", sink=sink)
    mns.send_message("track", b64("poll again"), delay_seconds=300)
    start = mns_cloud.clock.now()

    mns_cloud.pump.pump()
    assert sink.calls == []  # nothing visible yet, and pump() alone never moves the clock

    mns_cloud.pump.run_until_idle()

    assert [c[0]["data"]["messageBody"] for c in sink.calls] == ["poll again"]  # type: ignore[index]
    assert mns_cloud.clock.now() - start == 300


def test_a_sink_that_sends_the_next_poll_drives_a_polling_loop(mns_cloud: FakeCloud) -> None:
    """The poller's pattern: each delivery re-sends itself with a delay until done."""
    mns = mns_cloud.mns
    mns.create_queue("track")
    attempts: list[int] = []

    def poller(payload: bytes) -> None:
        body = json.loads(json.loads(payload)[0]["data"]["messageBody"])
        attempts.append(body["attempt"])
        if body["attempt"] < 4:
            mns.send_message("track", b64(json.dumps({"attempt": body["attempt"] + 1})), delay_seconds=60)

    mns.add_eventbridge_trigger("track", name="t", sink=poller)
    mns.send_message("track", b64('{"attempt": 1}'))
    start = mns_cloud.clock.now()

    mns_cloud.pump.run_until_idle()

    assert attempts == [1, 2, 3, 4]
    assert mns_cloud.clock.now() - start == 180


def test_trigger_arguments_are_checked(mns_cloud: FakeCloud) -> None:
    mns = mns_cloud.mns
    mns.create_queue("q")
    with pytest.raises(ValueError, match="only 'CloudEvents'"):
        mns.add_eventbridge_trigger("q", name="t", sink=Recorder(), event_schema="RawData")
    with pytest.raises(ValueError, match="batch_size"):
        mns.add_eventbridge_trigger("q", name="t", sink=Recorder(), batch_size=0)


def test_a_push_slower_than_the_visibility_timeout_on_a_fast_clock_is_handed_over_once() -> None:
    """At 2000x, a 1 s VisibilityTimeout is half a real millisecond: a function that runs longer
    must still get its messages once, and the next message must still be reached."""
    cloud = FakeCloud(clock=Clock(speed=2000.0, start=1_800_000_000.0), services=("mns",))
    mns = cloud.mns
    mns.create_queue("track", visibility_timeout=1)
    seen: list[str] = []

    def slow(payload: bytes) -> None:
        seen.append(json.loads(payload)[0]["data"]["messageBody"])
        if len(seen) > 2:  # handed over again: fail, so the trigger dead-letters and stops
            raise RuntimeError("a message handed over twice")
        time.sleep(0.02)  # forty emulated seconds: far past the message's visibility timeout

    trigger = mns.add_eventbridge_trigger("track", name="t", sink=slow)
    mns.send_message("track", b64("first"))
    mns.send_message("track", b64("second"))

    handed = trigger.poll(cloud.clock.now())

    assert (handed, seen) == (2, ["first", "second"])
    assert trigger.delivered == 2 and mns.queue("track").messages == {}
