"""A bounded reader for the YAML subset netplan files use: block mappings and sequences by
indentation, scalars, and one-line flow collections. Anchors, tags and multi-line scalars are
not needed for the keys read here and come back as plain strings."""

from __future__ import annotations

MAX_DEPTH = 16

def parse(text: str | None) -> object:
    rows: list[tuple[int, str]] = []
    for raw in (text or "").splitlines()[:4096]:
        if len(raw) > 4096:
            continue
        stripped = _strip_comment(raw).rstrip()
        if stripped.strip() and stripped.strip() != "---":
            rows.append((len(stripped) - len(stripped.lstrip(" ")), stripped.strip()))
    node, _ = _block(rows, 0, 0)
    return node


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if ch in "\"'" and quote in (None, ch):
            quote = None if quote else ch
        elif ch == "#" and quote is None and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _block(rows: list[tuple[int, str]], i: int, depth: int) -> tuple[object, int]:
    if i >= len(rows) or depth > MAX_DEPTH:
        return None, len(rows) if depth > MAX_DEPTH else i
    indent = rows[i][0]
    if rows[i][1].startswith("- ") or rows[i][1] == "-":
        items: list[object] = []
        while i < len(rows) and rows[i][0] == indent and rows[i][1][:1] == "-":
            rest = rows[i][1][1:].strip()
            if not rest:
                value, i = _block(rows, i + 1, depth + 1) if i + 1 < len(rows) and \
                    rows[i + 1][0] > indent else (None, i + 1)
            elif _is_key(rest):
                # "- key: value" opens a mapping whose further keys sit deeper
                rows[i] = (indent + 2, rest)
                value, i = _block(rows, i, depth + 1)
            else:
                value, i = _scalar(rest), i + 1
            items.append(value)
        return items, i
    mapping: dict[str, object] = {}
    while i < len(rows) and rows[i][0] == indent and _is_key(rows[i][1]):
        key, _, rest = rows[i][1].partition(":")
        key, rest = _unquote(key.strip()), rest.strip()
        if rest:
            mapping[key], i = _scalar(rest), i + 1
        elif i + 1 < len(rows) and rows[i + 1][0] > indent:
            mapping[key], i = _block(rows, i + 1, depth + 1)
        elif i + 1 < len(rows) and rows[i + 1][0] == indent and rows[i + 1][1][:1] == "-":
            mapping[key], i = _block(rows, i + 1, depth + 1)
        else:
            mapping[key], i = None, i + 1
    while i < len(rows) and rows[i][0] > indent:   # junk deeper than it should be
        i += 1
    return mapping, i


def _is_key(text: str) -> bool:
    if text[:1] in "[{":
        return False
    key, sep, rest = text.partition(":")
    return bool(sep) and bool(key.strip()) and (rest == "" or rest[:1] == " ")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _scalar(text: str) -> object:
    if text.startswith("{") and text.endswith("}"):
        result: dict[str, object] = {}
        for part in _split_flow(text[1:-1]):
            key, _, value = part.partition(":")
            if key.strip():
                result[_unquote(key.strip())] = _scalar(value.strip())
        return result
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(p.strip()) for p in _split_flow(text[1:-1]) if p.strip()]
    return _unquote(text)


def _split_flow(text: str) -> list[str]:
    parts, depth, current, quote = [], 0, [], None
    for ch in text:
        if ch in "\"'" and quote in (None, ch):
            quote = None if quote else ch
        if quote is None and ch in "[{":
            depth += 1
        elif quote is None and ch in "]}":
            depth -= 1
        if ch == "," and depth == 0 and quote is None:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def truthy(value: object) -> bool:
    return isinstance(value, str) and value.lower() in ("true", "yes", "on", "y")

