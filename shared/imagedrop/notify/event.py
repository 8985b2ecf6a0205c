"""The CloudEvent of a state change, in structured mode, and never larger than a message may be.

MNS refuses a message over 64 KiB, and a webhook gets the same bytes; a disk's guest files, keys
and cloud messages are all of unbounded length. So `fit` cuts the longest texts and lists until
the event fits, and names what it cut in `data.truncated`; the status record keeps everything.
"""

from __future__ import annotations

import json
from typing import Any

from ..model.status import StatusRecord, utc_now_iso

MAX_EVENT_BYTES = 64 * 1024
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
CUT = "…"
# Each round allows texts and lists this long; the last round drops whole fields.
_TEXT_LIMITS = (4096, 1024, 256, 64)
_LIST_LIMITS = (50, 20, 10, 3)
_WHOLE = frozenset({"id", "state", "bucket", "manifest", "region", "image_id", "task_id", "truncated"})


def cloudevent(record: StatusRecord, *, source: str, now: float) -> dict[str, Any]:
    """The CloudEvents 1.0 form of `record`'s current state, at most `MAX_EVENT_BYTES`.

    `id` depends only on the import, its state and its history length, so re-sending the same
    state change yields the same event. `time` is when the state changed (its history entry),
    or `now` for a record without history.
    """
    return fit({
        "specversion": "1.0",
        "id": f"{record.id}-{record.state}-{len(record.history)}",
        "source": source,
        "type": f"imagedrop.import.{record.state}",
        "subject": record.manifest,
        "time": record.history[-1].at if record.history else utc_now_iso(now),
        "datacontenttype": "application/json",
        "data": record.summary(),
    })


def body_bytes(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fit(event: dict[str, Any], limit: int = MAX_EVENT_BYTES) -> dict[str, Any]:
    """`event` itself when it fits in `limit` bytes; else a copy whose longest texts and lists in
    `data` are cut, with `data.truncated` naming the fields cut. What names the import (an OSS
    key is at most 1,023 bytes) is never cut."""
    if len(body_bytes(event)) <= limit:
        return event
    data = dict(event.get("data") or {})
    cut: set[str] = set()
    out = dict(event)
    for text_limit, list_limit in zip(_TEXT_LIMITS, _LIST_LIMITS):
        shortened = {name: value if name in _WHOLE else _shorten(value, text_limit, list_limit)
                     for name, value in data.items()}
        cut |= {name for name in data if shortened[name] != data[name]}
        out["data"] = {**shortened, "truncated": sorted(cut)}
        if len(body_bytes(out)) <= limit:
            return out
    # Still too big (very many short items): leave out the largest fields whole.
    sizes = sorted(out["data"], key=lambda name: len(body_bytes({"v": out["data"][name]})), reverse=True)
    for name in sizes:
        if name in _WHOLE:
            continue
        out["data"][name] = None
        cut.add(name)
        out["data"]["truncated"] = sorted(cut)
        if len(body_bytes(out)) <= limit:
            break
    return out


def _shorten(value: Any, text_limit: int, list_limit: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= text_limit else value[:text_limit] + CUT
    if isinstance(value, list):
        kept = [_shorten(item, text_limit, list_limit) for item in value[:list_limit]]
        return kept + ([f"{CUT} {len(value) - list_limit} more"] if len(value) > list_limit else [])
    if isinstance(value, dict):
        return {key: _shorten(item, text_limit, list_limit) for key, item in value.items()}
    return value
