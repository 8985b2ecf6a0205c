"""The two Function Compute entry points, kept to glue: parse, build adapters once, call one function.

`functions/ingest/index.py` and `functions/poller/index.py` re-export these, so the deployed code and
the local runtime run the same lines.
"""

from __future__ import annotations

import json
from typing import Any

from . import budget, logs
from .events import parse_oss_event, read_mns_event
from .ingest import ingest_event
from .poll import poll_event
from .services import services_for

# The SDKs are imported by the adapters when first used, so an invocation that needs no ECS call
# never loads the ECS SDK (the largest of the three).


def ingest_handler(event: bytes | str, context: Any) -> str:
    """OSS trigger → pair disk and manifest → preflight → ImportImage → track message."""
    logs.configure()
    with budget.running(budget.from_context(context)):
        results = ingest_event(parse_oss_event(event), services_for(context))
    return json.dumps([r.__dict__ for r in results])


def poller_handler(event: bytes | str, context: Any) -> str:
    """MNS queue (EventBridge) → check the task → wait again, fail, or finish the import."""
    logs.configure()
    messages, poison = read_mns_event(event)
    for message_id, reason in poison:  # retrying a message we cannot read would never help
        logs.step("poll.poison_message", message_id=message_id, reason=reason)
    with budget.running(budget.from_context(context)):
        results = poll_event(messages, services_for(context))
    return json.dumps([r.__dict__ for r in results])
