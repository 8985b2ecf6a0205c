"""Notifications: one CloudEvent per state change, to the MNS topic and the configured webhooks.

A failing channel never fails an import: `Notifier.send` retries transient failures a few times
and returns what could not be delivered, for the status record. Webhook URLs and secrets come
from the deployment's settings only, never from a manifest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Callable
from urllib.parse import quote_plus, urlsplit

import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from ..config import Settings
from ..redact import scrub, url_host
from ..model.status import StatusRecord, utc_now_iso

TopicPublisher = Callable[[str, str], None]      # (message body, tag)
Failure = dict[str, str]


def cloudevent(record: StatusRecord, *, source: str, now: float) -> dict[str, Any]:
    """The CloudEvents 1.0 form of `record`'s current state.

    `id` depends only on the import, its state and its history length, so re-sending the same
    state change yields the same event. `time` is when the state changed (its history entry),
    or `now` for a record without history.
    """
    return {
        "specversion": "1.0",
        "id": f"{record.id}-{record.state}-{len(record.history)}",
        "source": source,
        "type": f"imagedrop.import.{record.state}",
        "subject": record.manifest,
        "time": record.history[-1].at if record.history else utc_now_iso(now),
        "datacontenttype": "application/json",
        "data": record.summary(),
    }


def body_bytes(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """`X-Imagedrop-Signature` value: sha256=<hex HMAC-SHA256(secret, raw body)>."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with `timestamp` and `sign` (base64 HMAC-SHA256 of "timestamp\\nsecret")."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"),
                      hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode("ascii"))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


def _headline(event: dict[str, Any]) -> tuple[str, list[str]]:
    data = event.get("data") or {}
    state = str(data.get("state") or event["type"].rsplit(".", 1)[-1])
    title = f"imagedrop: {event.get('subject')} is {state}"
    lines = [f"region {data.get('region')}"]
    for label, key in (("image", "image_id"), ("task", "task_id"), ("progress", "progress")):
        if data.get(key):
            lines.append(f"{label} {data[key]}")
    if data.get("note"):
        lines.append(str(data["note"]))
    for label, key in (("problem", "problems"), ("fixed", "fixes"), ("advice", "advice")):
        items = list(data.get(key) or [])
        lines += [f"{label}: {text}" for text in items[:5]]
        if len(items) > 5:
            lines.append(f"… {len(items) - 5} more {label} lines in the status record")
    return title, lines


# Keys, field names and values come from producers: none of it may become markup. Slack's own
# escaping turns `<!channel>` and `<https://…|text>` into plain text; DingTalk's markdown has no
# documented escape, so the characters of links, images and HTML become look-alikes.
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_DINGTALK_ESCAPES = str.maketrans({"[": "［", "]": "］", "(": "（", ")": "）", "<": "‹",
                                   ">": "›", "!": "ǃ", "`": "ˋ"})


def slack_text(text: str) -> str:
    return text.translate(_SLACK_ESCAPES)


def dingtalk_text(text: str) -> str:
    return text.translate(_DINGTALK_ESCAPES)


def dingtalk_message(event: dict[str, Any]) -> dict[str, Any]:
    title, lines = _headline(event)
    title, lines = dingtalk_text(title), [dingtalk_text(line) for line in lines]
    text = f"#### {title}\n\n" + "\n".join(f"- {line}" for line in lines)
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def slack_message(event: dict[str, Any]) -> dict[str, Any]:
    title, lines = _headline(event)
    title, lines = slack_text(title), [slack_text(line) for line in lines]
    text = f"*{title}*\n" + "\n".join(f"• {line}" for line in lines)
    return {"text": title, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}]}


class _Transient(Exception):
    """A 5xx or 429 answer: worth another try."""


class _Refused(Exception):
    """A 4xx answer or an application-level error: another try will not help."""


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, (_Transient, requests.ConnectionError, requests.Timeout))


