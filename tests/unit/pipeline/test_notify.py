"""Notifications: CloudEvents, and webhooks received by a real loopback HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from receivers import Inbox, assert_same_event, inbox, read_event, verify_signed  # noqa: F401 (a fixture)
from standardwebhooks.webhooks import WebhookVerificationError

from imagedrop.config import Settings, load_settings
from imagedrop.errors import ConfigError
from imagedrop.notify import MAX_EVENT_BYTES, Notifier, body_bytes, cloudevent, dingtalk_signed_url, fit
from imagedrop_disk.facts.model import Finding, GuestFacts
from imagedrop.model.status import Event, Problem, StatusRecord

NOW = 1_793_672_047.0
SECRET = "whsec_" + base64.b64encode(b"imagedrop-unit-test-key-0123456789").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"somebody-else-s-key-0123456789ab").decode()


def dead_url() -> str:
    """A loopback port with nothing listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def settings(**changes: object) -> Settings:
    base: dict[str, object] = dict(region="cn-hangzhou", account_id="1649015465570000",
                                   queue="imagedrop-track", mns_endpoint="http://127.0.0.1:1")
    base.update(changes)
    return Settings.model_validate(base)


def record(state: str = "failed") -> StatusRecord:
    return StatusRecord(
        id="id-3f9a", state=state, bucket="imagedrop-demo", manifest="incoming/web.qcow2.json",
        region="cn-hangzhou", image_id="m-1", task_id="t-1", progress="40%",
        problems=[Problem(where="ImportImage", rule="ECS cannot read the bucket",
                          fix="create the role", code="NoSetRoletoECSServiceAcount")],
        history=[Event(at="2026-11-03T02:14:07Z", state="importing", note="started"),
                 Event(at="2026-11-03T02:20:00Z", state=state, note="task t-1 failed")])


def event(state: str = "failed") -> dict[str, object]:
    return cloudevent(record(state), source="acs:oss:cn-hangzhou:1649015465570000:imagedrop-demo",
                      now=NOW)


# ------------------------------------------------------------------------- the CloudEvent

def test_cloudevent_shape() -> None:
    ce = event("failed")
    assert ce["specversion"] == "1.0" and ce["type"] == "imagedrop.import.failed"
    assert ce["source"] == "acs:oss:cn-hangzhou:1649015465570000:imagedrop-demo"
    assert ce["subject"] == "incoming/web.qcow2.json"
    assert ce["time"] == "2026-11-03T02:20:00Z" and ce["datacontenttype"] == "application/json"
    assert ce["data"] == record("failed").summary()
    assert ce["data"]["problems"][0].endswith("[NoSetRoletoECSServiceAcount]; create the role")


def test_same_state_change_is_the_same_event_and_a_new_one_is_not() -> None:
    first = cloudevent(record(), source="imagedrop", now=NOW)
    retried = cloudevent(record(), source="imagedrop", now=NOW + 60)
    assert first == retried
    later = record()
    later.history.append(Event(at="2026-11-03T03:00:00Z", state="failed", note="x"))
    assert cloudevent(later, source="imagedrop", now=NOW)["id"] != first["id"]
    bare = record().model_copy(update={"history": []})
    assert cloudevent(bare, source="imagedrop", now=NOW)["time"] == "2026-11-03T02:14:07Z"


# ------------------------------------------------------------------------- webhooks

def test_generic_webhook_is_signed_the_standard_webhooks_way(inbox: Inbox) -> None:
    # Given a webhook with a whsec_ secret
    notifier = Notifier(settings(webhook_urls=f"{inbox.url}/hook", webhook_secret=SECRET))
    # When an event is sent
    assert notifier.send(event()) == []
    # Then standardwebhooks verifies it over exactly the bytes the receiver got
    (got,) = inbox.on("/hook")
    assert verify_signed(SECRET, got.headers, got.body) == json.loads(json.dumps(event()))
    assert got.headers["webhook-id"] == event()["id"]
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    assert got.headers["webhook-signature"].startswith("v1,")
    # and another key, or a changed body, is refused
    with pytest.raises(WebhookVerificationError):
        verify_signed(OTHER_SECRET, got.headers, got.body)
    with pytest.raises(WebhookVerificationError):
        verify_signed(SECRET, got.headers, got.body.replace(b"failed", b"succeeded"))
    assert "x-imagedrop-signature" not in got.headers


