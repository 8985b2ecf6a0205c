"""Trigger payloads as the platform sends them (the files in events/) → what the pipeline uses."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from imagedrop.model.events import (ObjectCreated, TrackMessage, parse_oss_event, read_mns_event,
                              read_oss_event)

EVENTS = Path(__file__).resolve().parents[3] / "events"


def payload(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def read_clean(raw: object) -> list[TrackMessage]:
    """The messages of an MNS event none of whose messages is poison."""
    messages, problems = read_mns_event(raw)  # type: ignore[arg-type]
    assert problems == []
    return messages


def track(**changes: object) -> TrackMessage:
    base = dict(import_id="id-1", bucket="b", manifest_key="incoming/a.qcow2.json",
                region="cn-hangzhou", task_id="t-1", image_id="m-1", attempt=0,
                started_at=1000.0, total_bytes=5 << 30)
    base.update(changes)
    return TrackMessage.model_validate(base)


@pytest.mark.parametrize("name, event_name, key", [
    ("oss-put-manifest.json", "ObjectCreated:PutObject", "incoming/web-2026.11.qcow2.json"),
    ("oss-put-disk.json", "ObjectCreated:PutObject", "incoming/web-2026.11.qcow2"),
    ("oss-multipart-disk.json", "ObjectCreated:CompleteMultipartUpload", "incoming/web-2026.11.qcow2"),
    ("oss-copy.json", "ObjectCreated:CopyObject", "incoming/db-2026.11.raw"),
    ("oss-cancel-marker.json", "ObjectCreated:PutObject", "incoming/web-2026.11.qcow2.json.cancel"),
])
def test_each_oss_sample_gives_one_complete_object(name: str, event_name: str, key: str) -> None:
    # Given the bytes an OSS trigger hands the handler
    raw = payload(name)
    # When parsed
    created = parse_oss_event(raw)
    # Then one object in Python names, fields taken from the wire record
    wire = json.loads(raw)["events"][0]
    assert len(created) == 1
    obj = created[0]
    assert (obj.bucket, obj.key, obj.event_name) == ("imagedrop-demo", key, event_name)
    assert obj.etag == wire["oss"]["object"]["eTag"]
    assert obj.size == wire["oss"]["object"]["size"]
    assert obj.region == "cn-hangzhou"
    assert obj.request_id == wire["responseElements"]["requestId"]
    assert obj.event_time == wire["eventTime"]


def test_accepts_bytes_str_and_dict_alike() -> None:
    raw = payload("oss-put-disk.json")
    assert parse_oss_event(raw) == parse_oss_event(raw.decode()) == parse_oss_event(json.loads(raw))


def test_encoded_key_lists_the_spellings_to_try_in_order() -> None:
    # Given a key that may or may not have been URL-encoded by the platform
    (obj,) = parse_oss_event(payload("oss-encoded-key.json"))
    # Then: as given, then unquote (%20 → space, + kept), then unquote_plus (+ → space too)
    assert obj.key_candidates() == [
        "incoming/team%20a/web+2026.11.qcow2.json",
        "incoming/team a/web+2026.11.qcow2.json",
        "incoming/team a/web 2026.11.qcow2.json",
    ]


@pytest.mark.parametrize("key, expected", [
    ("incoming/plain.qcow2", ["incoming/plain.qcow2"]),
    ("incoming/a+b.qcow2", ["incoming/a+b.qcow2", "incoming/a b.qcow2"]),
    ("incoming/%E3%83%86.raw", ["incoming/%E3%83%86.raw", "incoming/テ.raw"]),
])
def test_key_candidates_are_deduplicated(key: str, expected: list[str]) -> None:
    obj = ObjectCreated("b", key, None, None, "ObjectCreated:PutObject", None, None, None)
    assert obj.key_candidates() == expected


def test_other_records_are_ignored_with_a_reason() -> None:
    # Given one event with a complete upload, an append, a delete, a multipart step and a broken record
    event = json.loads(payload("oss-put-disk.json"))
    good = event["events"][0]
    append = dict(good, eventName="ObjectCreated:AppendObject")
    delete = dict(good, eventName="ObjectRemoved:DeleteObject")
    part = dict(good, eventName="oss:ObjectCreated:UploadPart")
    broken = {"eventName": "ObjectCreated:PutObject", "oss": {"bucket": {"name": "b"}}}
    event["events"] = [append, good, delete, part, broken]
    # When read
    batch = read_oss_event(event)
    # Then only the complete one remains; each other one says why
    assert [o.event_name for o in batch.created] == ["ObjectCreated:PutObject"]
    reasons = {i.index: i.reason for i in batch.ignored}
    assert set(reasons) == {0, 2, 3, 4}
    assert "complete-object" in reasons[0] and "complete-object" in reasons[2]
    assert "oss.object" in reasons[4]
    assert [i.event_name for i in batch.ignored][:3] == [
        "ObjectCreated:AppendObject", "ObjectRemoved:DeleteObject", "ObjectCreated:UploadPart"]


@pytest.mark.parametrize("raw, words", [
    (b"not json", "not JSON"),
    (b'{"Records": []}', "no `events` array"),
    (b"[1, 2]", "no `events` array"),
])
def test_a_payload_that_is_not_an_oss_event_is_a_clear_error(raw: bytes, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_oss_event(raw)


@pytest.mark.parametrize("name", ["mns-eventbridge-array.json", "mns-eventbridge-base64.json",
                                  "mns-eventbridge-single.json"])
def test_each_mns_sample_gives_the_track_message(name: str) -> None:
    (msg,) = read_clean(payload(name))
    assert msg.import_id == "id-3f9a1c0b7d2e4a6f8b1c2d3e4f5a6b7c"
    assert (msg.task_id, msg.image_id, msg.attempt, msg.stage) == (
        "t-bp1c8rq3sz7v2w0x4y5z", "m-bp1g7004ksh0oeuc9wwo", 2, "import")


def test_base64_sample_really_carries_base64() -> None:
    (event,) = json.loads(payload("mns-eventbridge-base64.json"))
    body = event["data"]["messageBody"]
    with pytest.raises(ValueError):
        json.loads(body)
    assert json.loads(base64.b64decode(body))["task_id"] == "t-bp1c8rq3sz7v2w0x4y5z"


def test_track_message_round_trips_through_every_body_form() -> None:
    msg = track(attempt=3, stage="finish", seen_progress=40, seen_at=1200.0)
    body = msg.to_body()
    assert " " not in body and json.loads(body)["attempt"] == 3
    forms = [body, base64.b64encode(body.encode()).decode(), json.loads(body), json.dumps(body)]
    for form in forms:
        cloud_event = {"specversion": "1.0", "type": "mns:Queue:SendMessage",
                       "data": {"messageId": "M1", "messageBody": form}}
        assert read_clean([cloud_event]) == [msg]
    assert read_clean(body) == [msg]                       # RawData: the bare body
    assert read_clean({"messageId": "M1", "messageBody": body}) == [msg]


def test_a_batch_of_several_messages_keeps_their_order() -> None:
    bodies = [track(import_id=f"id-{n}").to_body() for n in range(3)]
    event = [{"specversion": "1.0", "data": {"messageId": f"M{n}", "messageBody": b}}
             for n, b in enumerate(bodies)]
    assert [m.import_id for m in read_clean(json.dumps(event).encode())] == ["id-0", "id-1", "id-2"]


def test_poison_message_is_named_and_the_good_ones_are_kept() -> None:
    # Given a batch with a console test message ("TEST"), a half message and a good one
    good = track().to_body()
    event = [
        {"specversion": "1.0", "data": {"messageId": "POISON1", "messageBody": "TEST"}},
        {"specversion": "1.0", "data": {"messageId": "HALF2", "messageBody": '{"import_id": "x"}'}},
        {"specversion": "1.0", "data": {"messageId": "GOOD3", "messageBody": good}},
    ]
    # When read
    messages, problems = read_mns_event(event)
    # Then each bad message is named with why, and the good one is kept
    assert [message_id for message_id, _ in problems] == ["POISON1", "HALF2"]
    reasons = dict(problems)
    assert "neither JSON nor base64" in reasons["POISON1"]
    assert "manifest_key" in reasons["HALF2"]
    assert [m.import_id for m in messages] == ["id-1"]


def test_only_an_announce_message_goes_without_a_task() -> None:
    body = json.loads(track().to_body())
    del body["task_id"]
    event = [{"specversion": "1.0", "data": {"messageId": "M1", "messageBody": json.dumps(body)}}]
    messages, [(_, reason)] = read_mns_event(event)
    assert messages == [] and "names the import's task and image" in reason
    del body["image_id"]
    body["stage"] = "announce"
    event[0]["data"]["messageBody"] = json.dumps(body)
    [message], problems = read_mns_event(event)
    assert problems == [] and message.stage == "announce"


def test_mns_payload_that_is_not_json_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="MNS trigger: the event is not JSON"):
        read_mns_event(b"\xff\xfe")


def test_track_message_rejects_a_negative_attempt_and_unknown_stage() -> None:
    with pytest.raises(ValueError):
        track(attempt=-1)
    with pytest.raises(ValueError):
        track(stage="copy")
