"""JSON Schema fragments for the manifest, built from the same patterns the rules use.

ECMAScript regexes (what editors run) have no (?i) flag, so case-insensitive prefixes are spelled
out as character classes. Rules the schema cannot express (did-you-mean, nothing else) stay in
Python; everything else is here too, so an editor flags what `imagedrop validate` refuses.
"""

from __future__ import annotations

from typing import Any

from . import choices as c
from . import rules as r

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
RESERVED = {"type": "string", "pattern": r.case_insensitive_prefix_pattern(r.RESERVED_PREFIXES)}
TAG_VALUE_RESERVED = {"type": "string",
                      "pattern": r.case_insensitive_prefix_pattern(r.TAG_VALUE_RESERVED_PREFIXES)}
URL_ANYWHERE = {"type": "string", "pattern": "[hH][tT][tT][pP][sS]?://"}
URL_FIRST = {"type": "string", "pattern": "^[hH][tT][tT][pP][sS]?://"}
CONTROL = "[\u0000-\u001f\u007f]"

IMAGE_NAME_SCHEMA: dict[str, Any] = {
    "minLength": 2, "maxLength": 128, "pattern": r.IMAGE_NAME_PATTERN,
    "not": {"anyOf": [RESERVED, URL_FIRST]},
    "examples": ["web-2026.11", "画像-2026.11"],
}
IMAGE_FAMILY_SCHEMA: dict[str, Any] = {
    "minLength": 2, "maxLength": 128, "pattern": r.IMAGE_NAME_PATTERN,
    "not": {"anyOf": [RESERVED, URL_FIRST]},
    "examples": ["web", "家族-web"],
}
DESCRIPTION_SCHEMA: dict[str, Any] = {"minLength": 2, "maxLength": 256, "not": URL_FIRST}
REGION_SCHEMA: dict[str, Any] = {"pattern": r.REGION_PATTERN, "examples": ["cn-hangzhou"]}
OBJECT_KEY_SCHEMA: dict[str, Any] = {
    "minLength": 1,
    "not": {"type": "string", "anyOf": [
        {"pattern": "^/"}, {"pattern": "(^|/)\\.{1,2}(/|$)"}, {"pattern": "//"}, {"pattern": "/$"},
        {"pattern": "://"}, {"pattern": "\\\\"}, {"pattern": CONTROL},
    ]},
    "examples": ["data.raw", "disks/data-1.qcow2"],
}
DATA_DISKS_SCHEMA: dict[str, Any] = {"maxItems": c.MAX_DATA_DISKS}
REGIONS_SCHEMA: dict[str, Any] = {
    "maxItems": c.MAX_COPY_REGIONS, "uniqueItems": True,
    "items": {"type": "string", "pattern": r.REGION_PATTERN},
}
ACCOUNTS_SCHEMA: dict[str, Any] = {
    "maxItems": c.MAX_SHARE_ACCOUNTS, "uniqueItems": True,
    "items": {"anyOf": [{"type": "string", "pattern": r.ACCOUNT_ID_PATTERN},
                        {"type": "integer", "minimum": 0, "maximum": 10**20 - 1}]},
}
REPAIR_SCHEMA: Any = lambda schema: _replace_keeping_docs(  # noqa: E731
    schema, {"anyOf": [{"type": "string", "enum": list(c.REPAIR_MODES)},
                       {"type": "array", "minItems": 1, "uniqueItems": True,
                        "items": {"type": "string", "enum": list(c.REPAIR_ITEMS)}}],
             "examples": ["auto", ["fstab", "cloudinit"]]})
TAGS_SCHEMA: dict[str, Any] = {
    "maxProperties": c.MAX_TAGS,
    "propertyNames": {"minLength": 1, "maxLength": 128, "not": {"anyOf": [RESERVED, URL_ANYWHERE]}},
    "additionalProperties": {"type": "string", "maxLength": 128,
                             "not": {"anyOf": [TAG_VALUE_RESERVED, URL_ANYWHERE]}},
    "examples": [{"team": "web", "env": "prod"}],
}


def _any_case(words: tuple[str, ...]) -> str:
    spelled = r.case_insensitive_prefix_pattern(words)
    return spelled + "$"


FORMAT_SCHEMA: Any = lambda schema: _replace_keeping_docs(  # noqa: E731
    schema, {"type": "string", "pattern": _any_case(c.DISK_FORMATS)})


def _replace_keeping_docs(schema: dict[str, Any], fragment: dict[str, Any]) -> None:
    docs = {k: schema[k] for k in ("title", "description", "default") if k in schema}
    schema.clear()
    schema.update(docs)
    schema.update(fragment)


def add_cross_field_schema(schema: dict[str, Any], model: Any = None) -> None:
    """Model-level schema: dialect, null accepted for optional fields (null means "not given"),
    and the rules that tie fields together."""
    schema["$schema"] = JSON_SCHEMA_DIALECT
    allow_null_for_optional(schema)
    schema["allOf"] = [
        {"if": {"required": ["os_type"], "properties": {"os_type": {"const": "windows"}}},
         "then": {"required": ["license_type"],
                  "properties": {"license_type": {"type": "string"},
                                 "platform": {"enum": [*c.WINDOWS_PLATFORMS, None]},
                                 "repair": _repair_items_of(c.WINDOWS_REPAIR_ITEMS)}}},
        {"if": {"required": ["os_type"], "properties": {"os_type": {"const": "linux"}}},
         "then": {"properties": {"license_type": {"type": "null"},
                                 "platform": {"enum": [*c.LINUX_PLATFORMS, None]},
                                 "repair": _repair_items_of(c.LINUX_REPAIR_ITEMS)}}},
        {"if": {"required": ["platform"],
                "properties": {"platform": {"enum": list(c.WINDOWS_PLATFORMS)}}},
         "then": {"required": ["license_type"],
                  "properties": {"license_type": {"type": "string"}}}},
        {"if": {"required": ["platform"],
                "properties": {"platform": {"enum": list(c.LINUX_PLATFORMS)}}},
         "then": {"properties": {"license_type": {"type": "null"}}}},
        {"if": {"required": ["architecture"], "properties": {"architecture": {"const": "arm64"}}},
         "then": {"properties": {"boot_mode": {"not": {"const": "BIOS"}}}}},
    ]


def _repair_items_of(items: tuple[str, ...]) -> dict[str, Any]:
    return {"if": {"type": "array"}, "then": {"items": {"enum": list(items)}}}


def allow_null_for_optional(schema: dict[str, Any], model: Any = None) -> None:
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        if name not in required and not _allows_null(prop):
            docs = {k: prop.pop(k) for k in ("title", "description", "default") if k in prop}
            schema["properties"][name] = {**docs, "anyOf": [prop, {"type": "null"}]}


def _allows_null(prop: dict[str, Any]) -> bool:
    return any(branch.get("type") == "null" for branch in prop.get("anyOf", ()))