def test_the_webhook_body_is_a_structured_cloudevent_the_sdk_reads_whole(inbox: Inbox) -> None:
    Notifier(settings(webhook_urls=f"{inbox.url}/hook", webhook_secret=SECRET)).send(event())
    (got,) = inbox.on("/hook")
    assert got.headers["content-type"].startswith("application/cloudevents+json")
    assert not [name for name in got.headers if name.startswith("ce-")]
    assert_same_event(read_event(got.headers, got.body), event())


def test_a_retry_carries_the_same_webhook_id_and_a_fresh_signature(inbox: Inbox) -> None:
    inbox.script["/flaky"] = [(503, b"busy"), (200, b"ok")]
    Notifier(settings(webhook_urls=f"{inbox.url}/flaky", webhook_secret=SECRET), backoff=0.01).send(event())
    first, second = inbox.on("/flaky")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event()["id"]
    verify_signed(SECRET, second.headers, second.body)


def test_no_secret_no_signature(inbox: Inbox) -> None:
    Notifier(settings(webhook_urls=f"{inbox.url}/hook")).send(event())
    (got,) = inbox.on("/hook")
    assert "webhook-signature" not in got.headers and got.headers["webhook-id"] == event()["id"]


def test_a_webhook_secret_that_is_not_whsec_is_refused_when_the_settings_load() -> None:
    for bad in ("s3cret", "whsec_not-base64!", "whsec_" + base64.b64encode(b"short").decode()):
        env = {"FC_REGION": "cn-hangzhou", "FC_ACCOUNT_ID": "1649015465570000",
               "IMAGEDROP_QUEUE": "q", "IMAGEDROP_MNS_ENDPOINT": "http://127.0.0.1:1",
               "IMAGEDROP_WEBHOOK_SECRET": bad}
        with pytest.raises(ConfigError, match="IMAGEDROP_WEBHOOK_SECRET: a webhook secret must be whsec_") as caught:
            load_settings(env)
        assert bad not in str(caught.value)


def test_dingtalk_robot_gets_a_verifiable_signature(inbox: Inbox) -> None:
    secret = "SEC0123456789abcdef"
    notifier = Notifier(settings(dingtalk_url=f"{inbox.url}/robot/send?access_token=tok",
                                 dingtalk_secret=secret), clock=lambda: NOW)
    inbox.script["/robot/send"] = [(200, b'{"errcode":0,"errmsg":"ok"}')]
    assert notifier.send(event()) == []
    (got,) = inbox.on("/robot/send")
    query = parse_qs(urlsplit(got.path).query)
    timestamp = query["timestamp"][0]
    assert timestamp == str(int(NOW * 1000)) and query["access_token"] == ["tok"]
    # The robot's check: base64(HMAC-SHA256(secret, "timestamp\nsecret")), URL-encoded in the query
    raw_sign = urlsplit(got.path).query.split("sign=")[1].split("&")[0]
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    assert unquote_plus(raw_sign) == base64.b64encode(digest).decode()
    message = json.loads(got.body)
    assert message["msgtype"] == "markdown"
    assert "incoming/web.qcow2.json" in message["markdown"]["title"]
    assert "NoSetRoletoECSServiceAcount" in message["markdown"]["text"]


def test_dingtalk_error_code_is_a_failure(inbox: Inbox) -> None:
    inbox.script["/robot/send"] = [(200, b'{"errcode":310000,"errmsg":"sign not match"}')]
    notifier = Notifier(settings(dingtalk_url=f"{inbox.url}/robot/send?access_token=tok",
                                 dingtalk_secret="x"))
    (failure,) = notifier.send(event())
    assert failure["channel"] == "dingtalk" and "310000" in failure["error"]
    assert "tok" not in json.dumps(failure)          # the robot token never lands in a record
    assert len(inbox.on("/robot/send")) == 1         # an application error is not retried


