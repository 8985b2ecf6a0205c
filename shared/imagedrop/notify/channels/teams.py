"""Microsoft Teams through a Workflows webhook: an Adaptive Card. Its lines are `TextRun`s of a
`RichTextBlock`, which Teams shows as they are (a `TextBlock` would read markdown from data)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...config import Settings
from ...redact import SECRET
from ..text import headline
from .base import HttpChannel, Target, WebUrl, json_bytes

CARD_TYPE = "application/vnd.microsoft.card.adaptive"


class TeamsTarget(Target):
    url: WebUrl = Field(json_schema_extra=SECRET)


def _runs(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


def teams_message(event: dict[str, Any]) -> dict[str, Any]:
    title, lines = headline(event)
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4",
            "body": [_runs(title, weight="Bolder", size="Medium"), *(_runs(line) for line in lines)]}
    return {"type": "message",
            "attachments": [{"contentType": CARD_TYPE, "contentUrl": None, "content": card}]}


class TeamsChannel(HttpChannel):
    kind = "teams"

    def format(self, event: dict[str, Any]) -> bytes:
        return json_bytes(teams_message(event))


def from_settings(settings: Settings) -> list[TeamsTarget]:
    return [TeamsTarget.model_construct(url=settings.teams_url)] if settings.teams_url else []
