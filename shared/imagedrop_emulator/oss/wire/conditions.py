"""GET/HEAD preconditions (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) and the
`response-*` query parameters that override response headers on GET (pure)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Mapping

from ...core import ServiceError

RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type", "response-content-language": "Content-Language",
    "response-expires": "Expires", "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


def _failed(condition: str) -> ServiceError:
    return ServiceError(412, "PreconditionFailed",
                        "At least one of the pre-conditions you specified did not hold.",
                        Condition=condition)


def _epoch(value: str) -> float | None:
    if not value:  # the usual case: no condition, and no exception raised to find that out
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None  # an unparsable date is ignored, as HTTP says


def _etags(value: str) -> set[str]:
    return {v.strip().strip('"').upper() for v in value.split(",") if v.strip()}


def not_modified(headers: Mapping[str, str], etag: str, last_modified: float) -> bool:
    """True when the answer is 304 Not Modified; raises 412 PreconditionFailed when a condition fails."""
    if_match, if_none = headers.get("if-match", ""), headers.get("if-none-match", "")
    if if_match and "*" not in if_match and etag.upper() not in _etags(if_match):
        raise _failed("If-Match")
    since = _epoch(headers.get("if-unmodified-since", ""))
    if not if_match and since is not None and int(last_modified) > since:
        raise _failed("If-Unmodified-Since")
    if if_none:
        return "*" in if_none or etag.upper() in _etags(if_none)
    since = _epoch(headers.get("if-modified-since", ""))
    return since is not None and int(last_modified) <= since


def overridden(params: Mapping[str, str]) -> dict[str, str]:
    """Response headers the caller asked for with `response-*` query parameters."""
    return {header: params[name] for name, header in RESPONSE_OVERRIDES.items() if name in params}
