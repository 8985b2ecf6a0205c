"""`FcBackend`: services, functions (each a Python callable) and trigger descriptions. No HTTP.

An asynchronous invocation is queued on the cloud's event pump, which delivers it later and
retries it when the function fails, as FC's async invocation does. A synchronous one runs now.
Errors carry FC's real codes (`ServiceNotFound`, `FunctionNotFound`, ...).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..core import ServiceError, new_request_id

if TYPE_CHECKING:
    from ..cloud import FakeCloud

Sink = Callable[[bytes], Any]


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
    environment: dict[str, str] = field(default_factory=dict)
    triggers: dict[str, FakeTrigger] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    invocations: list[tuple[str, str]] = field(default_factory=list)  # (request id, "Sync"|"Async")


@dataclass
class FakeService:
    name: str
    role: str = ""
    functions: dict[str, FakeFunction] = field(default_factory=dict)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def service_not_found(service: str) -> ServiceError:
    return ServiceError(404, "ServiceNotFound", f"service '{service}' does not exist")


def function_not_found(service: str, function: str) -> ServiceError:
    return ServiceError(404, "FunctionNotFound",
                        f"function '{function}' does not exist in service '{service}'")


class FcBackend:
    def __init__(self, cloud: "FakeCloud"):
        self.cloud = cloud
        self.lock = threading.RLock()
        self.services: dict[str, FakeService] = {}

    # ------------------------------------------------------------------ set-up (tests, LocalStack)

    def create_service(self, name: str, *, role: str = "") -> FakeService:
        with self.lock:
            return self.services.setdefault(name, FakeService(name, role))

    def register_function(self, service: str, name: str, sink: Sink, *,
                          triggers: list[FakeTrigger] | None = None, **attrs: Any) -> FakeFunction:
        with self.lock:
            svc = self.create_service(service)
            function = FakeFunction(name, sink, created=self.cloud.clock.now(), **attrs)
            for trigger in triggers or []:
                function.triggers[trigger.name] = trigger
            svc.functions[name] = function
            return function

    def delete_function(self, service: str, name: str) -> None:
        with self.lock:
            self.function(service, name)
            del self.services[service].functions[name]

    # ------------------------------------------------------------------ API

    def service(self, name: str) -> FakeService:
        with self.lock:
            svc = self.services.get(name)
            if svc is None:
                raise service_not_found(name)
            return svc

    def function(self, service: str, name: str) -> FakeFunction:
        with self.lock:
            function = self.service(service).functions.get(name)
            if function is None:
                raise function_not_found(service, name)
            return function

    def invoke(self, service: str, name: str, payload: bytes, *, invocation_type: str) -> tuple[str, bytes]:
        """(request id, body). Async: accepted and queued (the body is empty). Sync: run now."""
        function = self.function(service, name)
        request_id = new_request_id()
        if invocation_type not in ("Sync", "Async"):
            raise ServiceError(400, "InvalidArgument",
                               f"X-Fc-Invocation-Type {invocation_type!r} is not valid: use Sync or Async")
        with self.lock:
            function.invocations.append((request_id, invocation_type))
        if invocation_type == "Async":
            self.cloud.pump.deliver_later(f"fc:{service}/{name}", function.sink, payload)
            return request_id, b""
        result = function.sink(payload)
        if isinstance(result, bytes):
            return request_id, result
        return request_id, ("" if result is None else str(result)).encode()

    def function_shape(self, service: str, function: FakeFunction) -> dict[str, Any]:
        return {"functionName": function.name, "functionId": f"{service}-{function.name}",
                "runtime": function.runtime, "handler": function.handler,
                "memorySize": function.memory_mb, "timeout": function.timeout,
                "environmentVariables": dict(function.environment),
                "createdTime": _iso(function.created), "lastModifiedTime": _iso(function.created)}

    @staticmethod
    def trigger_shape(trigger: FakeTrigger) -> dict[str, Any]:
        import json

        return {"triggerName": trigger.name, "triggerType": trigger.trigger_type,
                "sourceArn": trigger.source_arn, "qualifier": trigger.qualifier,
                "triggerConfig": json.dumps(trigger.config), "invocationRole": ""}
