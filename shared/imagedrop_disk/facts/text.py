"""Small, bounded parsers for the text files a guest's configuration lives in.

Every parser takes text already cut to a size limit by the reader, and looks at no more than
MAX_LINES lines of at most MAX_LINE characters: a hostile file costs a bounded amount of work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_LINES = 4096
MAX_LINE = 4096

_DQ_ESCAPED = '"\\$`'  # what a backslash escapes inside double quotes, as in the shell


def lines(text: str | None) -> Iterator[str]:
    """The first MAX_LINES lines, each stripped; over-long lines are skipped, not cut."""
    if not text:
        return
    for count, line in enumerate(text.splitlines()):
        if count >= MAX_LINES:
            return
        if len(line) <= MAX_LINE:
            yield line.strip()


def shell_value(raw: str) -> str:
    """A shell-style value: "double" or 'single' quotes with backslash escapes, no expansion."""
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(raw):
        ch = raw[i]
        if quote is None and ch == "#" and (i == 0 or raw[i - 1].isspace()):
            break
        if ch == "\\" and quote != "'" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append(nxt if quote is None or nxt in _DQ_ESCAPED else "\\" + nxt)
            i += 2
            continue
        if ch in "\"'" and quote in (None, ch):
            quote = None if quote == ch else ch
        elif quote is None and ch.isspace():
            rest = raw[i:].strip()
            if not rest or rest.startswith("#"):
                break
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out).strip()


def key_values(text: str | None) -> dict[str, str]:
    """KEY=value lines (os-release, ifcfg, /etc/default/grub, selinux/config); the first
    occurrence of a key is kept for os-release style files, comments and junk lines skipped."""
    found: dict[str, str] = {}
    for line in lines(text):
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export "):].strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            continue
        found[key] = shell_value(raw.strip())
    return found


def ini_sections(text: str | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """[Section] blocks of key=value lines (NetworkManager keyfiles, systemd units), in order.
    Repeated sections and keys are kept: systemd allows both."""
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    for line in lines(text):
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            sections.append((line[1:-1].strip(), []))
        elif "=" in line and sections:
            key, _, value = line.partition("=")
            sections[-1][1].append((key.strip(), value.strip()))
    return sections


def ini_get(sections: list[tuple[str, list[tuple[str, str]]]], section: str,
            key: str) -> str | None:
    """The last value of `key` in any `section` block (later assignments win)."""
    value = None
    for name, pairs in sections:
        if name.lower() == section.lower():
            for k, v in pairs:
                if k.lower() == key.lower():
                    value = v
    return value


def split_words(text: str) -> list[str]:
    """A command line split on whitespace, quotes respected (kernel arguments)."""
    words: list[str] = []
    current: list[str] = []
    quote = False
    for ch in text[:MAX_LINE]:
        if ch == '"':
            quote = not quote
        elif ch.isspace() and not quote:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return words
