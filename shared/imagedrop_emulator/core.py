"""What every fake service shares: the request/response seen on the wire, errors that carry
Alibaba's real codes, the `WireService` protocol and `dispatch`, which answers a request with
the faults the knobs ask for.

A service is a backend (plain state, raises `ServiceError`) plus a wire layer implementing
`WireService`: it names the action of a request, answers it, and renders errors in its own
dialect (OSS XML, ECS JSON, MNS XML). `dispatch` is the one place faults are injected and hooks
run, so the in-process `responses` mount and the loopback HTTP server behave the same.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Protocol
from urllib.parse import parse_qsl, unquote

from .faults import LOST_KINDS, Call, Faults

SPOOL_LIMIT = 4 * 1024 * 1024  # request bodies above this go to a temporary file


def new_request_id() -> str:
    """24 random upper-case hex digits."""
    return os.urandom(12).hex().upper()


def spool(chunks: Iterable[bytes]) -> tuple[BinaryIO, int]:
    """Copy a body into a spooled file (memory while small, disk when large)."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)
    size = 0
    for chunk in chunks:
        if chunk:
            out.write(chunk)
            size += len(chunk)
    out.seek(0)
    return out, size  # type: ignore[return-value]


@dataclass
class WireRequest:
    method: str
    path: str            # raw path as sent, still percent-encoded
    query: str           # raw query string, without '?'
    headers: dict[str, str]  # lower-cased names
    body: BinaryIO = field(default_factory=io.BytesIO)
    content_length: int = 0

    @property
    def host(self) -> str:
        return self.headers.get("host", "")

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def params(self) -> list[tuple[str, str]]:
        """Query parameters decoded as a form (`+` is a space), in order, blanks kept."""
        cached = self.__dict__.get("_params")
        if cached is None or cached[0] != self.query:  # parsed once per query string
            cached = (self.query, parse_qsl(self.query, keep_blank_values=True))
            self.__dict__["_params"] = cached
        return list(cached[1])

    def param_dict(self) -> dict[str, str]:
        return dict(self.params())

    def body_bytes(self, limit: int = 64 * 1024 * 1024) -> bytes:
        self.body.seek(0)
        data = self.body.read(limit + 1)
        if len(data) > limit:
            raise ServiceError(400, "EntityTooLarge", "Request body is too large for this operation.")
        return data


@dataclass
class WireResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    length: int | None = None  # required when body is an iterable

    def body_bytes(self) -> bytes:
        if isinstance(self.body, (bytes, bytearray)):
            return bytes(self.body)
        return b"".join(self.body)


class ServiceError(Exception):
    """An error a real service would answer, with its HTTP status, code and message."""

    def __init__(self, status: int, code: str, message: str, **extra: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


class ConnectionDropped(Exception):
    """Injected fault: the connection is reset before any response is written."""


class WireService(Protocol):
    name: str

    def action_of(self, req: WireRequest) -> str: ...

    def handle(self, req: WireRequest) -> WireResponse: ...

    def error_response(self, err: ServiceError, req: WireRequest) -> WireResponse: ...

    def throttle_error(self) -> ServiceError: ...


def dispatch(service: WireService, req: WireRequest, faults: Faults) -> WireResponse:
    """Answer one request, with the faults the knobs ask for."""
    try:
        action = service.action_of(req)
    except ServiceError as err:
        return service.error_response(err, req)
    kind, latency_ms = faults.decide(service.name, action)
    if latency_ms:
        time.sleep(latency_ms / 1000)
    if kind in ("reset", "throttle", "500", "503"):
        return _fail_before_answer(service, req, action, kind)
    call = Call(service.name, action, req.param_dict(), unquote(req.path))
    for hook in faults.due(call):   # another party acting right before the service does
        hook.then(call)
    try:
        resp = service.handle(req)
    except ServiceError as err:
        resp = service.error_response(err, req)
    if kind in LOST_KINDS:  # done, but the answer never reaches the caller
        return _fail_before_answer(service, req, action, kind.removeprefix("lost-"))
    return resp


def _fail_before_answer(service: WireService, req: WireRequest, action: str, kind: str) -> WireResponse:
    """The answer a fault of `kind` gives instead of the service's ("reset" raises)."""
    if kind == "reset":
        raise ConnectionDropped(f"{service.name}:{action}")
    if kind == "throttle":
        return service.error_response(service.throttle_error(), req)
    code = "InternalError" if kind == "500" else "ServiceUnavailable"
    message = ("The request processing has failed due to some unknown error."
               if kind == "500" else "The request has failed due to a temporary failure of the server.")
    return service.error_response(ServiceError(int(kind), code, message), req)
