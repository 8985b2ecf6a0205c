"""ListObjects paging over sorted keys: prefix, marker, delimiter, max-keys (pure)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from ...core import ServiceError


@dataclass
class ListPage:
    keys: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    next_marker: str = ""


def check_max_keys(raw: str | None, default: int = 100) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 1 <= value <= 1000:
        raise ServiceError(400, "InvalidArgument", "max-keys must be an integer between 1 and 1000.",
                           ArgumentName="max-keys", ArgumentValue=str(raw))
    return value


def list_keys(sorted_keys: list[str], *, prefix: str = "", marker: str = "", delimiter: str = "",
              max_keys: int = 100) -> ListPage:
    """One page of keys after `marker`; with a delimiter, keys sharing the part of their name up to
    the next delimiter after `prefix` collapse into one common prefix (which counts as one entry)."""
    page = ListPage()
    start = bisect_right(sorted_keys, marker) if marker else 0
    if prefix:
        start = max(start, bisect_left(sorted_keys, prefix))
    last_prefix = ""
    count = 0
    i = start
    n = len(sorted_keys)
    while i < n:
        key = sorted_keys[i]
        if not key.startswith(prefix):  # keys with the prefix are contiguous from `start`
            break
        entry = key
        common = ""
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[:cut + len(delimiter)]
        if common:
            if common == last_prefix or (marker and common <= marker):
                i += 1
                continue
            entry = common
        if count == max_keys:
            page.truncated = True
            break
        if common:
            page.prefixes.append(common)
            last_prefix = common
        else:
            page.keys.append(key)
        page.next_marker = entry
        count += 1
        i += 1
    if not page.truncated:
        page.next_marker = ""
    return page
