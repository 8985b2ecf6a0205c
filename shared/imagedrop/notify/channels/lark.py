"""Lark (Feishu) custom bots: a `post` message whose lines are `text` elements, which Lark shows
as they are (no `<at>` from data, no links), signed in the body when the bot has a secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import requests
from pydantic import Field

from ...config import Settings
from ...redact import SECRET
from ..text import headline
from .base import JSON_TYPE, HttpChannel, Outgoing, Target, WebUrl, app_error, json_bytes


class LarkTarget(Target):
    url: WebUrl = Field(json_schema_extra=SECRET)
    secret: str | None = Field(None, json_schema_extra=SECRET)


def lark_sign(secret: str, timestamp: int) -> str:
    """Lark's `sign`: base64 of HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message."""
    key = f"{timestamp}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def lark_message(event: dict[str, Any]) -> dict[str, Any]:
    title, lines = headline(event)
    return {"msg_type": "post", "content": {"post": {"en_us": {
        "title": title, "content": [[{"tag": "text", "text": line}] for line in lines]}}}}


class LarkChannel(HttpChannel):
    kind = "lark"

    def format(self, event: dict[str, Any]) -> bytes:
        return json_bytes(lark_message(event))

    def sign(self, body: bytes, event: dict[str, Any], now: float) -> Outgoing:
        if self.secret:
            timestamp = int(now)
            body = json_bytes({"timestamp": str(timestamp), "sign": lark_sign(self.secret, timestamp),
                               **json.loads(body)})
        return Outgoing(self.url, body, {"Content-Type": JSON_TYPE})

    def check(self, answer: requests.Response) -> None:
        app_error(answer, "code", "msg", "Lark")


def from_settings(settings: Settings) -> list[LarkTarget]:
    if not settings.lark_url:
        return []
    return [LarkTarget.model_construct(url=settings.lark_url, secret=settings.lark_secret)]