def test_dingtalk_signed_url_appends_to_a_url_without_query() -> None:
    assert dingtalk_signed_url("https://h/robot", "k", 1).startswith("https://h/robot?timestamp=1&sign=")


def test_slack_gets_text_and_blocks(inbox: Inbox) -> None:
    Notifier(settings(slack_url=f"{inbox.url}/services/T/B/X")).send(event("succeeded"))
    (got,) = inbox.on("/services/T/B/X")
    message = json.loads(got.body)
    assert message["text"] == "imagedrop: incoming/web.qcow2.json is succeeded"
    assert message["blocks"][0]["type"] == "section" and "m-1" in message["blocks"][0]["text"]["text"]


def test_5xx_then_200_is_retried_and_delivered(inbox: Inbox) -> None:
    inbox.script["/flaky"] = [(500, b"oops"), (200, b"ok")]
    failures = Notifier(settings(webhook_urls=f"{inbox.url}/flaky"), backoff=0.01).send(event())
    assert failures == []
    attempts = inbox.on("/flaky")
    assert len(attempts) == 2 and attempts[0].body == attempts[1].body


def test_429_is_retried_but_4xx_is_not(inbox: Inbox) -> None:
    inbox.script["/busy"] = [(429, b"slow down"), (204, b"")]
    inbox.script["/gone"] = [(404, b"no such hook")]
    failures = Notifier(settings(webhook_urls=f"{inbox.url}/busy,{inbox.url}/gone"),
                        backoff=0.01).send(event())
    assert len(inbox.on("/busy")) == 2 and len(inbox.on("/gone")) == 1
    (failure,) = failures
    assert failure["channel"] == "webhook" and failure["target"] == inbox.url.removeprefix("http://")
    assert "HTTP 404" in failure["error"]


def test_always_failing_webhook_gives_up_after_three_attempts(inbox: Inbox) -> None:
    inbox.script["/down"] = [(503, b"down")]
    (failure,) = Notifier(settings(webhook_urls=f"{inbox.url}/down"), backoff=0.01).send(event())
    assert len(inbox.on("/down")) == 3 and "HTTP 503 after retries" in failure["error"]


def test_dead_webhook_is_recorded_without_raising(inbox: Inbox) -> None:
    # Given one dead webhook and one live one
    dead = dead_url()
    notifier = Notifier(settings(webhook_urls=f"{dead},{inbox.url}/hook"), backoff=0.01)
    # When sent: no exception, the dead one is a failure, the live one still got the event
    failures = notifier.send(event())
    assert failures == [{"channel": "webhook", "target": urlsplit(dead).netloc,
                         "error": "connection failed (nothing listening, DNS or network); check the URL setting"}]
    assert len(inbox.on("/hook")) == 1


def test_a_url_that_is_not_http_is_refused_without_a_request() -> None:
    # the settings refuse it when they are loaded; the notifier still refuses one that got past
    with pytest.raises(ValueError, match="http"):
        settings(webhook_urls="file:///etc/passwd")
    unchecked = settings().model_copy(update={"webhook_urls": ["file:///etc/passwd"]})
    (failure,) = Notifier(unchecked).send(event())
    assert failure["channel"] == "webhook" and "http(s)" in failure["error"]


# ------------------------------------------------------------------------- the MNS topic

def test_topic_gets_the_json_body_tagged_with_the_state() -> None:
    published: list[tuple[str, str]] = []
    notifier = Notifier(settings(topic="imagedrop-events"), lambda body, tag: published.append((body, tag)))
    assert notifier.send(event("cancelled")) == []
    ((body, tag),) = published
    assert tag == "cancelled" and json.loads(body)["type"] == "imagedrop.import.cancelled"


def test_topic_failure_is_recorded_and_webhooks_still_run(inbox: Inbox) -> None:
    def broken(body: str, tag: str) -> None:
        raise RuntimeError("MNS TopicNotExist: The topic you provided does not exist.")

    notifier = Notifier(settings(topic="gone", webhook_urls=f"{inbox.url}/hook"), broken)
    assert notifier.send(event()) == [{"channel": "mns-topic", "target": "gone",
                                       "error": "MNS TopicNotExist: The topic you provided does not exist."}]
    assert len(inbox.on("/hook")) == 1


