"""DingTalk custom robots: a markdown message, the URL signed when the robot has a secret.

DingTalk's markdown has no documented escape, so the characters that would make links, images,
emphasis, code or HTML from data become look-alikes; values are one line each (`text.plain`), so
none can start a header or a list item.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus

import requests
from pydantic import Field

from ...config import Settings
from ...redact import SECRET
from ..text import headline
from .base import JSON_TYPE, HttpChannel, Outgoing, Target, WebUrl, app_error, json_bytes

_ESCAPES = str.maketrans({"[": "［", "]": "］", "(": "（", ")": "）", "<": "‹", ">": "›",
                          "!": "ǃ", "`": "ˋ", "*": "∗", "#": "＃", "|": "│"})


class DingTalkTarget(Target):
    url: WebUrl = Field(json_schema_extra=SECRET)
    secret: str | None = Field(None, json_schema_extra=SECRET)


def dingtalk_text(text: str) -> str:
    return text.translate(_ESCAPES)


def dingtalk_message(event: dict[str, Any]) -> dict[str, Any]:
    title, lines = headline(event)
    title, lines = dingtalk_text(title), [dingtalk_text(line) for line in lines]
    text = f"#### {title}\n\n" + "\n".join(f"- {line}" for line in lines)
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with `timestamp` and `sign` (base64 HMAC-SHA256 of "timestamp\\nsecret")."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"),
                      hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode("ascii"))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


class DingTalkChannel(HttpChannel):
    kind = "dingtalk"

    def format(self, event: dict[str, Any]) -> bytes:
        return json_bytes(dingtalk_message(event))

    def sign(self, body: bytes, event: dict[str, Any], now: float) -> Outgoing:
        url = dingtalk_signed_url(self.url, self.secret, int(now * 1000)) if self.secret else self.url
        return Outgoing(url, body, {"Content-Type": JSON_TYPE})

    def check(self, answer: requests.Response) -> None:
        app_error(answer, "errcode", "errmsg", "DingTalk")


def from_settings(settings: Settings) -> list[DingTalkTarget]:
    if not settings.dingtalk_url:
        return []
    return [DingTalkTarget.model_construct(url=settings.dingtalk_url, secret=settings.dingtalk_secret)]
