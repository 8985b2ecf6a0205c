"""Generic webhooks: the CloudEvent in structured mode, signed the Standard Webhooks way.

The body is the event itself (`application/cloudevents+json`, no `ce-*` headers, which would make
a CloudEvents SDK read it in binary mode). `webhook-id` is the event's id, the same on every
retry, so a receiver drops a repeat; `webhook-timestamp` and `webhook-signature`
(`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, the key being the base64 after `whsec_`) let it
refuse a forged or replayed request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from pydantic import Field

from ...config import Settings
from ...redact import SECRET
from ..event import CONTENT_TYPE, body_bytes
from .base import HttpChannel, Outgoing, Target, WebhookSecret, WebUrl


class WebhookTarget(Target):
    url: WebUrl = Field(json_schema_extra=SECRET)
    secret: WebhookSecret | None = Field(None, json_schema_extra=SECRET)


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode("utf-8") + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


class WebhookChannel(HttpChannel):
    kind = "webhook"

    def format(self, event: dict[str, Any]) -> bytes:
        return body_bytes(event)

    def sign(self, body: bytes, event: dict[str, Any], now: float) -> Outgoing:
        msg_id, timestamp = str(event["id"]), int(now)
        headers = {"Content-Type": CONTENT_TYPE, "webhook-id": msg_id,
                   "webhook-timestamp": str(timestamp)}
        if self.secret:
            headers["webhook-signature"] = standard_signature(self.secret, msg_id, timestamp, body)
        return Outgoing(self.url, body, headers)


def from_settings(settings: Settings) -> list[WebhookTarget]:
    # the settings were validated when they were loaded
    return [WebhookTarget.model_construct(url=url, secret=settings.webhook_secret)
            for url in settings.webhook_urls]