class Notifier:
    """Delivers CloudEvents to the MNS topic and to every webhook in `settings`."""

    def __init__(self, settings: Settings, topic_publisher: TopicPublisher | None = None, *,
                 session: requests.Session | None = None, timeout: float = 5.0,
                 attempts: int = 3, backoff: float = 0.2,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.topic_publisher = topic_publisher
        self.session = session or requests.Session()
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.clock = clock

    def send(self, event: dict[str, Any]) -> list[Failure]:
        """Deliver `event` everywhere; return the failures ({channel, target, error}). Never raises."""
        failures: list[Failure] = []
        body = body_bytes(event)
        state = str(event.get("type", "")).rsplit(".", 1)[-1]
        s = self.settings
        if s.topic and self.topic_publisher is not None:
            self._guard(failures, "mns-topic", s.topic, lambda: self.topic_publisher(body.decode("utf-8"), state))
        for url in s.webhook_urls:
            self._guard(failures, "webhook", url, lambda url=url: self._post_webhook(url, body, event))
        if s.dingtalk_url:
            self._guard(failures, "dingtalk", s.dingtalk_url, lambda: self._post_dingtalk(event))
        if s.slack_url:
            self._guard(failures, "slack", s.slack_url, lambda: self._post_json(s.slack_url, slack_message(event)))
        return failures

    def _guard(self, failures: list[Failure], channel: str, target: str, deliver: Callable[[], None]) -> None:
        # Only scheme and host go into records and logs, and no error text quotes the rest: a URL
        # may carry a password, robot URLs their token in the query, Slack's in the path.
        webhook = channel != "mns-topic"
        shown = url_host(target) if webhook else target
        try:
            if webhook and urlsplit(target).scheme not in ("http", "https"):
                raise _Refused("not an http(s) URL; fix the setting")
            deliver()
        except Exception as exc:   # a notification must never fail the import
            error = scrub(_describe(exc), [target]) if webhook else _describe(exc)
            failures.append({"channel": channel, "target": shown, "error": error})

    def _retrying(self, call: Callable[[], requests.Response]) -> requests.Response:
        for attempt in Retrying(stop=stop_after_attempt(self.attempts),
                                wait=wait_exponential(multiplier=self.backoff, max=2.0),
                                retry=retry_if_exception(_transient), reraise=True):
            with attempt:
                answer = call()
                if answer.status_code == 429 or answer.status_code >= 500:
                    raise _Transient(f"HTTP {answer.status_code}")
                if answer.status_code >= 400:
                    raise _Refused(f"HTTP {answer.status_code}: {answer.text[:200]}")
                return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _post_webhook(self, url: str, body: bytes, event: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/cloudevents+json; charset=utf-8",
                   "ce-id": str(event.get("id", "")), "ce-type": str(event.get("type", "")),
                   "ce-specversion": "1.0", "ce-source": str(event.get("source", ""))}
        if self.settings.webhook_secret:
            headers["X-Imagedrop-Signature"] = signature(self.settings.webhook_secret, body)
        self._retrying(lambda: self.session.post(url, data=body, headers=headers, timeout=self.timeout))

    def _post_json(self, url: str, payload: dict[str, Any]) -> requests.Response:
        body = body_bytes(payload)
        return self._retrying(lambda: self.session.post(
            url, data=body, headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=self.timeout))

    def _post_dingtalk(self, event: dict[str, Any]) -> None:
        url, secret = self.settings.dingtalk_url or "", self.settings.dingtalk_secret
        payload = dingtalk_message(event)

        def once() -> requests.Response:
            target = dingtalk_signed_url(url, secret, int(self.clock() * 1000)) if secret else url
            return self.session.post(target, data=body_bytes(payload), timeout=self.timeout,
                                     headers={"Content-Type": "application/json; charset=utf-8"})

        answer = self._retrying(once)
        try:
            reply = answer.json()
        except ValueError:
            return
        if isinstance(reply, dict) and reply.get("errcode") not in (None, 0):
            raise _Refused(f"DingTalk errcode {reply.get('errcode')}: {reply.get('errmsg')}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "connection failed (nothing listening, DNS or network); check the URL setting"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, _Transient):
        return f"{exc} after retries"
    return str(exc) or type(exc).__name__
