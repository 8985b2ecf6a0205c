"""Value rules of the sidecar manifest, as pure functions over raw JSON values.

Each `check_*` takes the raw value and returns the normalised one, or raises `RuleBroken` whose
message says what is wrong and how to fix it (the field name is added by the caller). The same
character classes feed the JSON Schema, so editors and imagedrop agree.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any, Iterable, Mapping, Sequence


class RuleBroken(ValueError):
    """A raw value breaks a manifest rule.

    `items` holds (sub-path, message) pairs when one value breaks several rules at different
    places (e.g. two bad tag keys); `message` alone is used otherwise.
    """

    def __init__(self, message: str, items: Sequence[tuple[str, str]] = ()):
        super().__init__(message)
        self.message = message
        self.items = list(items)


# CJK Unified Ideographs, extensions A to I, and the compatibility ideographs. Han-script
# punctuation such as 々 and 〇 is deliberately not included: the API speaks of "Chinese
# characters".
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
    (0x20000, 0x2A6DF), (0x2A700, 0x2EBEF), (0x2EBF0, 0x2EE5F), (0x2F800, 0x2FA1F),
    (0x30000, 0x323AF),
)
# The JSON Schema gets the ranges of the Basic Multilingual Plane only: editors may compile the
# pattern without ECMAScript's `u` flag, where an astral range is an invalid surrogate range.
CJK_CLASS_BMP = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in CJK_RANGES if hi <= 0xFFFF)
NAME_FIRST_CLASS = "A-Za-z" + CJK_CLASS_BMP
IMAGE_NAME_PATTERN = f"^[{NAME_FIRST_CLASS}][A-Za-z0-9._:\\-{CJK_CLASS_BMP}]{{1,127}}$"
RESERVED_PREFIXES = ("aliyun", "acs:")
# ECS refuses `acs:` at the start of a tag value but, unlike a tag key, not `aliyun` (ImportImage
# API reference, Tag.N.Value).
TAG_VALUE_RESERVED_PREFIXES = ("acs:",)
URL_PREFIXES = ("http://", "https://")
REGION_PATTERN = r"^[a-z]{2,}(-[a-z0-9]+)+$"
RESOURCE_GROUP_PATTERN = r"^rg-[a-z0-9]+$"
ACCOUNT_ID_PATTERN = r"^[0-9]{1,20}$"
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
SHOWN_TEXT_MAX = 60
SHOWN_DIGITS_MAX = 24


def case_insensitive_prefix_pattern(prefixes: Iterable[str]) -> str:
    """`^(aliyun|acs:)` spelled without the (?i) flag, which ECMAScript regexes lack."""
    def spell(word: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)
    return "^(" + "|".join(spell(p) for p in prefixes) + ")"


def is_cjk_ideograph(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in CJK_RANGES)


def characters(count: int) -> str:
    return f"{count} character" if count == 1 else f"{count} characters"


def shown(value: Any) -> str:
    """A value quoted for a problem line: Python repr (so control characters and surrogates are
    escaped), cut short when long, and with no '; ' left in it, since '; ' separates the rule from
    the fix in every line."""
    if isinstance(value, str) and len(value) > SHOWN_TEXT_MAX:
        value = value[:SHOWN_TEXT_MAX - 1] + "…"
    if isinstance(value, int) and not isinstance(value, bool):
        digits = len(str(abs(value)))
        if digits > SHOWN_DIGITS_MAX:
            return f"a number of {digits} digits"
    return repr(value).replace("; ", ";\\x20")


def json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and len(str(abs(value))) > SHOWN_DIGITS_MAX:
        return shown(value)
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {shown(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def suggest(value: str, choices: Sequence[str],
            aliases: Mapping[str, str] | None = None) -> str | None:
    """The choice a person most likely meant, or None."""
    folded = value.strip().lower()
    if aliases and folded in aliases:
        return aliases[folded]
    squashed = {re.sub(r"[\s_\-]", "", c.lower()): c for c in choices}
    key = re.sub(r"[\s_\-]", "", folded)
    if key in squashed:
        return squashed[key]
    close = difflib.get_close_matches(folded, [c.lower() for c in choices], n=1, cutoff=0.6)
    if close:
        return next(c for c in choices if c.lower() == close[0])
    return None


def check_choice(value: Any, choices: Sequence[str], *, aliases: Mapping[str, str] | None = None,
                 fix: str = "") -> str:
    if not isinstance(value, str):
        raise RuleBroken(f"expected one of {', '.join(choices)}, got {json_type_name(value)}; "
                         "write one of them in quotes")
    if value in choices:
        return value
    message = f"{shown(value)} is not one of {', '.join(choices)}"
    hint = suggest(value, choices, aliases)
    if hint:
        message += f"; did you mean {hint}?"
    else:
        message += f"; {fix or 'use one of them'}"
    raise RuleBroken(message)


def check_text(value: Any, what: str = "text") -> str:
    if not isinstance(value, str):
        raise RuleBroken(f"expected {what} (a JSON string), got {json_type_name(value)}; "
                         "write it in quotes")
    return value


def check_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        fix = "write it without quotes" if isinstance(value, str) else "write true or false"
        raise RuleBroken(f"expected true or false, got {json_type_name(value)}; {fix}")
    return value


def whole_number(value: Any) -> int | None:
    """`value` as an int when JSON Schema would call it an integer (20 and 20.0, not 20.5 or
    true), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def check_gib(value: Any, *, absent_fix: str) -> int:
    number = whole_number(value)
    if number is None:
        fix = "write a whole number"
        if isinstance(value, float) and math.isfinite(value) and 1 <= value <= 2048:
            fix = f"write a whole number, e.g. {math.ceil(value)}"
        elif isinstance(value, str) and value.strip().isdigit():
            fix = "write the number without quotes"
        raise RuleBroken("expected a whole number of GiB from 1 to 2048, got "
                         f"{json_type_name(value)}; {fix}")
    if not 1 <= number <= 2048:
        size = shown(number) if isinstance(value, int) else repr(value)
        raise RuleBroken(f"{size} GiB is out of range; use 1 to 2048 GiB, {absent_fix}")
    return number


