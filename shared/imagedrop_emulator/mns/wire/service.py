"""`MnsWire`: the MNS HTTP API (XML, MNS signature) in front of `MnsBackend`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ...core import ServiceError, WireRequest, WireResponse, new_request_id
from ...env import CloudEnv
from . import auth, xmlcodec
from .. import errors
from ..backend.queues import FakeMessage, as_int, check_range
from .routes import raw_params, route

if TYPE_CHECKING:
    from ..backend.service import MnsBackend

API_VERSION = "2015-06-06"
XML_TYPE = "text/xml;charset=utf-8"
MAX_BATCH = 16
TOPIC_RETENTION = 86400  # topics keep messages one day


def _logging(text: str) -> bool:
    return text.strip().lower() == "true"


def _flag(value: bool) -> str:
    return "True" if value else "False"


def _seconds(t: float) -> int:
    return int(t)


def received_fields(m: FakeMessage) -> list[tuple[str, object]]:
    """All nine elements the SDK's ReceiveMessage decoder requires."""
    return [("MessageId", m.message_id), ("ReceiptHandle", m.receipt_handle or ""),
            ("MessageBodyMD5", m.body_md5), ("MessageBody", m.body), ("EnqueueTime", m.enqueue_time_ms),
            ("NextVisibleTime", m.next_visible_time_ms), ("FirstDequeueTime", m.first_dequeue_time_ms),
            ("DequeueCount", m.dequeue_count), ("Priority", m.priority),
            *xmlcodec.properties_fields(m.user_properties, m.system_properties)]


def peeked_fields(m: FakeMessage) -> list[tuple[str, object]]:
    return [("MessageId", m.message_id), ("MessageBodyMD5", m.body_md5), ("MessageBody", m.body),
            ("EnqueueTime", m.enqueue_time_ms), ("FirstDequeueTime", m.first_dequeue_time_ms),
            ("DequeueCount", m.dequeue_count), ("Priority", m.priority),
            *xmlcodec.properties_fields(m.user_properties, m.system_properties)]


