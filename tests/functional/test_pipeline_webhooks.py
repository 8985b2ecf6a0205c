"""Teams hear about every state change on their webhook, signed, and a dead webhook never
fails an import."""

from __future__ import annotations

import base64
import json

import pytest
from receivers import assert_same_event, read_event, verify_signed

from pipeline_harness import Harness, WebhookSink

TEAM_SECRET = "whsec_" + base64.b64encode(b"team-secret-of-at-least-24-bytes").decode()


def test_signed_cloudevents_reach_the_webhook_once_per_state(stack: Harness,
                                                            clean_env: pytest.MonkeyPatch) -> None:
    sink = WebhookSink(fail_first=1)  # the first delivery fails once and is retried
    clean_env.setenv("IMAGEDROP_WEBHOOK_URLS", sink.url)
    clean_env.setenv("IMAGEDROP_WEBHOOK_SECRET", TEAM_SECRET)
    try:
        disk, manifest = stack.sample()
        key = stack.drop(disk, manifest)
        stack.run()
    finally:
        sink.close()
    assert stack.status(key).state == "succeeded"
    types = []
    sent = {e["id"]: e for e in stack.events(key)}
    for headers, body in sink.received:
        verify_signed(TEAM_SECRET, headers, body)
        event = json.loads(body)
        assert event["subject"] == key
        assert_same_event(read_event(headers, body), sent[event["id"]])
        types.append(event["type"])
    assert types == [e["type"] for e in stack.events(key)]
    assert types[-1] == "imagedrop.import.succeeded"
    assert len(types) == len(set(types))
    assert stack.status(key).notifications == []


def test_a_dead_webhook_is_recorded_and_the_import_still_succeeds(stack: Harness,
                                                                  clean_env: pytest.MonkeyPatch) -> None:
    dead = WebhookSink()
    url = dead.url
    dead.close()  # nothing listens there any more
    clean_env.setenv("IMAGEDROP_WEBHOOK_URLS", url)
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded"
    assert record.notifications, "the failed deliveries should be recorded"
    assert all(n.get("channel") == "webhook" for n in record.notifications)
    assert "127.0.0.1" in json.dumps(record.notifications)