def test_no_channels_configured_sends_nothing() -> None:
    assert Notifier(settings(), None).send(event()) == []


# ------------------------------------------------------------------------- Lark and Teams

def test_lark_bot_gets_a_post_signed_the_lark_way(inbox: Inbox) -> None:
    inbox.script["/open-apis/bot/v2/hook/abc"] = [(200, b'{"code":0,"msg":"success"}')]
    notifier = Notifier(settings(lark_url=f"{inbox.url}/open-apis/bot/v2/hook/abc", lark_secret="lk-secret"),
                        clock=lambda: NOW)
    assert notifier.send(event()) == []
    (got,) = inbox.on("/open-apis/bot/v2/hook/abc")
    message = json.loads(got.body)
    # Lark's check: HMAC-SHA256 keyed with "timestamp\nsecret" over nothing, base64
    assert message["timestamp"] == str(int(NOW))
    key = f"{int(NOW)}\nlk-secret".encode()
    assert message["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    post = message["content"]["post"]["en_us"]
    assert message["msg_type"] == "post" and "incoming/web.qcow2.json" in post["title"]
    assert any("NoSetRoletoECSServiceAcount" in line[0]["text"] for line in post["content"])


def test_lark_error_code_is_a_failure_without_its_url(inbox: Inbox) -> None:
    inbox.script["/open-apis/bot/v2/hook/tok-lark"] = [(200, b'{"code":19021,"msg":"sign match fail"}')]
    (failure,) = Notifier(settings(lark_url=f"{inbox.url}/open-apis/bot/v2/hook/tok-lark",
                                   lark_secret="x")).send(event())
    assert failure["channel"] == "lark" and "19021" in failure["error"]
    assert "tok-lark" not in json.dumps(failure)


def test_teams_workflow_gets_an_adaptive_card(inbox: Inbox) -> None:
    inbox.script["/workflows/run"] = [(202, b"")]
    assert Notifier(settings(teams_url=f"{inbox.url}/workflows/run?sig=abc")).send(event("succeeded")) == []
    (got,) = inbox.on("/workflows/run")
    message = json.loads(got.body)
    (attachment,) = message["attachments"]
    assert message["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    texts = [run["text"] for block in card["body"] for run in block["inlines"]]
    assert texts[0] == "imagedrop: incoming/web.qcow2.json is succeeded" and "image m-1" in texts


# ------------------------------------------------------------------------- 64 KiB

def test_five_fstab_lines_of_4000_cjk_characters_make_an_event_under_64_kib(inbox: Inbox) -> None:
    long_mount = "/数据" + "镜" * 4000
    lines = [f"/dev/sdb{i} on {long_mount}{i}" for i in range(5)]
    big = record("succeeded").model_copy(update={
        "guest": GuestFacts(os_type="linux", fstab_devices=lines),
        "findings": [Finding(item="GUESTOS.Fstab", risk="High", fact=line, fix="mount by UUID") for line in lines],
        "advice": lines, "fixes": lines})
    assert len(body_bytes(big.summary())) > 2 * MAX_EVENT_BYTES
    ce = cloudevent(big, source="imagedrop", now=NOW)
    assert len(body_bytes(ce)) <= MAX_EVENT_BYTES
    assert set(ce["data"]["truncated"]) >= {"guest", "findings", "advice", "fixes"}
    assert ce["data"]["manifest"] == big.manifest and ce["data"]["state"] == "succeeded"
    assert ce["data"]["guest"]["fstab_devices"][0].startswith("/dev/sdb0 on /数据镜")
    # and it goes out whole: the webhook reads it back, the topic takes it
    published: list[str] = []
    notifier = Notifier(settings(webhook_urls=f"{inbox.url}/hook", topic="t"),
                        lambda body, tag: published.append(body))
    assert notifier.send(ce) == []
    (got,) = inbox.on("/hook")
    assert_same_event(read_event(got.headers, got.body), ce)
    assert len(published[0].encode()) <= MAX_EVENT_BYTES


def test_an_event_that_fits_is_not_touched() -> None:
    ce = event()
    assert "truncated" not in ce["data"] and fit(ce) is ce
