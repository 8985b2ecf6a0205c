"""What every channel is: it formats an event for its receiver, signs the request, and sends it.

A channel is one module of this package with a `Target` (its settings, secrets marked `SECRET`)
and a `Channel` subclass. `Transport` does the HTTP part they share: retries of transient
answers (5xx, 429, network), the same signed request built afresh for each attempt.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, ClassVar

import requests
from pydantic import AfterValidator, BaseModel, ConfigDict
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from ...config import _check_url, check_whsec
from ...redact import url_host

JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Outgoing:
    """One signed request, as it goes on the wire."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Transient(Exception):
    """A 5xx or 429 answer: worth another try."""


class Refused(Exception):
    """A 4xx answer or an application-level error: another try will not help."""


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class Transport:
    session: requests.Session = field(default_factory=requests.Session)
    timeout: float = 5.0
    attempts: int = 3
    backoff: float = 0.2
    clock: Callable[[], float] = time.time

    def post(self, request: Callable[[float], Outgoing]) -> requests.Response:
        """POST `request(now)`, built again for each attempt (signatures carry the time)."""
        for attempt in Retrying(stop=stop_after_attempt(self.attempts),
                                wait=wait_exponential(multiplier=self.backoff, max=2.0),
                                retry=retry_if_exception(_transient), reraise=True):
            with attempt:
                out = request(self.clock())
                answer = self.session.post(out.url, data=out.body, headers=out.headers,
                                           timeout=self.timeout)
                if answer.status_code == 429 or answer.status_code >= 500:
                    raise Transient(f"HTTP {answer.status_code}")
                if answer.status_code >= 400:
                    raise Refused(f"HTTP {answer.status_code}: {answer.text[:200]}")
                return answer
        raise AssertionError("unreachable")  # pragma: no cover


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, (Transient, requests.ConnectionError, requests.Timeout))


class Channel(ABC):
    """One receiver of events. `kind` names the channel in records; `target` is what of its
    address may be shown; `secrets` are what no error text may quote."""

    kind: ClassVar[str]

    @property
    @abstractmethod
    def target(self) -> str: ...

    @property
    def secrets(self) -> list[str]:
        return []

    @abstractmethod
    def send(self, event: dict[str, Any], transport: Transport) -> None: ...


class HttpChannel(Channel):
    """A channel that POSTs: `format` the payload once, `sign` it per attempt, `check` the answer."""

    def __init__(self, target: Target) -> None:
        self.url = target.url
        self.secret: str | None = getattr(target, "secret", None)   # the channels that sign

    @property
    def target(self) -> str:
        return url_host(self.url)

    @property
    def secrets(self) -> list[str]:
        return [self.url, *([self.secret] if self.secret else [])]

    @abstractmethod
    def format(self, event: dict[str, Any]) -> bytes: ...

    def sign(self, body: bytes, event: dict[str, Any], now: float) -> Outgoing:
        return Outgoing(self.url, body, {"Content-Type": JSON_TYPE})

    def check(self, answer: requests.Response) -> None:
        """Raise `Refused` for an answer that is a 2xx but says the message was not taken."""

    def send(self, event: dict[str, Any], transport: Transport) -> None:
        body = self.format(event)
        self.check(transport.post(lambda now: self.sign(body, event, now)))


def app_error(answer: requests.Response, code_field: str, message_field: str, who: str) -> None:
    """Raise `Refused` when a JSON answer carries a nonzero `code_field` (DingTalk, Lark)."""
    try:
        reply = answer.json()
    except ValueError:
        return
    if isinstance(reply, dict) and reply.get(code_field) not in (None, 0):
        raise Refused(f"{who} {code_field} {reply.get(code_field)}: {reply.get(message_field)}")


def _web_url(value: str) -> str:
    _check_url(value, "the URL")
    return value


def _whsec(value: str) -> str:
    return check_whsec(value)


WebUrl = Annotated[str, AfterValidator(_web_url)]
WebhookSecret = Annotated[str, AfterValidator(_whsec)]


class Target(BaseModel):
    """Where a channel sends, from the settings or from a route; a field the model does not know
    is refused (a misspelt `secret` must not leave a webhook unsigned)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
