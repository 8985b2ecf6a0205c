"""Topic state and the notification each subscriber receives. No HTTP, no locks, no clock."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from ...core import ServiceError
from .. import errors
from .queues import QUEUE_NAME, body_md5, check_range, millis

NOTIFY_FORMATS = ("XML", "JSON", "SIMPLIFIED")
NOTIFY_STRATEGIES = ("BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
XMLNS = "http://mns.aliyuncs.com/doc/v1/"


@dataclass
class FakeTopicMessage:
    message_id: str
    body: str
    tag: str
    publish_time: float
    body_md5: str

    @property
    def publish_time_ms(self) -> int:
        return millis(self.publish_time)


@dataclass
class FakeSubscription:
    topic: str
    name: str
    endpoint: str
    notify_content_format: str = "XML"
    notify_strategy: str = "BACKOFF_RETRY"
    filter_tag: str = ""
    created: float = 0.0
    modified: float = 0.0

    def __post_init__(self) -> None:
        if not QUEUE_NAME.match(self.name):
            raise ServiceError(400, "SubsriptionNameInvalid",  # sic: the real code's spelling
                                      f"The subscription name you provided is invalid. (got {self.name!r}: "
                                      "start with a letter; letters, digits and - only)")
        if self.notify_content_format not in NOTIFY_FORMATS:
            raise errors.schema_error(f"NotifyContentFormat (got {self.notify_content_format!r}, "
                                      f"expected one of {', '.join(NOTIFY_FORMATS)})")
        if self.notify_strategy not in NOTIFY_STRATEGIES:
            raise errors.schema_error(f"NotifyStrategy (got {self.notify_strategy!r}, "
                                      f"expected one of {', '.join(NOTIFY_STRATEGIES)})")
        if len(self.filter_tag) > 16:
            raise errors.out_of_range("FilterTag", 1, 16, self.filter_tag, "characters")
        self.modified = self.modified or self.created

    def same_as(self, other: "FakeSubscription") -> bool:
        return (self.endpoint, self.notify_content_format, self.notify_strategy, self.filter_tag) == (
            other.endpoint, other.notify_content_format, other.notify_strategy, other.filter_tag)

    def wants(self, message: FakeTopicMessage) -> bool:
        return not self.filter_tag or self.filter_tag == message.tag


@dataclass
class FakeTopic:
    name: str
    created: float
    maximum_message_size: int = 65536
    logging_enabled: bool = False
    modified: float = 0.0
    subscriptions: dict[str, FakeSubscription] = field(default_factory=dict)
    published: list[FakeTopicMessage] = field(default_factory=list)
    undelivered: list[tuple[str, FakeTopicMessage, str]] = field(default_factory=list)  # (subscription, msg, why)

    def __post_init__(self) -> None:
        if not QUEUE_NAME.match(self.name):
            raise errors.invalid_topic_name(self.name)
        check_range("MaximumMessageSize", self.maximum_message_size, 1024, 65536, "bytes")
        self.modified = self.modified or self.created

    def publish(self, body: str, now: float, tag: str = "") -> FakeTopicMessage:
        size = len(body.encode("utf-8"))
        if not 1 <= size <= self.maximum_message_size:
            raise errors.out_of_range("MessageBody", 1, self.maximum_message_size, f"{size} bytes", "bytes")
        if len(tag) > 16:
            raise errors.out_of_range("MessageTag", 1, 16, tag, "characters")
        message = FakeTopicMessage(message_id=f"{uuid.uuid4().hex[:16].upper()}-1-{millis(now):X}-"
                                   f"{200000001 + len(self.published)}", body=body, tag=tag,
                                   publish_time=now, body_md5=body_md5(body))
        self.published.append(message)
        return message


def queue_endpoint(region: str, account_id: str, queue: str) -> str:
    return f"acs:mns:{region}:{account_id}:queues/{queue}"


def parse_endpoint(endpoint: str, region: str, account_id: str) -> tuple[str, str]:
    """("queue", queue name) or ("http", url); EndpointInvalid for anything the emulator can't reach."""
    prefix = f"acs:mns:{region}:{account_id}:queues/"
    if endpoint.startswith("acs:mns:"):
        name = endpoint[len(prefix):] if endpoint.startswith(prefix) else ""
        if not QUEUE_NAME.match(name):
            raise errors.endpoint_invalid(endpoint, f"A queue endpoint must be {prefix}<queue name>.")
        return "queue", name
    parts = urlsplit(endpoint)
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return "http", endpoint
    raise errors.endpoint_invalid(endpoint, f"The emulator delivers only to queues ({prefix}<queue>) and to "
                                  "loopback HTTP endpoints (http://127.0.0.1:PORT/...); it never calls "
                                  "other hosts.")


def notification(topic: FakeTopic, sub: FakeSubscription, message: FakeTopicMessage,
                 account_id: str) -> tuple[bytes, str]:
    """The body a subscriber receives, and its content type, for the subscription's format:
    SIMPLIFIED is the message body as published; XML and JSON wrap it with the message's
    attributes (its tag only when it has one)."""
    if sub.notify_content_format == "SIMPLIFIED":
        return message.body.encode("utf-8"), "text/plain;charset=utf-8"
    fields: dict[str, str | int] = {
        "TopicOwner": account_id, "TopicName": topic.name, "Subscriber": account_id,
        "SubscriptionName": sub.name, "MessageId": message.message_id, "Message": message.body,
        "MessageMD5": message.body_md5, **({"MessageTag": message.tag} if message.tag else {}),
        "PublishTime": message.publish_time_ms,
    }
    if sub.notify_content_format == "JSON":  # key order of the documented topic-trigger payload
        order = ("TopicOwner", "Message", "Subscriber", "PublishTime", "SubscriptionName", "MessageMD5",
                 "TopicName", "MessageId", "MessageTag")
        doc = json.dumps({k: fields[k] for k in order if k in fields}, ensure_ascii=False, separators=(",", ":"))
        return doc.encode("utf-8"), "application/json;charset=utf-8"
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    xml = f'<?xml version="1.0" encoding="utf-8"?><Notification xmlns="{XMLNS}">{inner}</Notification>'
    return xml.encode("utf-8"), "text/xml;charset=utf-8"


def push_headers(sub: FakeSubscription, message: FakeTopicMessage, request_id: str) -> dict[str, str]:
    """The headers of an HTTP push beside the body: the message's id and tag travel as headers
    only in SIMPLIFIED, where the body has no room for them."""
    headers = {"x-mns-version": "2015-06-06", "x-mns-request-id": request_id}
    if sub.notify_content_format == "SIMPLIFIED":
        headers["x-mns-message-id"] = message.message_id
        if message.tag:  # no empty tag header for an untagged message
            headers["x-mns-message-tag"] = message.tag
    return headers
