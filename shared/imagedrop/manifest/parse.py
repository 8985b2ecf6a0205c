"""Manifest bytes → `Manifest`, or every problem as one line a person can act on.

Pydantic's own error texts (URLs, "Value error," prefixes, type names) never reach the user:
each error is turned into `path: what is wrong; what to do`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Union

from pydantic import BaseModel, ValidationError

from ..errors import ManifestError
from . import rules as r
from .choices import DATA_DISK_FIELD_ALIASES, MANIFEST_FIELD_ALIASES
from .field_checks import cross_field_problems
from .model import DataDisk, Manifest, tag_path
from .rules import RuleBroken, json_type_name, suggest

MAX_MANIFEST_BYTES = 256 * 1024

MISSING_HINTS = {
    "image_name": 'add "image_name", e.g. "web-2026.11" (2 to 128 characters)',
    "os_type": 'add "os_type": "linux" or "windows"',
    "platform": 'add "platform", the OS as ECS names it, e.g. "Ubuntu" or "Others Linux"',
    "architecture": 'add "architecture": "x86_64", "i386" or "arm64"',
    "object": "add \"object\", the data disk's key relative to the manifest's folder",
}


@dataclass(frozen=True)
class ManifestProblem:
    """One broken rule: where (a dotted JSON path, empty for the file as a whole) and what to do."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def check_manifest(raw: Union[bytes, str]) -> tuple[Optional[Manifest], list[ManifestProblem]]:
    """The manifest and no problems, or None and every problem found."""
    data, problems = _load_json(raw)
    if data is None:
        return None, problems
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as error:
        problems += _problems_from(error, data)
        return None, _unique(problems)
    return (None, problems) if problems else (manifest, [])


def manifest_problems(raw: Union[bytes, str]) -> list[str]:
    return [str(p) for p in check_manifest(raw)[1]]


def parse_manifest(raw: Union[bytes, str]) -> Manifest:
    manifest, problems = check_manifest(raw)
    if manifest is None:
        raise ManifestError([str(p) for p in problems])
    return manifest


# ---- JSON -----------------------------------------------------------------------------------

class _JsonObject(dict):  # type: ignore[type-arg]
    """A decoded JSON object that remembers the keys it saw more than once."""

    duplicates: list[str]


