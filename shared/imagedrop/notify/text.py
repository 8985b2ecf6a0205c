"""Text that came from data, made safe to show: one line, no control characters.

Keys, guest files and cloud messages come from producers. Before any channel escapes them for its
own markup, every value loses its terminal escape sequences (colours, OSC-8 hyperlinks), its
control and invisible format characters, and its line breaks: a value can then neither start a
line of its own (a forged header or list item) nor drive the reader's terminal.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# CSI (ESC [ … final byte), OSC (ESC ] … BEL or ESC \), and other two-character ESC sequences,
# plus their 8-bit forms.
_ESCAPE_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[@-Z\\-_]")
_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]+")
MORE_LINES = 5


def plain(value: object) -> str:
    """`value` as one line of plain text: escape sequences removed, line breaks as one space,
    other control and format characters (zero-width, bidirectional overrides) removed."""
    text = _ESCAPE_SEQUENCES.sub("", str(value))
    text = _BREAKS.sub(" ", text)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs"))


def headline(event: dict[str, Any]) -> tuple[str, list[str]]:
    """The title and the lines every chat channel shows, as plain text (`plain`), not escaped."""
    data = event.get("data") or {}
    state = str(data.get("state") or str(event.get("type", "")).rsplit(".", 1)[-1])
    title = plain(f"imagedrop: {event.get('subject')} is {state}")
    lines = [f"region {data.get('region')}"]
    for label, key in (("image", "image_id"), ("task", "task_id"), ("progress", "progress")):
        if data.get(key):
            lines.append(f"{label} {data[key]}")
    if data.get("note"):
        lines.append(str(data["note"]))
    for label, key in (("problem", "problems"), ("fixed", "fixes"), ("advice", "advice")):
        items = list(data.get(key) or [])
        lines += [f"{label}: {text}" for text in items[:MORE_LINES]]
        if len(items) > MORE_LINES:
            lines.append(f"… {len(items) - MORE_LINES} more {label} lines in the status record")
    if data.get("truncated"):
        lines.append(f"cut to fit a message: {', '.join(map(str, data['truncated']))}")
    return title, [plain(line) for line in lines]
