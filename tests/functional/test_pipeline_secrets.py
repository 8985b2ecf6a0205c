"""No secret of a webhook URL (a `user:password@` part, a token in the query, a Slack hook path)
reaches a status record, a log line or a start-up error."""

from __future__ import annotations

import json
import logging

import pytest
from pipeline_harness import Harness, WebhookSink

from imagedrop import logs

SECRETS = ("s3cret-pass", "tok-123456", "sig-abcdef")


def _dead_url() -> str:
    dead = WebhookSink()
    url = dead.url
    dead.close()  # nothing listens there any more: every delivery fails and is recorded
    return url


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


def test_a_webhook_password_and_token_never_reach_the_record_or_the_log(
        stack: Harness, clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    url = _dead_url().replace("http://", "http://hook-user:s3cret-pass@")
    clean_env.setenv("IMAGEDROP_WEBHOOK_URLS", url + "?token=tok-123456&sign=sig-abcdef")
    logs.configure()
    caplog.set_level(logging.INFO, logger="imagedrop")
    logging.getLogger("imagedrop").addHandler(caplog.handler)
    try:
        disk, manifest = stack.sample()
        key = stack.drop(disk, manifest)
        stack.run()
    finally:
        logging.getLogger("imagedrop").removeHandler(caplog.handler)
    record = stack.status(key)
    assert record.state == "succeeded"
    assert record.notifications, "the failed deliveries are recorded"
    assert all(n["target"].startswith("127.0.0.1:") for n in record.notifications)
    _assert_clean(record.model_dump_json())
    assert "notify.failed" in caplog.text
    _assert_clean(caplog.text)


@pytest.mark.parametrize("variable,value", [
    ("IMAGEDROP_WEBHOOK_URLS", "http://hook-user:s3cret-pass@example.com:port/x"),
    ("IMAGEDROP_DINGTALK_URL", "https://oapi.dingtalk.com robot?access_token=tok-123456"),
    ("IMAGEDROP_SLACK_URL", "hooks.slack.com/services/T0/B0/sig-abcdef"),
    ("IMAGEDROP_WEBHOOK_URLS", "ftp://u:s3cret-pass@h?sign=sig-abcdef"),
], ids=["bad-port", "space", "no-scheme", "ftp"])
def test_a_malformed_url_is_refused_at_start_without_its_secret(
        stack: Harness, clean_env: pytest.MonkeyPatch, variable: str, value: str) -> None:
    clean_env.setenv(variable, value)
    disk, manifest = stack.sample()
    stack.drop(disk, manifest)
    stack.cloud.pump.pump()
    errors = [e.error for e in stack.cloud.pump.errors]
    assert errors and all("ConfigError" in e and variable in e for e in errors), errors
    _assert_clean(json.dumps(errors))
