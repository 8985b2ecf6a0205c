"""`MnsBackend`: the queues and topics of one account, on the cloud's emulated clock.

One condition variable guards all state: a send or a visibility change wakes long-polling
receivers. Deliveries to HTTP subscribers and EventBridge sinks run outside the lock.
"""

from __future__ import annotations

import threading
import time
import urllib.request
import uuid
from typing import Callable

from ...env import CloudEnv

from .. import errors
from .eventbridge import EventBridgeTrigger, Sink
from .queues import MAX_WAIT, FakeMessage, FakeQueue, check_range
from .topics import (NOTIFY_STRATEGIES, FakeSubscription, FakeTopic, FakeTopicMessage, notification,
                     parse_endpoint, push_headers)

POLL_SLICE = 0.05  # real seconds between clock checks while a receive waits (the clock may jump)


class MnsBackend:
    def __init__(self, env: CloudEnv):
        self.env = env
        self.region = env.region
        self.account_id = env.account_id
        self.queues: dict[str, FakeQueue] = {}
        self.topics: dict[str, FakeTopic] = {}
        self.triggers: list[EventBridgeTrigger] = []
        self._cond = threading.Condition(threading.RLock())

    def now(self) -> float:
        return self.env.clock.now()

    def client_scale(self) -> float:
        """Emulated seconds per second of a client's own time. A client of the emulator (a test, a
        person's script) reads and deletes in real time: the visibility timeout it gets from
        ReceiveMessage or ChangeMessageVisibility is that many real seconds, however fast the
        emulated clock runs, or a fast clock would take its receipt handle away while it still
        reads. Delays and the platform's own triggers stay on the emulated clock."""
        return max(1.0, self.env.clock.speed)

    # ------------------------------------------------------------------ queues
    def create_queue(self, name: str, *, visibility_timeout: int = 30, delay_seconds: int = 0,
                     maximum_message_size: int = 65536, message_retention_period: int = 345600,
                     polling_wait_seconds: int = 0, logging_enabled: bool = False) -> FakeQueue:
        """Create a queue; the same attributes again is a no-op, different ones QueueAlreadyExist."""
        with self._cond:
            queue = FakeQueue(name, self.now(), visibility_timeout, delay_seconds, maximum_message_size,
                              message_retention_period, polling_wait_seconds, logging_enabled)
            existing = self.queues.get(name)
            if existing is None:
                self.queues[name] = queue
                return queue
            if existing.attributes() != queue.attributes() or existing.logging_enabled != logging_enabled:
                raise errors.queue_already_exist(name)
            return existing

    def queue(self, name: str) -> FakeQueue:
        with self._cond:
            queue = self.queues.get(name)
            if queue is None:
                raise errors.queue_not_exist(name)
            return queue

    def queue_counts(self, name: str) -> dict[str, int]:
        """ActiveMessages (visible), InactiveMessages (in flight), DelayMessages (not yet visible)."""
        with self._cond:
            return self.queue(name).counts(self.now())

    def set_queue_attributes(self, name: str, **attrs: int | bool) -> FakeQueue:
        with self._cond:
            queue = self.queue(name)
            logging_enabled = attrs.pop("logging_enabled", None)
            queue.configure(**attrs)  # type: ignore[arg-type]
            if logging_enabled is not None:
                queue.logging_enabled = bool(logging_enabled)
            queue.modified = self.now()
            self._cond.notify_all()
            return queue

    def delete_queue(self, name: str) -> None:
        with self._cond:
            self.queue(name)
            del self.queues[name]
            self._cond.notify_all()

    def list_queues(self, prefix: str = "", limit: int = 1000, marker: str = "") -> tuple[list[str], str]:
        """Queue names from `marker`, and the next marker ("" when this is the last page)."""
        with self._cond:
            return _page(self.queues, prefix, limit, marker)

    def list_topics(self, prefix: str = "", limit: int = 1000, marker: str = "") -> tuple[list[str], str]:
        with self._cond:
            return _page(self.topics, prefix, limit, marker)

    def send_message(self, queue: str, body: str | bytes, *, delay_seconds: int | None = None,
                     priority: int = 8, user_properties: tuple[tuple[str, str, str], ...] = (),
                     system_properties: tuple[tuple[str, str, str], ...] = ()) -> FakeMessage:
        """Enqueue `body` exactly as given (bytes must be UTF-8). `delay_seconds=None`: the queue's."""
        if isinstance(body, bytes):
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                raise errors.ServiceError(400, "InvalidArgument", "The value of MessageBody must be UTF-8 "
                                          "text; base64-encode binary bodies.") from None
        with self._cond:
            message = self.queue(queue).send(body, self.now(), delay_seconds=delay_seconds, priority=priority,
                                             user_properties=user_properties,
                                             system_properties=system_properties)
            self._cond.notify_all()
            return message.snapshot()

    def receive_messages(self, queue: str, count: int = 1, *, wait_seconds: float = 0) -> list[FakeMessage]:
        """Up to `count` visible messages, waiting up to `wait_seconds` real seconds for one; each
        stays the receiver's for the queue's VisibilityTimeout in real seconds (`client_scale`).

        MessageNotExist when none arrives. A delayed or invisible message wakes the wait when the
        emulated clock reaches it (a frozen clock never does).
        """
        check_range("waitseconds", int(wait_seconds), 0, MAX_WAIT)
        deadline = time.monotonic() + wait_seconds
        with self._cond:
            while True:
                taken = self.queue(queue).receive(self.now(), count, scale=self.client_scale())
                if taken:
                    return taken
                left = deadline - time.monotonic()
                if left <= 0:
                    raise errors.message_not_exist()
                self._cond.wait(min(left, POLL_SLICE))

    def receive_message(self, queue: str, *, wait_seconds: float = 0) -> FakeMessage:
        return self.receive_messages(queue, 1, wait_seconds=wait_seconds)[0]

    def take_messages(self, queue: str, count: int) -> list[FakeMessage]:
        """Receive without waiting; [] when nothing is visible (used by EventBridge triggers).

        A trigger's push runs in real time, like a client's read: the messages it takes stay its
        own for the VisibilityTimeout in real seconds. On the emulated clock a fast local stack
        would make them visible again while the function still runs, and the trigger would hand
        the same messages over and over instead of ever reaching the next event."""
        with self._cond:
            return self.queue(queue).receive(self.now(), count, scale=self.client_scale())

    def peek_messages(self, queue: str, count: int = 1) -> list[FakeMessage]:
        with self._cond:
            peeked = self.queue(queue).peek(self.now(), count)
        if not peeked:
            raise errors.message_not_exist()
        return peeked

    def delete_message(self, queue: str, receipt_handle: str) -> None:
        with self._cond:
            self.queue(queue).delete(receipt_handle, self.now())

    def change_message_visibility(self, queue: str, receipt_handle: str, visibility_timeout: int, *,
                                  client: bool = True) -> FakeMessage:
        """`client=False`: the platform's own change (an EventBridge retry backoff), on the
        emulated clock; a client's timeout is in its real seconds (see `client_scale`)."""
        scale = self.client_scale() if client else 1.0
        with self._cond:
            message = self.queue(queue).change_visibility(receipt_handle, visibility_timeout, self.now(),
                                                          scale=scale)
            self._cond.notify_all()
            return message

    def next_visible(self, queue: str) -> float | None:
        """When the next delayed or in-flight message of `queue` becomes visible (None: nothing waits)."""
        with self._cond:
            return self.queue(queue).next_visible(self.now())

    # ------------------------------------------------------------------ topics
    def create_topic(self, name: str, *, maximum_message_size: int = 65536,
                     logging_enabled: bool = False) -> FakeTopic:
        with self._cond:
            topic = FakeTopic(name, self.now(), maximum_message_size, logging_enabled)
            existing = self.topics.get(name)
            if existing is None:
                self.topics[name] = topic
                return topic
            if (existing.maximum_message_size, existing.logging_enabled) != (maximum_message_size, logging_enabled):
                raise errors.topic_already_exist(name)
            return existing

    def topic(self, name: str) -> FakeTopic:
        with self._cond:
            topic = self.topics.get(name)
            if topic is None:
                raise errors.topic_not_exist(name)
            return topic

    def set_topic_attributes(self, name: str, *, maximum_message_size: int | None = None,
                             logging_enabled: bool | None = None) -> FakeTopic:
        """SetTopicAttributes: only the attributes given change (MaximumMessageSize, LoggingEnabled)."""
        with self._cond:
            topic = self.topic(name)
            if maximum_message_size is not None:
                topic.maximum_message_size = check_range("MaximumMessageSize", maximum_message_size, 1024, 65536,
                                                         "bytes")
            if logging_enabled is not None:
                topic.logging_enabled = bool(logging_enabled)
            topic.modified = self.now()
            return topic

    def delete_topic(self, name: str) -> None:
        with self._cond:
            self.topic(name)
            del self.topics[name]

    def subscribe(self, topic: str, name: str, endpoint: str, notify_content_format: str = "XML", *,
                  notify_strategy: str = "BACKOFF_RETRY", filter_tag: str = "") -> FakeSubscription:
        """Subscribe a queue (`acs:mns:<region>:<account>:queues/<q>`) or a loopback HTTP URL."""
        parse_endpoint(endpoint, self.region, self.account_id)
        with self._cond:
            owner = self.topic(topic)
            sub = FakeSubscription(topic, name, endpoint, notify_content_format, notify_strategy, filter_tag,
                                   created=self.now())
            existing = owner.subscriptions.get(name)
            if existing is None:
                owner.subscriptions[name] = sub
                return sub
            if not existing.same_as(sub):
                raise errors.subscription_already_exist(topic, name)
            return existing

    def subscription(self, topic: str, name: str) -> FakeSubscription:
        with self._cond:
            sub = self.topic(topic).subscriptions.get(name)
            if sub is None:
                raise errors.subscription_not_exist(topic, name)
            return sub

    def set_subscription_attributes(self, topic: str, name: str, *, notify_strategy: str) -> FakeSubscription:
        """SetSubscriptionAttributes: NotifyStrategy is the one attribute the API changes."""
        with self._cond:
            sub = self.subscription(topic, name)
            if notify_strategy not in NOTIFY_STRATEGIES:
                raise errors.schema_error(f"NotifyStrategy (got {notify_strategy!r}, expected one of "
                                          f"{', '.join(NOTIFY_STRATEGIES)})")
            sub.notify_strategy = notify_strategy
            sub.modified = self.now()
            return sub

    def list_subscriptions(self, topic: str, prefix: str = "", limit: int = 1000,
                           marker: str = "") -> tuple[list[str], str]:
        with self._cond:
            return _page(self.topic(topic).subscriptions, prefix, limit, marker)

    def unsubscribe(self, topic: str, name: str) -> None:
        with self._cond:
            self.subscription(topic, name)
            del self.topic(topic).subscriptions[name]

    def publish_message(self, topic: str, body: str, *, tag: str = "") -> FakeTopicMessage:
        """Publish, then deliver to each matching subscriber: queues now, HTTP through the pump."""
        http: list[tuple[str, str, bytes, dict[str, str]]] = []
        with self._cond:
            owner = self.topic(topic)
            message = owner.publish(body, self.now(), tag)
            for sub in owner.subscriptions.values():
                if not sub.wants(message):
                    continue
                payload, content_type = notification(owner, sub, message, self.account_id)
                kind, target = parse_endpoint(sub.endpoint, self.region, self.account_id)
                if kind == "http":
                    headers = push_headers(sub, message, uuid.uuid4().hex.upper()[:24])
                    http.append((sub.name, target, payload, {"Content-Type": content_type, **headers}))
                    continue
                try:  # a queue subscriber gets the notification as the message body, not base64-encoded
                    self.queue(target).send(payload.decode("utf-8"), self.now())
                    self._cond.notify_all()
                except errors.ServiceError as err:
                    owner.undelivered.append((sub.name, message, f"{err.code}: {err.message}"))
        for name, url, payload, headers in http:
            self.env.pump.deliver_later(f"mns:{topic}/{name}", _http_sink(url, headers), payload)
        return message

    # ------------------------------------------------------------------ EventBridge
    def add_eventbridge_trigger(self, queue: str, *, name: str, sink: Sink, base64_decode: bool = True,
                                batch_size: int = 1, event_schema: str = "CloudEvents", max_retries: int = 3,
                                backoff: tuple[float, ...] = (10, 20, 40), dead_letter_queue: str | None = None,
                                function: str = "function") -> EventBridgeTrigger:
        """Push the queue's messages to `sink` as FC 3.0 CloudEvents arrays, via `env.pump`."""
        self.queue(queue)
        if dead_letter_queue:
            self.queue(dead_letter_queue)
        trigger = EventBridgeTrigger(self, queue, name, sink, function, base64_decode, batch_size, event_schema,
                                     max_retries, tuple(float(b) for b in backoff), dead_letter_queue)
        self.triggers.append(trigger)
        self.env.pump.add_source(trigger)
        return trigger


def _page(items: dict[str, object], prefix: str, limit: int, marker: str) -> tuple[list[str], str]:
    names = sorted(n for n in items if n.startswith(prefix) and n >= marker)
    return names[:limit], names[limit] if len(names) > limit else ""


def _http_sink(url: str, headers: dict[str, str]) -> Callable[[bytes], object]:
    """POST a notification to a loopback subscriber; an error status raises, so the pump retries."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy

    def post(payload: bytes) -> int:
        request = urllib.request.Request(url, data=payload, method="POST", headers=headers)
        with opener.open(request, timeout=10) as response:
            return int(response.status)

    return post
