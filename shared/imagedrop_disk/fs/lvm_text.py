"""LVM2's metadata text ("config" format), parsed into nested dicts, with hard bounds.

    name = value        value: integer, "string", or [value, ...]
    name { ... }        a section
    # comment

Anything else is FsCorrupt naming the line. The parser never recurses deeper than MAX_DEPTH
sections and never reads more than MAX_TOKENS tokens.
"""

from __future__ import annotations

import re

from ..errors import FsCorrupt

MAX_DEPTH = 16
MAX_TOKENS = 200_000
MAX_LIST = 4096

Value = int | str | list["Value"] | dict[str, "Value"]

_TOKEN = re.compile(r'''
    (?P<space>[ \t\r\n]+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?)(?![A-Za-z_.+-])
  | (?P<name>[A-Za-z0-9_.+-][A-Za-z0-9_.+\-]*)
  | (?P<punct>[={}\[\],])
''', re.VERBOSE)


def parse(text: str) -> dict[str, Value]:
    tokens = _tokens(text)
    return _Parser(tokens).items(0, closing=None)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos, line = 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FsCorrupt(f"LVM metadata line {line}: unexpected {text[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        if kind != "space":
            out.append((kind, m.group(), line))
            if len(out) > MAX_TOKENS:
                raise FsCorrupt(f"LVM metadata has more than {MAX_TOKENS} tokens")
        line += m.group().count("\n")
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]]):
        self.tokens, self.pos = tokens, 0

    def _next(self) -> tuple[str, str, int]:
        if self.pos >= len(self.tokens):
            line = self.tokens[-1][2] if self.tokens else 1
            raise FsCorrupt(f"LVM metadata ends early (after line {line})")
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def items(self, depth: int, closing: str | None) -> dict[str, Value]:
        if depth > MAX_DEPTH:
            raise FsCorrupt(f"LVM metadata nests sections deeper than {MAX_DEPTH}")
        out: dict[str, Value] = {}
        while True:
            if self.pos >= len(self.tokens) and closing is None:
                return out
            kind, text, line = self._next()
            if kind == "punct" and text == closing:
                return out
            if kind not in ("name", "string", "number"):
                raise FsCorrupt(f"LVM metadata line {line}: expected a name, found {text!r}")
            name = _unquote(text) if kind == "string" else text
            _kind, op, line = self._next()
            if op == "{":
                out[name] = self.items(depth + 1, "}")
            elif op == "=":
                out[name] = self.value(line, depth)
            else:
                raise FsCorrupt(f"LVM metadata line {line}: expected '=' or '{{' after {name!r}")

    def value(self, line: int, depth: int) -> Value:
        if depth > MAX_DEPTH:
            raise FsCorrupt(f"LVM metadata line {line}: lists nest deeper than {MAX_DEPTH}")
        kind, text, line = self._next()
        if kind == "string":
            return _unquote(text)
        if kind == "number":
            return int(text) if "." not in text else text
        if kind == "name":
            return text
        if text != "[":
            raise FsCorrupt(f"LVM metadata line {line}: expected a value, found {text!r}")
        items: list[Value] = []
        while True:
            kind, text, line = self._next()
            if text == "]" and kind == "punct":
                return items
            if text == "," and kind == "punct":
                continue
            self.pos -= 1
            items.append(self.value(line, depth + 1))
            if len(items) > MAX_LIST:
                raise FsCorrupt(f"LVM metadata line {line}: a list longer than {MAX_LIST}")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])
