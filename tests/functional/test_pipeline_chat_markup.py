"""A producer's object key reaches Slack and DingTalk as text, never as markup: no channel-wide
ping, no link disguised under other words."""

from __future__ import annotations

import json

import pytest
from pipeline_harness import Harness, WebhookSink

HOSTILE = ("incoming/<!channel> <https://evil.example|release notes> "
           "[docs](https://evil.example)/web.qcow2")


def test_object_keys_reach_slack_and_dingtalk_escaped(stack: Harness,
                                                     clean_env: pytest.MonkeyPatch) -> None:
    slack, dingtalk = WebhookSink(), WebhookSink()
    clean_env.setenv("IMAGEDROP_SLACK_URL", slack.url.replace("/hook", "/services/T/B/X"))
    clean_env.setenv("IMAGEDROP_DINGTALK_URL",
                     dingtalk.url.replace("/hook", "/robot/send?access_token=t"))
    try:
        disk, manifest = stack.sample()
        key = stack.drop(disk, manifest, key=HOSTILE)
        stack.run()
    finally:
        slack.close()
        dingtalk.close()
    assert stack.status(key).state == "succeeded", stack.status(key).model_dump_json(indent=1)
    assert slack.received and dingtalk.received
    for _, body in slack.received:
        message = json.loads(body)
        shown = message["text"] + message["blocks"][0]["text"]["text"]
        assert "<!channel>" not in shown and "<https://" not in shown, shown
        assert "&lt;!channel&gt;" in shown  # still there for a person to read
    for _, body in dingtalk.received:
        markdown = json.loads(body)["markdown"]
        shown = markdown["title"] + markdown["text"]
        assert "](" not in shown and "[docs]" not in shown and "<https://" not in shown, shown
        assert "evil.example" in shown
