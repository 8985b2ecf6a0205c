"""Queue state: messages, delays, visibility, receipt handles. No HTTP, no locks, no clock.

Every operation takes `now` (emulated epoch seconds) from the caller, so the rules can be
tested as plain functions of time. The backend holds the lock and reads the clock.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import secrets
import uuid
from dataclasses import dataclass, field, replace

from .. import errors

QUEUE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,119}$")

# Attribute ranges of CreateQueue/SetQueueAttributes: (element, low, high, unit).
QUEUE_LIMITS: dict[str, tuple[str, int, int, str]] = {
    "visibility_timeout": ("VisibilityTimeout", 1, 43200, "seconds"),
    "delay_seconds": ("DelaySeconds", 0, 604800, "seconds"),
    "maximum_message_size": ("MaximumMessageSize", 1024, 65536, "bytes"),
    "message_retention_period": ("MessageRetentionPeriod", 60, 604800, "seconds"),
    "polling_wait_seconds": ("PollingWaitSeconds", 0, 30, "seconds"),
}
MAX_DELAY = 604800
MAX_VISIBILITY = 43200
MAX_WAIT = 30


def millis(t: float) -> int:
    return int(t * 1000)


def body_md5(body: str) -> str:
    """MessageBodyMD5: upper-case hex MD5 of the body exactly as stored (the wire text)."""
    return hashlib.md5(body.encode("utf-8")).hexdigest().upper()


def check_range(element: str, value: int, low: int, high: int, unit: str = "seconds") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise errors.out_of_range(element, low, high, value, unit)
    return value


@dataclass
class FakeMessage:
    message_id: str
    body: str
    priority: int
    enqueue_time: float
    visible_at: float
    seq: int
    dequeue_count: int = 0
    first_dequeue_time: float | None = None
    receipt_handle: str | None = None
    body_md5: str = ""
    user_properties: tuple[tuple[str, str, str], ...] = ()     # (Name, Value, Type), as sent
    system_properties: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        self.body_md5 = self.body_md5 or body_md5(self.body)

    @property
    def enqueue_time_ms(self) -> int:
        return millis(self.enqueue_time)

    @property
    def next_visible_time_ms(self) -> int:
        return millis(self.visible_at)

    @property
    def first_dequeue_time_ms(self) -> int:
        # Never dequeued: MNS reports the enqueue time (a peeked message still needs a value).
        return millis(self.first_dequeue_time if self.first_dequeue_time is not None else self.enqueue_time)

    def snapshot(self) -> "FakeMessage":
        return replace(self)


@dataclass
class FakeQueue:
    name: str
    created: float
    visibility_timeout: int = 30
    delay_seconds: int = 0
    maximum_message_size: int = 65536
    message_retention_period: int = 345600
    polling_wait_seconds: int = 0
    logging_enabled: bool = False
    modified: float = 0.0
    messages: dict[int, FakeMessage] = field(default_factory=dict)  # seq -> message, send order
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)
    _handles: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    def __post_init__(self) -> None:
        if not QUEUE_NAME.match(self.name):
            raise errors.invalid_queue_name(self.name)
        self.modified = self.modified or self.created
        self.configure(**self.attributes())

    # ------------------------------------------------------------------ attributes
    def attributes(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in QUEUE_LIMITS}

    def configure(self, **attrs: int) -> None:
        for key, value in attrs.items():
            element, low, high, unit = QUEUE_LIMITS[key]
            setattr(self, key, check_range(element, value, low, high, unit))

    def counts(self, now: float) -> dict[str, int]:
        self.expire(now)
        active = sum(1 for m in self.messages.values() if m.visible_at <= now)
        delayed = sum(1 for m in self.messages.values() if m.visible_at > now and not m.dequeue_count)
        return {"ActiveMessages": active, "InactiveMessages": len(self.messages) - active - delayed,
                "DelayMessages": delayed}

    # ------------------------------------------------------------------ messages
    def send(self, body: str, now: float, *, delay_seconds: int | None = None, priority: int = 8,
             user_properties: tuple[tuple[str, str, str], ...] = (),
             system_properties: tuple[tuple[str, str, str], ...] = ()) -> FakeMessage:
        delay = self.delay_seconds if delay_seconds is None else delay_seconds
        check_range("DelaySeconds", delay, 0, MAX_DELAY)
        check_range("Priority", priority, 1, 16, "")
        size = len(body.encode("utf-8"))
        if not 1 <= size <= self.maximum_message_size:
            raise errors.out_of_range("MessageBody", 1, self.maximum_message_size, f"{size} bytes", "bytes")
        seq = next(self._seq)
        message = FakeMessage(message_id=_message_id(now, seq), body=body, priority=priority,
                              enqueue_time=now, visible_at=now + delay, seq=seq,
                              user_properties=tuple(user_properties), system_properties=tuple(system_properties))
        if delay:
            # MNS returns a handle for a delayed message: ChangeMessageVisibility can move it and
            # DeleteMessage can drop it until it becomes visible.
            message.receipt_handle = self._new_handle(message)
        self.messages[seq] = message
        return message

    def receive(self, now: float, count: int = 1, *, scale: float = 1.0) -> list[FakeMessage]:
        """Take up to `count` visible messages (priority 1 first, then send order). They stay
        invisible for the queue's VisibilityTimeout times `scale` (emulated seconds per second of
        the receiver's)."""
        taken = []
        for message in self.visible(now)[:count]:
            message.dequeue_count += 1
            if message.first_dequeue_time is None:
                message.first_dequeue_time = now
            message.visible_at = now + self.visibility_timeout * scale
            message.receipt_handle = self._new_handle(message)
            taken.append(message.snapshot())
        return taken

    def peek(self, now: float, count: int = 1) -> list[FakeMessage]:
        return [m.snapshot() for m in self.visible(now)[:count]]

    def visible(self, now: float) -> list[FakeMessage]:
        self.expire(now)
        ready = [m for m in self.messages.values() if m.visible_at <= now]
        return sorted(ready, key=lambda m: (m.priority, m.seq))

    def next_visible(self, now: float) -> float | None:
        later = [m.visible_at for m in self.messages.values() if m.visible_at > now]
        return min(later) if later else None

    def delete(self, handle: str, now: float) -> FakeMessage:
        message = self._holder_of(handle, now)
        del self.messages[message.seq]
        return message

    def change_visibility(self, handle: str, timeout: int, now: float, *, scale: float = 1.0) -> FakeMessage:
        check_range("VisibilityTimeout", timeout, 0, MAX_VISIBILITY)
        message = self._holder_of(handle, now)
        message.visible_at = now + timeout * scale
        message.receipt_handle = self._new_handle(message)
        return message.snapshot()

    def expire(self, now: float) -> None:
        limit = now - self.message_retention_period
        for seq in [s for s, m in self.messages.items() if m.enqueue_time <= limit]:
            del self.messages[seq]

    # ------------------------------------------------------------------ handles
    def _new_handle(self, message: FakeMessage) -> str:
        # "1-" + base64 of 16 bytes, so handles end in "==" like the real ones; the first 8 bytes
        # carry the message's sequence number so a handle finds its message without a registry.
        raw = message.seq.to_bytes(8, "big") + next(self._handles).to_bytes(4, "big") + secrets.token_bytes(4)
        return "1-" + base64.b64encode(raw).decode("ascii")

    def _holder_of(self, handle: str, now: float) -> FakeMessage:
        """The message this handle currently owns; ReceiptHandleError for any stale or foreign handle."""
        try:
            raw = base64.b64decode(handle.removeprefix("1-"), validate=True)
        except ValueError:
            raise errors.receipt_handle_error(handle) from None
        message = self.messages.get(int.from_bytes(raw[:8], "big")) if len(raw) == 16 else None
        if message is None or message.receipt_handle != handle or message.visible_at <= now:
            raise errors.receipt_handle_error(handle)
        return message


def _message_id(now: float, seq: int) -> str:
    # Shape of real ids: 5F290C926D472878-2-14D9529A8FA-200000001
    return f"{uuid.uuid4().hex[:16].upper()}-1-{millis(now):X}-{200000000 + seq}"


def as_int(element: str, text: str | None, default: int | None = None) -> int:
    """An integer element of a request, or InvalidArgument naming it."""
    if text is None or text == "":
        if default is None:
            raise errors.missing(element)
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise errors.not_an_integer(element, text) from None

