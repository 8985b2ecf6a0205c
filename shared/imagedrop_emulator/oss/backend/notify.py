"""Notification rules of a bucket and the exact OSS trigger payload they emit (`{"events": [...]}`)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Callable

Sink = Callable[[bytes], object]

DEFAULT_EVENTS: tuple[str, ...] = (
    "ObjectCreated:PutObject",
    "ObjectCreated:PostObject",
    "ObjectCreated:CompleteMultipartUpload",
    "ObjectCreated:CopyObject",
)


def _bare(event: str) -> str:
    """Trigger configs spell events `oss:ObjectCreated:PutObject`; payloads drop the `oss:`."""
    return event[4:] if event.startswith("oss:") else event


@dataclass
class NotificationRule:
    name: str
    sink: Sink
    prefix: str = ""
    suffix: str = ""
    events: tuple[str, ...] = DEFAULT_EVENTS

    def matches(self, event_name: str, key: str) -> bool:
        if not (key.startswith(self.prefix) and key.endswith(self.suffix)):
            return False
        family = event_name.split(":", 1)[0]
        for wanted in map(_bare, self.events):
            if wanted == event_name or wanted == f"{family}:*":
                return True
        return False

    @property
    def rule_id(self) -> str:
        return hashlib.sha1(self.name.encode()).hexdigest()


@dataclass
class ObjectEvent:
    """What happened to one object; everything the payload needs."""

    event_name: str
    bucket: str
    region: str
    account_id: str
    key: str
    size: int
    delta_size: int
    etag: str                    # without quotes
    content_type: str
    user_meta: dict[str, str] = field(default_factory=dict)  # full header names, x-oss-meta-*
    request_id: str = ""
    event_time: float = 0.0
    source_ip: str = "127.0.0.1"


def iso_millis(epoch: float) -> str:
    """OSS timestamps: whole seconds with a `.000Z` tail (oss2 parses exactly that shape)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(int(epoch)))


def trigger_payload(event: ObjectEvent, rule: NotificationRule) -> bytes:
    """The bytes an FC OSS trigger hands to `handler(event, context)`."""
    record = {
        "eventName": event.event_name,
        "eventSource": "acs:oss",
        "eventTime": iso_millis(event.event_time),
        "eventVersion": "1.0",
        "oss": {
            "bucket": {
                "arn": f"acs:oss:{event.region}:{event.account_id}:{event.bucket}",
                "name": event.bucket,
                "ownerIdentity": event.account_id,
                "virtualBucket": "",
            },
            "object": {
                "deltaSize": event.delta_size,
                "eTag": event.etag,
                "key": event.key,
                "objectMeta": {"mimeType": event.content_type, "userMeta": dict(event.user_meta)},
                "size": event.size,
            },
            "ossSchemaVersion": "1.0",
            "ruleId": rule.rule_id,
        },
        "region": event.region,
        "requestParameters": {"sourceIPAddress": event.source_ip},
        "responseElements": {"requestId": event.request_id},
        "userIdentity": {"principalId": event.account_id},
    }
    return json.dumps({"events": [record]}, ensure_ascii=False).encode("utf-8")