class MnsWire:
    name = "mns"

    def __init__(self, backend: "MnsBackend", env: CloudEnv):
        self.backend = backend
        self.env = env
        self._handlers: dict[str, Callable[[WireRequest, list[str], bytes], WireResponse]] = {
            name[len("op_"):]: getattr(self, name) for name in dir(self) if name.startswith("op_")}

    # ------------------------------------------------------------------ WireService
    def action_of(self, req: WireRequest) -> str:
        return self._route(req)[0]

    def _route(self, req: WireRequest) -> tuple[str, list[str]]:
        head = b""
        if req.method == "POST" and req.content_length:  # the root element tells batch from single sends
            req.body.seek(0)
            head = req.body.read(256)
            req.body.seek(0)
        return route(req.method, req.path, req.query, head)

    def handle(self, req: WireRequest) -> WireResponse:
        action, names = self._route(req)
        body = req.body_bytes(1024 * 1024) if req.content_length else b""
        auth.verify(req, body, self.env.credentials)
        handler = self._handlers.get(action)
        if handler is None:
            raise ServiceError(400, "InvalidRequestURL", f"Http request URL format invalid. ({action} is not "
                               "emulated)")
        return handler(req, names, body)

    def error_response(self, err: ServiceError, req: WireRequest) -> WireResponse:
        request_id = new_request_id()
        fields = [("Code", err.code), ("Message", err.message), ("RequestId", request_id),
                  ("HostId", self._host(req)), *err.extra.items()]
        return WireResponse(err.status, {"Content-Type": XML_TYPE, "x-mns-request-id": request_id,
                                         "x-mns-version": API_VERSION}, xmlcodec.render("Error", fields))

    def throttle_error(self) -> ServiceError:
        return errors.too_many_requests()

    # ------------------------------------------------------------------ helpers
    def _host(self, req: WireRequest) -> str:
        return f"http://{req.host or f'{self.backend.account_id}.mns.{self.backend.region}.aliyuncs.com'}"

    @staticmethod
    def _ok(status: int, body: bytes = b"", **headers: str) -> WireResponse:
        base = {"x-mns-request-id": new_request_id(), "x-mns-version": API_VERSION}
        if body:
            base["Content-Type"] = XML_TYPE
        return WireResponse(status, {**base, **headers}, body)

    @staticmethod
    def _count(req: WireRequest) -> int:
        return check_range("numOfMessages", as_int("numOfMessages", raw_params(req.query).get("numOfMessages")),
                           1, MAX_BATCH, "")

    # ------------------------------------------------------------------ queues
    @staticmethod
    def _queue_attrs(body: bytes) -> dict[str, int | bool]:
        f = xmlcodec.parse(body, "Queue") if body else {}
        attrs: dict[str, int | bool] = {key: as_int(element, f[element]) for key, element in (
            ("visibility_timeout", "VisibilityTimeout"), ("delay_seconds", "DelaySeconds"),
            ("maximum_message_size", "MaximumMessageSize"), ("message_retention_period", "MessageRetentionPeriod"),
            ("polling_wait_seconds", "PollingWaitSeconds")) if f.get(element)}
        if f.get("LoggingEnabled"):
            attrs["logging_enabled"] = _logging(f["LoggingEnabled"])
        return attrs

    def op_CreateQueue(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        existed = names[0] in self.backend.queues
        self.backend.create_queue(names[0], **self._queue_attrs(body))  # type: ignore[arg-type]
        return self._ok(204 if existed else 201, Location=f"{self._host(req)}/queues/{names[0]}")

    def op_SetQueueAttributes(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        self.backend.set_queue_attributes(names[0], **self._queue_attrs(body))
        return self._ok(204)

    def op_GetQueueAttributes(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        q = self.backend.queue(names[0])
        counts = self.backend.queue_counts(names[0])
        fields = [("QueueName", q.name), ("CreateTime", _seconds(q.created)),
                  ("LastModifyTime", _seconds(q.modified)), ("VisibilityTimeout", q.visibility_timeout),
                  ("MaximumMessageSize", q.maximum_message_size),
                  ("MessageRetentionPeriod", q.message_retention_period), ("DelaySeconds", q.delay_seconds),
                  ("PollingWaitSeconds", q.polling_wait_seconds), *counts.items(),
                  ("LoggingEnabled", _flag(q.logging_enabled))]
        return self._ok(200, xmlcodec.render("Queue", fields))

    def op_DeleteQueue(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        self.backend.delete_queue(names[0])
        return self._ok(204)

    def op_ListQueue(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        return self._list(req, "queues", self.backend.list_queues)

    def op_ListTopic(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        return self._list(req, "topics", self.backend.list_topics)

    def _list(self, req: WireRequest, kind: str, lister: Callable[[str, int, str], tuple[list[str], str]]
              ) -> WireResponse:
        limit = check_range("x-mns-ret-number", as_int("x-mns-ret-number", req.header("x-mns-ret-number"), 1000),
                            1, 1000, "")
        page, marker = lister(req.header("x-mns-prefix"), limit, req.header("x-mns-marker"))
        element = kind[:-1].capitalize()
        items = [[(f"{element}URL", f"{self._host(req)}/{kind}/{n}")] for n in page]
        return self._ok(200, xmlcodec.render_list(kind.capitalize(), element, items,
                                                  [("NextMarker", marker)] if marker else []))

    def _send_args(self, f: dict[str, str], user: xmlcodec.Properties = (),
                   system: xmlcodec.Properties = ()) -> dict[str, object]:
        delay = f.get("DelaySeconds")
        return {"delay_seconds": as_int("DelaySeconds", delay) if delay else None,
                "priority": as_int("Priority", f.get("Priority"), 8),
                "user_properties": user, "system_properties": system}

    def op_SendMessage(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        f, user, system = xmlcodec.parse_messages(body, "Message")[0]
        m = self.backend.send_message(names[0], f.get("MessageBody", ""),
                                      **self._send_args(f, user, system))  # type: ignore[arg-type]
        handle = [("ReceiptHandle", m.receipt_handle)] if m.receipt_handle else []  # delayed messages only
        return self._ok(201, xmlcodec.render("Message", [("MessageId", m.message_id),
                                                         ("MessageBodyMD5", m.body_md5), *handle]))

    def op_BatchSendMessage(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        entries = xmlcodec.parse_messages(body, "Messages", "Message")
        check_range("the number of Message", len(entries), 1, MAX_BATCH, "")
        results, failed = [], False
        for f, user, system in entries:
            try:
                m = self.backend.send_message(names[0], f.get("MessageBody", ""),
                                              **self._send_args(f, user, system))  # type: ignore[arg-type]
                results.append([("MessageId", m.message_id), ("MessageBodyMD5", m.body_md5)])
            except ServiceError as err:
                if err.code in ("QueueNotExist",):
                    raise
                failed = True
                results.append([("ErrorCode", err.code), ("ErrorMessage", err.message)])
        return self._ok(400 if failed else 201, xmlcodec.render_list("Messages", "Message", results))

    def _wait(self, req: WireRequest, queue: str) -> int:
        text = raw_params(req.query).get("waitseconds")
        default = self.backend.queue(queue).polling_wait_seconds
        return check_range("waitseconds", as_int("waitseconds", text, default), 0, 30)

    def op_ReceiveMessage(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        m = self.backend.receive_message(names[0], wait_seconds=self._wait(req, names[0]))
        return self._ok(200, xmlcodec.render("Message", received_fields(m)))

    def op_BatchReceiveMessage(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        taken = self.backend.receive_messages(names[0], self._count(req), wait_seconds=self._wait(req, names[0]))
        return self._ok(200, xmlcodec.render_list("Messages", "Message", map(received_fields, taken)))

    def op_PeekMessage(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        m = self.backend.peek_messages(names[0], 1)[0]
        return self._ok(200, xmlcodec.render("Message", peeked_fields(m)))

    def op_BatchPeekMessage(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        peeked = self.backend.peek_messages(names[0], self._count(req))
        return self._ok(200, xmlcodec.render_list("Messages", "Message", map(peeked_fields, peeked)))

    def op_DeleteMessage(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        handle = raw_params(req.query).get("ReceiptHandle", "")
        if not handle:
            raise errors.missing("ReceiptHandle")
        self.backend.delete_message(names[0], handle)
        return self._ok(204)

    def op_BatchDeleteMessage(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        handles = xmlcodec.parse_values(body, "ReceiptHandles", "ReceiptHandle")
        check_range("the number of ReceiptHandle", len(handles), 1, MAX_BATCH, "")
        failures = []
        for handle in handles:
            try:
                self.backend.delete_message(names[0], handle)
            except ServiceError as err:
                if err.code == "QueueNotExist":
                    raise
                failures.append([("ErrorCode", err.code), ("ErrorMessage", err.message), ("ReceiptHandle", handle)])
        if failures:  # UNVERIFIED status for a partial failure; the body is what the SDK decodes
            return self._ok(404, xmlcodec.render_list("Errors", "Error", failures))
        return self._ok(204)

    def op_ChangeMessageVisibility(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        params = raw_params(req.query)
        handle = params.get("ReceiptHandle", "")
        if not handle:
            raise errors.missing("ReceiptHandle")
        timeout = as_int("VisibilityTimeout", params.get("VisibilityTimeout"))
        m = self.backend.change_message_visibility(names[0], handle, timeout)
        return self._ok(200, xmlcodec.render("ChangeVisibility", [("ReceiptHandle", m.receipt_handle),
                                                                  ("NextVisibleTime", m.next_visible_time_ms)]))

    # ------------------------------------------------------------------ topics
    def op_CreateTopic(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        f = xmlcodec.parse(body, "Topic") if body else {}
        existed = names[0] in self.backend.topics
        self.backend.create_topic(names[0], maximum_message_size=as_int(
            "MaximumMessageSize", f.get("MaximumMessageSize"), 65536),
            logging_enabled=_logging(f.get("LoggingEnabled", "")))
        return self._ok(204 if existed else 201, Location=f"{self._host(req)}/topics/{names[0]}")

    def op_SetTopicAttributes(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        f = xmlcodec.parse(body, "Topic") if body else {}
        size = f.get("MaximumMessageSize")
        self.backend.set_topic_attributes(
            names[0], maximum_message_size=as_int("MaximumMessageSize", size) if size else None,
            logging_enabled=_logging(f["LoggingEnabled"]) if f.get("LoggingEnabled") else None)
        return self._ok(204)

    def op_GetTopicAttributes(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        t = self.backend.topic(names[0])
        fields = [("TopicName", t.name), ("CreateTime", _seconds(t.created)),
                  ("LastModifyTime", _seconds(t.modified)), ("MaximumMessageSize", t.maximum_message_size),
                  ("MessageRetentionPeriod", TOPIC_RETENTION), ("MessageCount", len(t.published)),
                  ("LoggingEnabled", _flag(t.logging_enabled))]
        return self._ok(200, xmlcodec.render("Topic", fields))

    def op_DeleteTopic(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        self.backend.delete_topic(names[0])
        return self._ok(204)

    def op_PublishMessage(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        f = xmlcodec.parse(body, "Message")
        m = self.backend.publish_message(names[0], f.get("MessageBody", ""), tag=f.get("MessageTag", ""))
        return self._ok(201, xmlcodec.render("Message", [("MessageId", m.message_id),
                                                         ("MessageBodyMD5", m.body_md5)]))

    def op_Subscribe(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        f = xmlcodec.parse(body, "Subscription")
        if not f.get("Endpoint"):
            raise errors.schema_error("Endpoint (required: a queue ARN or an http:// URL)")
        existed = names[1] in self.backend.topic(names[0]).subscriptions
        self.backend.subscribe(names[0], names[1], f["Endpoint"], f.get("NotifyContentFormat") or "XML",
                               notify_strategy=f.get("NotifyStrategy") or "BACKOFF_RETRY",
                               filter_tag=f.get("FilterTag", ""))
        return self._ok(204 if existed else 201,
                        Location=f"{self._host(req)}/topics/{names[0]}/subscriptions/{names[1]}")

    def op_GetSubscriptionAttributes(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        s = self.backend.subscription(names[0], names[1])
        fields = [("TopicOwner", self.backend.account_id), ("TopicName", s.topic), ("SubscriptionName", s.name),
                  ("Endpoint", s.endpoint), ("NotifyStrategy", s.notify_strategy),
                  ("NotifyContentFormat", s.notify_content_format), ("CreateTime", _seconds(s.created)),
                  ("LastModifyTime", _seconds(s.modified))] + ([("FilterTag", s.filter_tag)] if s.filter_tag else [])
        return self._ok(200, xmlcodec.render("Subscription", fields))

    def op_SetSubscriptionAttributes(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        f = xmlcodec.parse(body, "Subscription")
        if not f.get("NotifyStrategy"):
            raise errors.schema_error("NotifyStrategy (required: BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY; it is "
                                      "the one attribute SetSubscriptionAttributes changes)")
        self.backend.set_subscription_attributes(names[0], names[1], notify_strategy=f["NotifyStrategy"])
        return self._ok(204)

    def op_Unsubscribe(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        self.backend.unsubscribe(names[0], names[1])
        return self._ok(204)

    def op_ListSubscriptionByTopic(self, req: WireRequest, names: list[str], body: bytes) -> WireResponse:
        topic = names[0]
        self.backend.topic(topic)
        limit = check_range("x-mns-ret-number", as_int("x-mns-ret-number", req.header("x-mns-ret-number"), 1000),
                            1, 1000, "")
        page, marker = self.backend.list_subscriptions(topic, req.header("x-mns-prefix"), limit,
                                                       req.header("x-mns-marker"))
        items = [[("SubscriptionURL", f"{self._host(req)}/topics/{topic}/subscriptions/{s}")] for s in page]
        return self._ok(200, xmlcodec.render_list("Subscriptions", "Subscription", items,
                                                  [("NextMarker", marker)] if marker else []))
