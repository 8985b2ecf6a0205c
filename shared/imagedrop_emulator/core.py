"""What every fake service shares: the request/response seen on the wire, errors that carry
Alibaba's real codes, an accelerable clock, and fault knobs.

A service is a backend (plain state, raises `ServiceError`) plus a wire layer implementing
`WireService`: it names the action of a request, answers it, and renders errors in its own
dialect (OSS XML, ECS JSON, MNS XML). `dispatch` is the one place faults are injected, so the
in-process `responses` mount and the loopback HTTP server behave the same.
"""

from __future__ import annotations

import io
import os
import random
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Literal, Protocol
from urllib.parse import parse_qsl

SPOOL_LIMIT = 4 * 1024 * 1024  # request bodies above this go to a temporary file


def new_request_id() -> str:
    """24 random upper-case hex digits (what uuid4().hex.upper()[:24] gave, without the UUID)."""
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


# --------------------------------------------------------------------------- clock


class Clock:
    """Emulated wall time. `speed` multiplies real time (0 freezes it); `advance` jumps ahead.

    Import tasks, message delays and the platform's own retries read this clock, so a test can
    play thirty minutes of import in a millisecond and `local up` can run at 60x. What a client
    holds in its own time (an MNS receipt handle) is given in real seconds (`MnsBackend.client_scale`).
    """

    def __init__(self, speed: float = 1.0, start: float | None = None):
        self._lock = threading.Lock()
        self._speed = speed
        self._real0 = time.monotonic()
        self._emu0 = time.time() if start is None else start

    def now(self) -> float:
        with self._lock:
            return self._emu0 + (time.monotonic() - self._real0) * self._speed

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._emu0 += seconds

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        with self._lock:
            now = self._emu0 + (time.monotonic() - self._real0) * self._speed
            self._real0, self._emu0, self._speed = time.monotonic(), now, speed


# --------------------------------------------------------------------------- faults

FaultKind = Literal["throttle", "500", "503", "reset", "latency", "lost-reset", "lost-500", "lost-503"]
FAULT_KINDS: tuple[str, ...] = ("throttle", "500", "503", "reset", "latency",
                                "lost-reset", "lost-500", "lost-503")
# A lost response: the service carries the request out, then the client sees a reset or a 5xx
# instead of the answer (the import started, the message was queued, yet the caller cannot know).
LOST_KINDS: frozenset[str] = frozenset({"lost-reset", "lost-500", "lost-503"})


@dataclass
class FaultRule:
    service: str            # "oss" | "ecs" | "mns" | "fc" | "*"
    action: str             # e.g. "ImportImage", "PutObject", "SendMessage", or "*"
    kind: FaultKind
    rate: float = 1.0       # probability per matching call
    times: int | None = None  # fire at most this many times (None: no limit)
    latency_ms: int = 0
    fired: int = 0

    def matches(self, service: str, action: str) -> bool:
        return self.service in ("*", service) and self.action in ("*", action)


_SPEC = re.compile(
    r"^(?P<service>[a-z*]+):(?P<action>[A-Za-z*]+)"
    r":(?P<kind>throttle|500|503|reset|latency|lost-reset|lost-500|lost-503)"
    r"(?:=(?P<ms>\d+)ms)?(?:@(?P<rate>[0-9.]+))?(?:\*(?P<times>\d+))?$"
)


class Faults:
    """Fault knobs per service and action: at a rate, a number of times, or a scripted sequence.

    Spec strings (flags, `IMAGEDROP_FAULTS`): `ecs:ImportImage:throttle*2` (the next two calls),
    `oss:GetObject:503@0.1` (10% of calls), `mns:*:latency=50ms`, comma-separated.
    `throttle`, `500`, `503` and `reset` fail the call before the service sees it; `lost-reset`,
    `lost-500` and `lost-503` let the service carry it out, then reset the connection or answer
    the 5xx instead of its response (`ecs:ImportImage:lost-reset*1`: the task exists, the caller
    saw a reset).
    """

    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._scripts: dict[tuple[str, str], list[str | None]] = {}
        self._random = random.Random(seed)
        self.injected: list[tuple[str, str, str]] = []

    def add(self, service: str, action: str, kind: FaultKind, *, rate: float = 1.0,
            times: int | None = None, latency_ms: int = 0) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        rule = FaultRule(service, action, kind, rate, times, latency_ms)
        with self._lock:
            self._rules.append(rule)
        return rule

    def script(self, service: str, action: str, sequence: list[str | None]) -> None:
        """The next calls of (service, action) get these faults in order; None lets one through."""
        with self._lock:
            self._scripts[(service, action)] = list(sequence)

    def add_spec(self, spec: str) -> None:
        """Add every rule of a comma-separated spec, or none of them if any part is invalid."""
        parsed: list[tuple[re.Match[str], float]] = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            m = _SPEC.match(part)
            try:
                if not m:
                    raise ValueError("it does not match the form")
                rate = float(m["rate"] or 1.0)
                if not 0.0 <= rate <= 1.0:
                    raise ValueError(f"rate {m['rate']} is not between 0 and 1")
            except ValueError as exc:
                raise ValueError(
                    f"fault spec {part!r}: {exc}; expected service:action:kind[=Nms][@rate][*times] "
                    "with kind one of throttle, 500, 503, reset, latency, lost-reset, lost-500, "
                    "lost-503 and rate in 0..1, "
                    "e.g. ecs:ImportImage:throttle*2 or oss:*:latency=20ms") from None
            parsed.append((m, rate))  # type: ignore[arg-type]  # m is set when no error was raised
        for m, rate in parsed:
            self.add(m["service"], m["action"], m["kind"],  # type: ignore[arg-type]
                     rate=rate, times=int(m["times"]) if m["times"] else None,
                     latency_ms=int(m["ms"] or 0))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._scripts.clear()

    def decide(self, service: str, action: str) -> tuple[str | None, int]:
        """The fault for this call (or None) and a latency to add, in milliseconds."""
        with self._lock:
            latency = 0
            kind: str | None = None
            script = self._scripts.get((service, action))
            if script:
                kind = script.pop(0)
                if kind:
                    self.injected.append((service, action, kind))
            # Latency rules add up whatever their place in the list; the first other fault wins.
            for rule in self._rules:
                if not rule.matches(service, action) or (kind and rule.kind != "latency"):
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.rate < 1.0 and self._random.random() >= rule.rate:
                    continue
                rule.fired += 1
                if rule.kind == "latency":
                    latency += rule.latency_ms
                    continue
                kind = rule.kind
                self.injected.append((service, action, kind))
            return kind, latency


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
