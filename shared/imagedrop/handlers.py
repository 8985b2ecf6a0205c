"""The two Function Compute entry points, kept to glue: parse, build adapters once, call one function.

`functions/ingest/index.py` and `functions/poller/index.py` re-export these, so the deployed code and
the local runtime run the same lines.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from . import logs
from .config import function_environment, log_level
from .model.events import parse_oss_event, read_mns_event
from .flows.ingest import ingest_event
from .flows.poll import poll_event
from .services import services_for

# The SDKs are imported by the adapters when first used, so an invocation that needs no ECS call
# never loads the ECS SDK (the largest of the three).


def _environment(context: Any) -> Mapping[str, str]:
    """The function's environment, read once per invocation, with logging set up from it; the
    services built from it are kept for the container (`services_for`)."""
    env = function_environment(context)
    logs.configure(log_level(env))
    return env


def ingest_handler(event: bytes | str, context: Any) -> str:
    """OSS trigger → pair disk and manifest → preflight → ImportImage → track message."""
    env = _environment(context)
    results = ingest_event(parse_oss_event(event), services_for(context, env))
    return json.dumps([r.__dict__ for r in results])


def poller_handler(event: bytes | str, context: Any) -> str:
    """MNS queue (EventBridge) → check the task → wait again, fail, or finish the import."""
    env = _environment(context)
    messages, poison = read_mns_event(event)
    for message_id, reason in poison:  # retrying a message we cannot read would never help
        logs.step("poll.poison_message", message_id=message_id, reason=reason)
    results = poll_event(messages, services_for(context, env))
    return json.dumps([r.__dict__ for r in results])
