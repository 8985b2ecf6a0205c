"""MNS through `aliyun-mns-sdk`: the tracking queue and the notification topic."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from ..errors import PermanentCloudError, RetryableCloudError
from .credentials import Credentials
from .retry import call_translated

T = TypeVar("T")
MAX_DELAY_SECONDS = 604800


def _translate(exc: Exception, what: str) -> Exception:
    from mns.mns_exception import MNSClientNetworkException, MNSExceptionBase, MNSServerException

    if isinstance(exc, MNSServerException):
        code = exc.type
        retryable = code in ("InternalError", "ServiceUnavailable", "Throttling", "QpsLimitExceeded",
                             "TooManyRequests") or str(code).startswith("Throttling")
        cls = RetryableCloudError if retryable else PermanentCloudError
        return cls("mns", code, f"{what}: {exc.message}", request_id=exc.request_id)
    if isinstance(exc, MNSClientNetworkException) or isinstance(exc, OSError):
        return RetryableCloudError("mns", "NetworkError", f"{what}: {exc}")
    if isinstance(exc, MNSExceptionBase):
        return PermanentCloudError("mns", getattr(exc, "type", "ClientError"), f"{what}: {exc}")
    return exc


class Mns:
    def __init__(self, endpoint: str, *, credentials: Credentials, attempts: int = 4):
        from mns.account import Account

        self._account = Account(endpoint, credentials.access_key_id, credentials.access_key_secret,
                                credentials.security_token or "")
        self.attempts = attempts

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        return call_translated(what, fn, _translate, attempts=self.attempts)

    def send(self, queue: str, body: str, delay_seconds: int = 0) -> str:
        """Send `body` (base64-encoded on the wire, the SDK default); returns the message id."""
        from mns.queue import Message

        message = Message(body)
        message.set_delayseconds(max(0, min(int(delay_seconds), MAX_DELAY_SECONDS)))
        q = self._account.get_queue(queue)
        result: Any = self._call(f"SendMessage {queue}", lambda: q.send_message(message))
        return result.message_id

    def publish(self, topic: str, body: str, tag: str = "") -> str:
        from mns.topic import TopicMessage

        message = TopicMessage(body, tag)
        t = self._account.get_topic(topic)
        result: Any = self._call(f"PublishMessage {topic}", lambda: t.publish_message(message))
        return result.message_id
