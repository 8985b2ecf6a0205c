"""Guest text is data: what a guest's files say leaves the disk library as one plain line of
bounded length, whoever prints it next (a terminal, a log, a notification, a status record).

`clean_model` is applied to the facts and findings on their way out (in `read_guest`), so no
fact reader can forget it: terminal escape sequences (CSI `ESC [ … m`, OSC `ESC ] … ESC \\`
such as OSC-8 links) and other control characters are removed, line breaks and runs of blanks
become one space, and a value is cut to MAX_VALUE characters (a sentence that quotes values to
MAX_SENTENCE) with an ellipsis. Escapes that a format defines (fstab's `\\NNN`) are decoded by
its reader before.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TypeVar

from pydantic import BaseModel

MAX_VALUE = 256
MAX_SENTENCE = 1024
MAX_ITEMS = 64           # entries a list of values keeps; the last one says how many were cut
ELLIPSIS = "…"
SENTENCES = frozenset({"notes", "fact", "fix"})   # our own words quoting guest values

_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"      # OSC … BEL or ST (OSC-8 links too)
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"       # the same, 8-bit introducer
    r"|\x1b[P^_X][^\x1b\x9c]*(?:\x1b\\|\x9c)?"          # DCS, PM, APC, SOS strings
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"               # CSI … final byte (colours, cursor)
    r"|\x1b[ -/]*[0-~]?")                               # any other ESC sequence
_SPACES = re.compile(r"[\s\x85\u2028\u2029]+")      # line breaks and runs of blanks
# Characters that move or reorder what a reader sees without being text: bidi overrides and
# isolates, besides the C0/C1 controls (Unicode category Cc).
_INVISIBLE = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(value: str, limit: int = MAX_VALUE) -> str:
    """`value` as one printable line of at most `limit` characters."""
    value = _ESCAPE_SEQUENCE.sub("", value)
    value = _SPACES.sub(" ", value)
    value = "".join(ch for ch in value
                    if ch not in _INVISIBLE and unicodedata.category(ch) != "Cc")
    value = value.strip()
    return value if len(value) <= limit else value[:limit - 1].rstrip() + ELLIPSIS


M = TypeVar("M", bound=BaseModel)


def clean_model(model: M) -> M:
    """`model` with every string in it cleaned, in nested models and lists too."""
    return model.model_copy(update={name: _clean_field(name, getattr(model, name))
                                    for name in type(model).model_fields})


def clean_notes(notes: list[str]) -> list[str]:
    cleaned = _clean_field("notes", notes)
    return [v for v in cleaned if isinstance(v, str)] if isinstance(cleaned, list) else []


def _clean_field(name: str, value: object) -> object:
    limit = MAX_SENTENCE if name in SENTENCES else MAX_VALUE
    if isinstance(value, str):
        return clean_text(value, limit)
    if isinstance(value, BaseModel):
        return clean_model(value)
    if isinstance(value, list):
        kept = [_clean_field(name, v) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS and all(isinstance(v, str) for v in kept):
            kept[-1] = f"… and {len(value) - MAX_ITEMS + 1} more"
        return kept
    return value
