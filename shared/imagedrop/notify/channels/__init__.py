"""The channels, one module each, and the one list that knows them all (`PLUGINS`).

A plug-in names the key it has in a route of the routes file and the environment's settings it
reads; the notifier builds channels from either the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from ...config import Settings
from . import dingtalk, lark, slack, teams, webhook
from .base import Channel, HttpChannel, Target, Transport
from .mns_topic import MnsTopicChannel, TopicPublisher


@dataclass(frozen=True)
class Plugin:
    key: str                                        # its key in a route
    channel: Callable[[Target], HttpChannel]
    from_settings: Callable[[Settings], Sequence[Target]]


PLUGINS: tuple[Plugin, ...] = (
    Plugin("webhooks", webhook.WebhookChannel, webhook.from_settings),
    Plugin("dingtalk", dingtalk.DingTalkChannel, dingtalk.from_settings),
    Plugin("slack", slack.SlackChannel, slack.from_settings),
    Plugin("lark", lark.LarkChannel, lark.from_settings),
    Plugin("teams", teams.TeamsChannel, teams.from_settings),
)


def deployment_channels(settings: Settings) -> list[HttpChannel]:
    """The channels the deployment's settings name: they get every event."""
    return [plugin.channel(target) for plugin in PLUGINS for target in plugin.from_settings(settings)]


__all__ = ["PLUGINS", "Channel", "HttpChannel", "MnsTopicChannel", "Plugin", "Target", "TopicPublisher",
           "Transport", "deployment_channels"]
