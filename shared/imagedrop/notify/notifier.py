"""`Notifier`: one event to the MNS topic, the deployment-wide channels and its route's channels.

A failing channel never fails an import: each channel is tried (transient failures a few times)
and what could not be delivered is returned for the status record. Only scheme and host of a URL
go into records and logs, and no error text quotes a secret.
"""

from __future__ import annotations

import time
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

from ..config import Settings
from ..redact import scrub
from .channels import Channel, HttpChannel, MnsTopicChannel, TopicPublisher, Transport, deployment_channels
from .channels.base import Refused, Transient
from .routes import Route, Routes

Failure = dict[str, str]
RoutesProvider = Callable[[str], Routes]     # bucket → its routes


class Notifier:
    def __init__(self, settings: Settings, topic_publisher: TopicPublisher | None = None, *,
                 routes: RoutesProvider | None = None, session: requests.Session | None = None,
                 timeout: float = 5.0, attempts: int = 3, backoff: float = 0.2,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.topic_publisher = topic_publisher
        self.routes = routes
        self.transport = Transport(session or requests.Session(), timeout, attempts, backoff, clock)

    def send(self, event: dict[str, Any]) -> list[Failure]:
        """Deliver `event` everywhere; return the failures ({channel, target, error}). Never raises."""
        failures: list[Failure] = []
        state = str(event.get("type", "")).rsplit(".", 1)[-1]
        data = event.get("data") or {}
        route = self._route(str(data.get("bucket", "")), str(event.get("subject", "")), failures)
        routed = route is not None and route.wants(state)
        channels: list[Channel] = []
        if self.settings.topic and self.topic_publisher is not None:
            tag = route.name if routed and route else state
            channels.append(MnsTopicChannel(self.settings.topic, self.topic_publisher, tag))
        channels += deployment_channels(self.settings)
        if routed and route:
            channels += route.channels()
        for channel in channels:
            self._guard(failures, channel, event)
        return failures

    def _route(self, bucket: str, key: str, failures: list[Failure]) -> Route | None:
        if self.routes is None:
            return None
        try:
            return self.routes(bucket).route_for(key)
        except Exception as exc:   # unreadable routes: the deployment-wide channels still hear
            failures.append({"channel": "routes", "target": "routes.json", "error": _describe(exc)})
            return None

    def _guard(self, failures: list[Failure], channel: Channel, event: dict[str, Any]) -> None:
        try:
            if isinstance(channel, HttpChannel) and urlsplit(channel.url).scheme not in ("http", "https"):
                raise Refused("not an http(s) URL; fix the setting")
            channel.send(event, self.transport)
        except Exception as exc:   # a notification must never fail the import
            error = scrub(_describe(exc), channel.secrets) if channel.secrets else _describe(exc)
            failures.append({"channel": channel.kind, "target": channel.target, "error": error})


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "connection failed (nothing listening, DNS or network); check the URL setting"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, Transient):
        return f"{exc} after retries"
    return str(exc) or type(exc).__name__
