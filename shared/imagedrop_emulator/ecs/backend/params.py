"""RPC parameters as the tea SDK flattens them (`Name.N.Sub`), read back into Python values.

Pure functions over the decoded query: no I/O, no state. Every error names the parameter and the
rule, with the code real ECS answers.
"""

from __future__ import annotations

import calendar
import re
import time
from typing import Mapping

from ...core import ServiceError
from .. import errors

_INDEXED = re.compile(r"^(?P<name>[A-Za-z]+)\.(?P<n>\d+)(?:\.(?P<sub>[A-Za-z]+))?$")


def required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise errors.missing(name)
    return value


def boolean(params: Mapping[str, str], name: str, default: bool = False) -> bool:
    """The SDK sends `str(bool)`, so `True`/`False` arrive capitalised; people send `true`."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise errors.invalid(name, f"expected true or false, got {raw!r}")


def integer(params: Mapping[str, str], name: str, default: int | None = None,
            code: str = "InvalidParameter") -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise errors.invalid(name, f"expected an integer, got {raw!r}", code) from None


def indexed(params: Mapping[str, str], name: str) -> dict[int, dict[str, str]]:
    """`Tag.1.Key=a&Tag.1.Value=b` → `{1: {"Key": "a", "Value": "b"}}` (sorted by N)."""
    out: dict[int, dict[str, str]] = {}
    for key, value in params.items():
        m = _INDEXED.match(key)
        if m and m["name"] == name and m["sub"]:
            out.setdefault(int(m["n"]), {})[m["sub"]] = value
    return dict(sorted(out.items()))


def indexed_values(params: Mapping[str, str], name: str) -> dict[int, str]:
    """`AddAccount.1=123&AddAccount.2=456` → `{1: "123", 2: "456"}` (sorted by N)."""
    out: dict[int, str] = {}
    for key, value in params.items():
        m = _INDEXED.match(key)
        if m and m["name"] == name and not m["sub"]:
            out[int(m["n"])] = value
    return dict(sorted(out.items()))


def comma_list(params: Mapping[str, str], name: str) -> list[str]:
    return [part.strip() for part in params.get(name, "").split(",") if part.strip()]


def tags(params: Mapping[str, str], limit: int = 20) -> list[tuple[str, str]]:
    """`Tag.N.Key/Value`, N = 1..limit; a key given twice is `TagKey.Duplication`."""
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for n, entry in indexed(params, "Tag").items():
        if n < 1 or n > limit:
            raise errors.invalid(f"Tag.{n}.Key", f"N must be between 1 and {limit}")
        key = entry.get("Key", "")
        if not key:
            raise errors.missing(f"Tag.{n}.Key")
        if key in seen:
            raise ServiceError(403, "TagKey.Duplication",
                               f"The tag key {key!r} is given more than once; each Tag.N.Key must be unique.")
        seen.add(key)
        pairs.append((key, entry.get("Value", "")))
    return pairs


def paging(params: Mapping[str, str], default_size: int = 10, max_size: int = 100) -> tuple[int, int]:
    number = integer(params, "PageNumber", 1)
    size = integer(params, "PageSize", default_size)
    assert number is not None and size is not None
    if number < 1:
        raise errors.invalid("PageNumber", "it must be 1 or more")
    if not 1 <= size <= max_size:
        raise errors.invalid("PageSize", f"it must be between 1 and {max_size}")
    return number, size


UTC_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ")


def utc_time(params: Mapping[str, str], name: str, code: str | None = None,
             value: str | None = None) -> float | None:
    """An ISO 8601 UTC time parameter (`yyyy-MM-ddTHH:mm:ssZ` or `yyyy-MM-ddTHH:mmZ`) as epoch seconds."""
    raw = params.get(name, "") if value is None else value
    if not raw:
        return None
    for fmt in UTC_FORMATS:
        try:
            return float(calendar.timegm(time.strptime(raw, fmt)))
        except ValueError:
            continue
    raise errors.invalid(name, f"expected a UTC time such as 2026-11-25T08:00:00Z or 2026-11-25T08:00Z, got {raw!r}",
                  code or f"Invalid{name}.Malformed")