def _object_hook(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj and key not in obj.duplicates:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _load_json(raw: Union[bytes, str]) -> tuple[Optional[dict[str, Any]], list[ManifestProblem]]:
    def one(message: str) -> tuple[None, list[ManifestProblem]]:
        return None, [ManifestProblem("", message)]

    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > MAX_MANIFEST_BYTES:
        return one(f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes, the limit; a "
                   "manifest describes an image in a few lines, check that this is the right file")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            return one(f"the manifest is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
                       f"{error.start}); save it as UTF-8")
    text = raw.lstrip("\ufeff")
    if not text.strip():
        return one('the manifest is empty; write a JSON object such as {"image_name": '
                   '"web-2026.11", "os_type": "linux", "platform": "Ubuntu", '
                   '"architecture": "x86_64"}')
    try:
        data = json.loads(text, object_pairs_hook=_object_hook, parse_constant=_refuse_constant,
                          parse_int=_parse_int)
    except json.JSONDecodeError as error:
        return one(f"the manifest is not valid JSON: {error.msg} at line {error.lineno}, "
                   f"column {error.colno}; fix the JSON syntax there")
    except _TooLong as error:
        return one(f"the manifest holds {error}, longer than any field takes; check the file")
    except ValueError as error:
        return one(f"the manifest is not valid JSON: {error}; use a number or a string")
    except RecursionError:
        return one("the manifest is nested too deeply to be a manifest; flatten it")
    if not isinstance(data, dict):
        return one(f"the manifest must be a JSON object {{…}}, not {json_type_name(data)}; "
                   'wrap the fields in { }, e.g. {"image_name": "web-2026.11", …}')
    halves = [ManifestProblem(path, f"holds {r.shown(half)}, half of a UTF-16 surrogate pair and "
                              "not a character; fix that \\u escape or save the file as UTF-8")
              for path, half in _lone_surrogates(data, "")]
    if halves:  # text that cannot become UTF-8 must not reach the checks, the API or a log
        return None, halves
    twice = "appears more than once; keep one (JSON keeps only the last, which hides the other)"
    duplicates = [ManifestProblem(path, twice) for path in _duplicate_paths(data, "")]
    return data, duplicates


class _TooLong(ValueError):
    pass


def _parse_int(digits: str) -> int:
    # Python refuses to convert more than 4300 digits, with a message about its own settings.
    if len(digits) > 1000:
        raise _TooLong(f"a number of {len(digits.lstrip('-'))} digits")
    return int(digits)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogates(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, the surrogate) for every key or text holding a lone UTF-16 surrogate, which a JSON
    `\\ud800` escape can produce."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        if found:
            yield path, found.group()
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _SURROGATE.search(key)
            if found:
                yield _join(path, key), found.group()
            else:
                yield from _lone_surrogates(item, _join(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _lone_surrogates(item, f"{path}[{index}]")


def _duplicate_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key in getattr(value, "duplicates", []):
            yield _join(path, key)
        for key, item in value.items():
            yield from _duplicate_paths(item, _join(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _duplicate_paths(item, f"{path}[{index}]")


# ---- pydantic errors → problems ---------------------------------------------------------------

def _problems_from(error: ValidationError, data: dict[str, Any]) -> list[ManifestProblem]:
    problems: list[ManifestProblem] = []
    broken_fields: set[Any] = set()
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        if loc:
            broken_fields.add(loc[0])
        problems.extend(_describe(detail, loc))
    if broken_fields:  # the model-level rules did not run; run them on the fields that are fine
        fine = {name: data.get(name) for name in Manifest.model_fields if name not in broken_fields}
        problems += [ManifestProblem(path, message) for path, message in cross_field_problems(fine)]
    return problems


def _describe(detail: Any, loc: tuple[Any, ...]) -> list[ManifestProblem]:
    path = _path(loc)
    kind = detail["type"]
    broken = (detail.get("ctx") or {}).get("error")
    if isinstance(broken, RuleBroken):
        if broken.items:
            return [ManifestProblem(_join_sub(path, sub), message) for sub, message in broken.items]
        return [ManifestProblem(path, broken.message)]
    if kind == "missing":
        hint = MISSING_HINTS.get(str(loc[-1]), "add it")
        return [ManifestProblem(path, f"required but missing; {hint}")]
    if kind == "extra_forbidden":
        return [ManifestProblem(path, _unknown_field(str(loc[-1]), _model_at(loc)))]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return [ManifestProblem(path, f"expected an object {{…}}, got "
                                f"{json_type_name(detail.get('input'))}; write e.g. "
                                '{"object": "data.raw"}')]
    message = str(detail["msg"]).removeprefix("Value error, ")
    return [ManifestProblem(path, f"{message}; see `imagedrop schema` for what is allowed")]


def _unknown_field(name: str, model: type[BaseModel]) -> str:
    fields = [f.alias or n for n, f in model.model_fields.items()]
    aliases = DATA_DISK_FIELD_ALIASES if model is DataDisk else MANIFEST_FIELD_ALIASES
    hint = suggest(name, fields, aliases)
    if hint:
        return f"unknown field; did you mean {hint}?"
    return f"unknown field; remove it (the fields are: {', '.join(fields)})"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel]:
    return DataDisk if len(loc) > 1 and loc[0] == "data_disks" else Manifest


def _path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    return path


def _join(path: str, key: str) -> str:
    part = tag_path(key)
    if not path:
        return part.lstrip(".") if part.startswith(".") or _plain_top_level(key) else part
    return path + part


def _plain_top_level(key: str) -> bool:
    """A top-level key shown as is (`$schema`, `ImageFamily`): one printable word."""
    return bool(key) and key.isprintable() and not any(ch.isspace() for ch in key) \
        and not key.startswith("[")


def _join_sub(path: str, sub: str) -> str:
    if not path:
        return sub
    return path + (sub if sub.startswith((".", "[")) else f".{sub}")


def _unique(problems: list[ManifestProblem]) -> list[ManifestProblem]:
    return list(dict.fromkeys(problems))
