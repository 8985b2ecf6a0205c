"""What of a URL may be shown: scheme, host and port. The rest is secret as often as not: a
`user:password@` part, DingTalk's `access_token` and `sign`, the path of a Slack incoming webhook.
Nothing here raises, whatever the text."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel

HIDDEN = "…"
_MIN_SECRET = 4  # shorter pieces ("/", "a=1") are not worth hiding and would garble the text
# Query parameters that hold a secret wherever they appear (DingTalk signs its URL per request).
_SECRET_PARAMS = re.compile(r"(?i)\b(access_token|token|sign|signature|secret|key)=[^&\s'\"]+")


def shown_url(url: str) -> str:
    """`scheme://host[:port]`, then `/…` when anything followed; never the userinfo, path or
    query. A string that is not a URL shows its scheme and host as far as they can be told."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    host = authority.rpartition("@")[2]
    host = "".join(c for c in host if c.isprintable() and not c.isspace()) or "(no host)"
    return f"{scheme}{sep}{host}{'/' + HIDDEN if tail.strip('/') else ''}"


def url_host(url: str) -> str:
    """`host[:port]` of `url`, without any `user:password@`; `(invalid URL)` when there is none."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = ""
    return netloc.rpartition("@")[2] or "(invalid URL)"


def secret_parts(url: str) -> list[str]:
    """The pieces of `url` that must never be printed, longest first."""
    parts = [url]
    try:
        split = urlsplit(url)
        parts += [split.netloc.rpartition("@")[0], split.password or "", split.path,
                  split.query, split.fragment]
        parts += [value for _, value in parse_qsl(split.query, keep_blank_values=True)]
    except ValueError:
        parts += [url.partition("://")[2]]
    return sorted({p for p in parts if len(p) >= _MIN_SECRET}, key=len, reverse=True)


def scrub(text: str, urls: list[str]) -> str:
    """`text` with every secret piece of each of `urls` replaced (exception texts quote URLs)."""
    for url in urls:
        shown = shown_url(url)
        text = text.replace(url, shown)
        for part in secret_parts(url):
            text = text.replace(part, HIDDEN)
    return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}={HIDDEN}", text)


# A setting or a routes-file field that holds a secret (a signing key, or a URL that carries its
# token) says so on its pydantic field: `Field(..., json_schema_extra=SECRET)`. Redaction and the
# start-up checks read the mark instead of keeping their own lists.
SECRET: dict[str, bool] = {"secret": True}


def secret_fields(model: type[BaseModel]) -> set[str]:
    """The names of `model`'s fields marked `SECRET`."""
    return {name for name, info in model.model_fields.items()
            if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret")}


def _hidden(value: Any) -> Any:
    if isinstance(value, str):
        return shown_url(value) if "://" in value else HIDDEN
    if isinstance(value, list):
        return [_hidden(item) for item in value]
    return value if value is None else HIDDEN


def redacted(value: Any) -> Any:
    """`value` as JSON-ready data, each field marked `SECRET` (at any depth) shown as `…`, or as
    its URL's scheme and host."""
    if isinstance(value, BaseModel):
        marked = secret_fields(type(value))
        return {name: _hidden(getattr(value, name)) if name in marked else redacted(getattr(value, name))
                for name in type(value).model_fields}
    if isinstance(value, (list, tuple)):
        return [redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    return value