def _reserved_or_url_prefix(text: str) -> str | None:
    folded = text.lower()
    for prefix in RESERVED_PREFIXES + URL_PREFIXES:
        if folded.startswith(prefix):
            return text[: len(prefix)]
    return None


def check_ecs_name(value: Any, *, kind: str, example: str, strict_chars: bool) -> str:
    """Image names and image families: 2–128 characters, first a letter or CJK ideograph,
    never `aliyun…`, `acs:…` or a URL. Image names also allow only `. _ : -` besides letters,
    CJK ideographs and digits."""
    text = check_text(value, f"an {kind}")
    prefix = _reserved_or_url_prefix(text)
    if prefix is not None:
        why = "a URL" if prefix.lower() in URL_PREFIXES else "reserved by Alibaba Cloud"
        raise RuleBroken(f"must not start with {prefix!r} ({why}); choose another {kind} such "
                         f"as {example!r}")
    if not 2 <= len(text) <= 128:
        raise RuleBroken(f"is {characters(len(text))} long; use 2 to 128 characters, "
                         f"e.g. {example!r}")
    first = text[0]
    if not (first.isascii() and first.isalpha()) and not is_cjk_ideograph(first):
        raise RuleBroken(f"starts with {first!r}; start with an ASCII letter or a CJK ideograph, "
                         f"e.g. {example!r}")
    if any(url in text.lower() for url in URL_PREFIXES):
        raise RuleBroken(f"must not contain http:// or https://; remove the URL from the {kind}")
    for position, ch in enumerate(text, start=1):
        if CONTROL_CHARS.match(ch) or (strict_chars and not _image_name_char(ch)):
            raise RuleBroken(f"character {ch!r} at position {position} is not allowed; use "
                             "letters, CJK ideographs, digits, '.', '_', ':' and '-'")
    return text


