"""Slack incoming webhooks. Every text is escaped the way Slack asks (`&`, `<`, `>`: no
`<!channel>`, no `<url|label>` from data); the block is `plain_text`, so no `*bold*` or `_italic_`
from data either, and the fallback `text` is its title alone."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from ...config import Settings
from ...redact import SECRET
from ..text import headline
from .base import HttpChannel, Target, WebUrl, json_bytes

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
BLOCK_TEXT_LIMIT = 3000


class SlackTarget(Target):
    url: WebUrl = Field(json_schema_extra=SECRET)


def slack_text(text: str) -> str:
    return text.translate(_ESCAPES)


def slack_message(event: dict[str, Any]) -> dict[str, Any]:
    title, lines = headline(event)
    text = slack_text("\n".join([title, *(f"• {line}" for line in lines)]))
    return {"text": slack_text(title),
            "blocks": [{"type": "section",
                        "text": {"type": "plain_text", "text": _cut(text), "emoji": False}}]}


def _cut(text: str) -> str:
    """At most Slack's block length, never ending inside an entity (`&am`)."""
    return text if len(text) <= BLOCK_TEXT_LIMIT else re.sub(r"&[a-z]*$", "", text[:BLOCK_TEXT_LIMIT])


class SlackChannel(HttpChannel):
    kind = "slack"

    def format(self, event: dict[str, Any]) -> bytes:
        return json_bytes(slack_message(event))


def from_settings(settings: Settings) -> list[SlackTarget]:
    return [SlackTarget.model_construct(url=settings.slack_url)] if settings.slack_url else []
