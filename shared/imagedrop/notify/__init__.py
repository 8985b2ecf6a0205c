"""Notifications: one CloudEvent per state change, to the MNS topic and to the channels.

`event` builds the CloudEvent (structured mode, at most 64 KiB), `text` turns data into safe
one-line text, `channels/` holds one module per receiver (webhook, DingTalk, Slack, Lark, Teams,
the MNS topic), `routes` says which team's channels hear of which imports, and `notifier`
delivers. URLs and secrets come from the deployment's settings and the operators' routes file,
never from a manifest.
"""

from __future__ import annotations

from .channels.dingtalk import dingtalk_signed_url
from .event import MAX_EVENT_BYTES, body_bytes, cloudevent, fit
from .notifier import Failure, Notifier
from .routes import ROUTES_FILE, Route, Routes, RoutesError, parse_routes
from .routes_source import RoutesSource

__all__ = ["MAX_EVENT_BYTES", "ROUTES_FILE", "Failure", "Notifier", "Route", "Routes", "RoutesError",
           "RoutesSource", "body_bytes", "cloudevent", "dingtalk_signed_url", "fit", "parse_routes"]
