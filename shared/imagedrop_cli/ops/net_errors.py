"""One short reason for an SDK error that never reached the service (refused, unresolved, timed
out…), instead of the SDK's nested dict of urllib3 reprs."""

from __future__ import annotations

_REASONS = (
    (("connection refused", "errno 111", "econnrefused"), "connection refused: nothing listens there"),
    (("nameresolutionerror", "name or service not known", "nodename nor servname",
      "temporary failure in name resolution", "getaddrinfo failed", "no address associated"),
     "the host name does not resolve"),
    (("timed out", "timeout"), "timed out"),
    (("connection reset", "connection aborted", "remotedisconnected", "broken pipe"),
     "the connection was dropped"),
    (("ssl", "certificate"), "TLS failed"),
    (("network is unreachable", "no route to host"), "the network is unreachable"),
)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen) or len(seen) > 20:
            continue
        seen.append(current)
        for attr in ("exception", "inner_exception", "__cause__", "__context__", "reason"):
            value = getattr(current, attr, None)
            if isinstance(value, BaseException):
                todo.append(value)
        todo.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
    return seen


def network_reason(exc: BaseException) -> str | None:
    """A few words for a transport failure, or None when `exc` is not one (a service answered)."""
    text = " ".join(f"{type(e).__name__} {e}" for e in _chain(exc)).lower()
    for needles, reason in _REASONS:
        if any(n in text for n in needles):
            return reason
    return None


def short_reason(exc: BaseException, limit: int = 120) -> str:
    """`network_reason`, else the exception's first line, cut at `limit` characters."""
    reason = network_reason(exc)
    if reason:
        return reason
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"
