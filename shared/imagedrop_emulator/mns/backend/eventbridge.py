"""An EventBridge-style MNS queue trigger: the event stream FC 3.0 builds behind a queue trigger.

On each `poll(now)` it receives the queue's visible messages, hands them to the sink as the FC 3.0
CloudEvents array, deletes them when the sink returns, and on a sink error makes them visible again
after a backoff (emulated clock), then dead-letters them. Registered with the event pump's `add_source`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Protocol

from ...core import ServiceError, new_request_id
from .queues import FakeMessage

log = logging.getLogger("imagedrop_emulator.mns.eventbridge")

Sink = Callable[[bytes], object]
EVENT_SCHEMAS = ("CloudEvents",)
MAX_BATCH = 10000  # "Batch push messages: 1-10000" (FC advanced trigger features)


def iso_millis(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"


def delivered_body(stored: str, base64_decode: bool) -> str:
    """`IsBase64Decode: true` decodes the stored body; a body that is not base64 text is passed as is
    (what EventBridge does with such a body is UNVERIFIED)."""
    if not base64_decode:
        return stored
    try:
        return base64.b64decode(stored, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return stored


def cloud_event(message: FakeMessage, *, source: str, subject: str, region: str, account_id: str,
                base64_decode: bool, now: float) -> dict[str, object]:
    """One element of the FC 3.0 MNS queue trigger array keys in the platform's order."""
    return {
        "id": message.message_id,
        "source": source,
        "specversion": "1.0",
        "type": "mns:Queue:SendMessage",
        "datacontenttype": "application/json;charset=utf-8",
        "subject": subject,
        "time": iso_millis(message.enqueue_time),
        "aliyunaccountid": account_id,
        "aliyunpublishtime": iso_millis(now),
        "aliyunoriginalaccountid": account_id,
        "aliyuneventbusname": source,
        "aliyunregionid": region,
        "aliyunpublishaddr": "127.0.0.1",
        "data": {
            "requestId": new_request_id(),
            "messageId": message.message_id,
            "messageBody": delivered_body(message.body, base64_decode),
        },
    }


@dataclass
class DeadEvent:
    message_id: str
    body: str
    attempts: int
    error: str
    dead_letter_queue: str | None


class QueueAccess(Protocol):
    """What a trigger does to the queues (`MnsBackend` provides it)."""

    region: str
    account_id: str

    def take_messages(self, queue: str, count: int) -> list[FakeMessage]: ...

    def next_visible(self, queue: str) -> float | None: ...

    def change_message_visibility(self, queue: str, receipt_handle: str, visibility_timeout: int, *,
                                  client: bool = True) -> FakeMessage: ...

    def send_message(self, queue: str, body: str | bytes, *, priority: int = 8) -> FakeMessage: ...

    def delete_message(self, queue: str, receipt_handle: str) -> None: ...


@dataclass
class EventBridgeTrigger:
    backend: QueueAccess
    queue: str
    name: str
    sink: Sink
    function: str = "function"
    base64_decode: bool = True
    batch_size: int = 1
    event_schema: str = "CloudEvents"
    max_retries: int = 3
    backoff: tuple[float, ...] = (10.0, 20.0, 40.0)
    dead_letter_queue: str | None = None
    delivered: int = 0                                   # messages handed over and deleted
    errors: list[str] = field(default_factory=list)      # every sink failure, as "Type: message"
    dead: list[DeadEvent] = field(default_factory=list)  # gave up after max_retries
    _failures: dict[str, int] = field(default_factory=dict, repr=False)
    launch: Callable[[Callable[[], None]], None] | None = field(default=None, repr=False)  # set by the pump

    def __post_init__(self) -> None:
        if self.event_schema not in EVENT_SCHEMAS:
            raise ValueError(f"event_schema {self.event_schema!r}: only 'CloudEvents' is emulated (the MNS "
                             "RawData shape is undocumented); use event_schema='CloudEvents'")
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size {self.batch_size}: must be between 1 and {MAX_BATCH}")
        if self.max_retries < 0 or not self.backoff or any(b < 0 for b in self.backoff):
            raise ValueError("max_retries must be >= 0 and backoff a non-empty tuple of seconds >= 0")

    @property
    def source(self) -> str:
        return f"MNS-{self.function}-{self.name}"

    # ------------------------------------------------------------------ pump protocol
    def poll(self, now: float) -> int:
        """Push every visible message of the queue, batch by batch. Returns messages handed over."""
        handed = 0
        while True:
            try:
                batch = self.backend.take_messages(self.queue, self.batch_size)
            except ServiceError:  # queue deleted under the trigger: nothing to deliver
                return handed
            if not batch:
                return handed
            handed += len(batch)
            if self.launch is None:
                self._push(batch, now)
            else:  # each push on an instance of its own, as FC runs them
                self.launch(lambda batch=batch: self._push(batch, now))  # type: ignore[misc]

    def next_due(self, now: float) -> float | None:
        try:
            return self.backend.next_visible(self.queue)
        except ServiceError:
            return None

    # ------------------------------------------------------------------ one push
    def _push(self, batch: list[FakeMessage], now: float) -> None:
        subject = f"acs:mns:{self.backend.region}:{self.backend.account_id}:queues/{self.queue}"
        events = [cloud_event(m, source=self.source, subject=subject, region=self.backend.region,
                              account_id=self.backend.account_id, base64_decode=self.base64_decode, now=now)
                  for m in batch]
        payload = json.dumps(events, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            self.sink(payload)
        except Exception as exc:  # the function failed: EventBridge retries, then dead-letters
            error = f"{type(exc).__name__}: {exc}"
            log.info("trigger %s: sink failed for %d message(s): %s", self.name, len(batch), error)
            self.errors.append(error)
            for message in batch:
                self._failed(message, error)
            return
        for message in batch:
            self._failures.pop(message.message_id, None)
            self._settle(message)
            self.delivered += 1

    def _failed(self, message: FakeMessage, error: str) -> None:
        attempts = self._failures.get(message.message_id, 0) + 1
        if attempts <= self.max_retries:
            self._failures[message.message_id] = attempts
            delay = self.backoff[min(attempts - 1, len(self.backoff) - 1)]
            try:
                self.backend.change_message_visibility(self.queue, message.receipt_handle or "", int(delay),
                                                      client=False)
            except ServiceError:
                pass  # handle expired while the sink ran: the queue redelivers it anyway
            return
        self._failures.pop(message.message_id, None)
        if self.dead_letter_queue:
            self.backend.send_message(self.dead_letter_queue, message.body, priority=message.priority)
        self.dead.append(DeadEvent(message.message_id, message.body, attempts, error, self.dead_letter_queue))
        self._settle(message)

    def _settle(self, message: FakeMessage) -> None:
        try:
            self.backend.delete_message(self.queue, message.receipt_handle or "")
        except ServiceError:
            pass  # visibility ran out during the sink: at-least-once, the message comes again
