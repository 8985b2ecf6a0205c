"""`FcBackend`: Function Compute 3.0 functions (each a Python callable) and their triggers. No HTTP.

FC 3.0 has no services: a function is named on its own within the account and region. An
asynchronous invocation is queued on the cloud's event pump, which delivers it later and
retries it when the function fails, as FC's async invocation does. A synchronous one runs now.
Errors carry FC 3.0's codes and messages (`FunctionNotFound` "function '%s' does not exist.").
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ...core import ServiceError, new_request_id
from ...env import CloudEnv
from .. import errors

Sink = Callable[[bytes], Any]
ASYNC_PAYLOAD_LIMIT = 128 * 1024   # FC's async invocation body limit
SYNC_PAYLOAD_LIMIT = 32 * 1024 * 1024


@dataclass
class FakeTrigger:
    name: str
    trigger_type: str                  # "oss", "mns_topic", "eventbridge", "timer", "http"
    source_arn: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    qualifier: str = "LATEST"


@dataclass
class FakeFunction:
    name: str
    sink: Sink
    runtime: str = "python3.10"
    handler: str = "index.handler"
    memory_mb: int = 512
    timeout: int = 300
    role: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    triggers: dict[str, FakeTrigger] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    invocations: list[tuple[str, str]] = field(default_factory=list)  # (request id, "Sync"|"Async")


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class FcBackend:
    def __init__(self, env: CloudEnv):
        self.env = env
        self.lock = threading.RLock()
        self.functions: dict[str, FakeFunction] = {}

    # ------------------------------------------------------------------ set-up (tests, local stack)

    def register_function(self, name: str, sink: Sink, *, triggers: list[FakeTrigger] | None = None,
                          **attrs: Any) -> FakeFunction:
        with self.lock:
            function = FakeFunction(name, sink, created=self.env.clock.now(), **attrs)
            for trigger in triggers or []:
                function.triggers[trigger.name] = trigger
            self.functions[name] = function
            return function

    def delete_function(self, name: str) -> None:
        with self.lock:
            self.function(name)
            del self.functions[name]

    # ------------------------------------------------------------------ API

    def function(self, name: str, qualifier: str | None = None) -> FakeFunction:
        with self.lock:
            function = self.functions.get(name)
        if function is None:
            raise errors.function_not_found(name)
        if qualifier not in (None, "", "LATEST"):
            raise errors.qualifier_not_found(name, qualifier)
        return function

    def invoke(self, name: str, payload: bytes, *, invocation_type: str,
               qualifier: str | None = None) -> tuple[str, bytes]:
        """(request id, body). Async: accepted and queued (the body is empty). Sync: run now."""
        if invocation_type not in ("Sync", "Async"):
            raise errors.invalid_argument(f"x-fc-invocation-type {invocation_type!r} "
                               "is not valid: use Sync or Async")
        function = self.function(name, qualifier)
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Async" else SYNC_PAYLOAD_LIMIT
        if len(payload) > limit:
            raise ServiceError(400, "EntityTooLarge",
                               f"payload size exceeds maximum allowed size ({limit} bytes)")
        request_id = new_request_id()
        with self.lock:
            function.invocations.append((request_id, invocation_type))
        if invocation_type == "Async":
            self.env.pump.deliver_later(f"fc:{name}", function.sink, payload)
            return request_id, b""
        result = function.sink(payload)
        if isinstance(result, bytes):
            return request_id, result
        return request_id, ("" if result is None else str(result)).encode()

    def function_shape(self, function: FakeFunction) -> dict[str, Any]:
        return {"functionName": function.name, "functionId": f"{self.env.account_id}-{function.name}",
                "functionArn": self.arn(function),
                "runtime": function.runtime, "handler": function.handler,
                "memorySize": function.memory_mb, "timeout": function.timeout,
                "role": function.role,
                "environmentVariables": dict(function.environment),
                "state": "Active", "lastUpdateStatus": "Successful",
                "createdTime": _iso(function.created), "lastModifiedTime": _iso(function.created)}

    def arn(self, function: FakeFunction) -> str:
        return f"acs:fc:{self.env.region}:{self.env.account_id}:functions/{function.name}"

    def trigger_shape(self, function: FakeFunction, trigger: FakeTrigger) -> dict[str, Any]:
        return {"triggerName": trigger.name, "triggerType": trigger.trigger_type,
                "triggerId": f"{function.name}-{trigger.name}",
                "sourceArn": trigger.source_arn, "qualifier": trigger.qualifier,
                "targetArn": self.arn(function),
                "triggerConfig": json.dumps(trigger.config), "invocationRole": "",
                "status": "Enabled",
                "createdTime": _iso(function.created), "lastModifiedTime": _iso(function.created)}