def _image_name_char(ch: str) -> bool:
    return (ch.isascii() and (ch.isalnum() or ch in "._:-")) or is_cjk_ideograph(ch)


def check_description(value: Any) -> str:
    text = check_text(value, "a description")
    if not 2 <= len(text) <= 256:
        raise RuleBroken(f"is {characters(len(text))} long; use 2 to 256 characters, or remove "
                         "description")
    if text.lower().startswith(URL_PREFIXES):
        raise RuleBroken("must not start with http:// or https://; put words first, e.g. "
                         "'Web tier, see https://…'")
    return text


def check_pattern(value: Any, pattern: str, *, what: str, example: str) -> str:
    text = check_text(value, what)
    if not re.fullmatch(pattern.strip("^$"), text):
        raise RuleBroken(f"{shown(text)} is not {what}; write it like {example!r}")
    return text


def check_region(value: Any) -> str:
    return check_pattern(value, REGION_PATTERN, what="a region id", example="cn-hangzhou")


def tag_problems(key: str, value: Any) -> list[str]:
    problems: list[str] = []
    if not 1 <= len(key) <= 128:
        problems.append(f"tag key is {characters(len(key))} long; use 1 to 128 characters")
    problems.extend(_tag_text_problems("tag key", key, RESERVED_PREFIXES))
    if not isinstance(value, str):
        problems.append(f"tag value must be text, got {json_type_name(value)}; quote it, "
                        "e.g. \"1\"")
        return problems
    if len(value) > 128:
        problems.append(f"tag value is {characters(len(value))} long; use at most 128 characters")
    problems.extend(_tag_text_problems("tag value", value, TAG_VALUE_RESERVED_PREFIXES))
    return problems


def _tag_text_problems(what: str, text: str, reserved: Sequence[str]) -> list[str]:
    folded = text.lower()
    found: list[str] = []
    for prefix in reserved:
        if folded.startswith(prefix):
            found.append(f"{what} must not start with {text[:len(prefix)]!r} (reserved by "
                         f"Alibaba Cloud); {'rename' if what == 'tag key' else 'change'} it")
    if any(url in folded for url in URL_PREFIXES):
        found.append(f"{what} must not contain http:// or https://; remove the URL")
    return found


def object_key_problem(key: Any) -> str | None:
    """Why `key` is not a safe OSS key relative to the manifest's folder, or None."""
    if not isinstance(key, str):
        return (f"expected an object key (a JSON string), got {json_type_name(key)}; write it "
                "in quotes, e.g. 'data.raw'")
    if key == "":
        return ("is empty; give the data disk's key relative to the manifest's folder, "
                "e.g. 'data.raw'")
    if "://" in key:
        return (f"{shown(key)} is a URL; give a key relative to the manifest's folder (the same "
                "bucket), e.g. 'data.raw'")
    if CONTROL_CHARS.search(key):
        return "contains a control character; remove it"
    if "\\" in key:
        return f"{shown(key)} contains '\\'; OSS keys use '/', e.g. 'disks/data.raw'"
    if key.startswith("/"):
        return (f"{shown(key)} starts with '/'; keys are relative to the manifest's folder, "
                "drop the '/'")
    segments = key.split("/")
    if ".." in segments:
        return (f"{shown(key)} has a '..' segment; a data disk must lie in or below the "
                "manifest's folder")
    if "." in segments or "" in segments:
        return (f"{shown(key)} has an empty or '.' segment; write the plain relative key, "
                f"e.g. {'/'.join(s for s in segments if s not in ('', '.')) or 'data.raw'!r}")
    if len(key.encode("utf-8")) > 1000:
        return "is longer than OSS allows for a key once joined to the folder; shorten it"
    return None
