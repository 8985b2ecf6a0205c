"""Fault knobs: which calls of which service fail, how, how often."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Callable, Literal

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


@dataclass(frozen=True)
class Call:
    """A call about to be carried out, as a hook sees it: its query parameters and its path
    (percent-decoded: an OSS key reads as it was named)."""

    service: str
    action: str
    params: dict[str, str] = field(default_factory=dict)
    path: str = "/"


@dataclass
class Hook:
    """`then` runs right before the service carries out a matching call for which `when` holds
    (the call waits for it): another party acting at that exact moment."""

    service: str
    action: str
    then: Callable[[Call], None]
    when: Callable[[Call], bool] | None = None
    times: int | None = 1     # None: every matching call
    fired: int = 0


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
        self._hooks: list[Hook] = []
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

    def before(self, service: str, action: str, then: Callable[[Call], None], *,
               when: Callable[[Call], bool] | None = None, times: int | None = 1) -> Hook:
        """Run `then` right before the service carries out the next call of (service, action)
        that `when` accepts (`times` such calls; None: all). A call a fault stops before the
        service sees it runs no hook; a lost answer's call does (the service carried it out)."""
        hook = Hook(service, action, then, when, times)
        with self._lock:
            self._hooks.append(hook)
        return hook

    def due(self, call: Call) -> list[Hook]:
        """The hooks this call fires. `when` is asked outside the lock (it may look at the
        cloud); each turn is then taken under it, so two calls at once cannot both take a
        hook's last one. The caller runs them."""
        with self._lock:
            candidates = [h for h in self._hooks if h.service in ("*", call.service)
                          and h.action in ("*", call.action)]
        wanted = [h for h in candidates if h.when is None or h.when(call)]
        with self._lock:
            fired = [h for h in wanted if h.times is None or h.fired < h.times]
            for hook in fired:
                hook.fired += 1
            return fired

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._scripts.clear()
            self._hooks.clear()

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
