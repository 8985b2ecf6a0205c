"""What a receiver does with our requests, with the receivers' own libraries: the `cloudevents`
SDK reads an event back, `standardwebhooks` verifies a signature."""

from __future__ import annotations

import json
from typing import Any, Mapping

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

ATTRIBUTES = ("id", "source", "type", "specversion", "subject", "datacontenttype")


def read_event(headers: Mapping[str, str], body: bytes) -> BaseCloudEvent:
    """The CloudEvent as the SDK reads it; the request must be in structured mode."""
    lowered = {k.lower(): v for k, v in headers.items()}
    assert not [k for k in lowered if k.startswith("ce-")], lowered
    return from_http_event(HTTPMessage(headers=lowered, body=body))


def assert_same_event(read: BaseCloudEvent, sent: Mapping[str, Any]) -> None:
    """`read` has every attribute of `sent`, one by one, and its whole `data`."""
    attributes = read.get_attributes()
    for name in ATTRIBUTES:
        assert attributes.get(name) == sent[name], name
    assert read.get_time() is not None and read.get_time().strftime("%Y-%m-%dT%H:%M:%SZ") == sent["time"]
    data = read.get_data()
    assert (json.loads(data) if isinstance(data, (str, bytes)) else data) == sent["data"]


def verify_signed(secret: str, headers: Mapping[str, str], body: bytes) -> Any:
    """The payload when `standardwebhooks` accepts the request; it raises otherwise."""
    return Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})


def signed_by(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether `standardwebhooks` accepts the request as signed with `secret`."""
    try:
        verify_signed(secret, headers, body)
    except WebhookVerificationError:
        return False
    return True
