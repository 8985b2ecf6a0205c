"""The MNS topic: the CloudEvent as the message body, tagged for subscribers' `FilterTag`.

The tag is the import's route name when the route lists the state (a team subscribes to its own
with `FilterTag` = its route), else the state itself.
"""

from __future__ import annotations

from typing import Any, Callable

from ..event import body_bytes
from .base import Channel, Transport

TopicPublisher = Callable[[str, str], None]      # (message body, tag)


class MnsTopicChannel(Channel):
    kind = "mns-topic"

    def __init__(self, topic: str, publish: TopicPublisher, tag: str) -> None:
        self.topic, self.publish, self.tag = topic, publish, tag

    @property
    def target(self) -> str:
        return self.topic

    def send(self, event: dict[str, Any], transport: Transport) -> None:
        self.publish(body_bytes(event).decode("utf-8"), self.tag)
