"""`FcWire`: the FC 2021-04-06 OpenAPI as `alibabacloud-fc-open20210406` speaks it.

Routes by method and path (`/2021-04-06/services/{s}/functions/{f}/invocations` …), verifies the
ACS3-HMAC-SHA256 signature the tea SDK puts on every call (the same scheme ECS uses, so the ECS
verifier is reused), calls `FcBackend` and answers JSON. Errors carry both FC's own field names
(`ErrorCode`, `ErrorMessage`) and the `Code`/`Message`/`RequestId` the tea SDK reads.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..core import ServiceError, WireRequest, WireResponse, new_request_id
from ..ecs import auth

if TYPE_CHECKING:
    from ..cloud import FakeCloud
    from .backend import FcBackend

VERSION = "2021-04-06"
JSON_TYPE = "application/json; charset=utf-8"
_SEGMENT = r"([^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(rf"^/{VERSION}/services/?$"), "ListServices"),
    ("GET", re.compile(rf"^/{VERSION}/services/{_SEGMENT}/?$"), "GetService"),
    ("GET", re.compile(rf"^/{VERSION}/services/{_SEGMENT}/functions/?$"), "ListFunctions"),
    ("GET", re.compile(rf"^/{VERSION}/services/{_SEGMENT}/functions/{_SEGMENT}/?$"), "GetFunction"),
    ("GET", re.compile(rf"^/{VERSION}/services/{_SEGMENT}/functions/{_SEGMENT}/triggers/?$"), "ListTriggers"),
    ("GET", re.compile(rf"^/{VERSION}/services/{_SEGMENT}/functions/{_SEGMENT}/triggers/{_SEGMENT}/?$"),
     "GetTrigger"),
    ("POST", re.compile(rf"^/{VERSION}/services/{_SEGMENT}/functions/{_SEGMENT}/invocations/?$"),
     "InvokeFunction"),
]


def route(method: str, path: str) -> tuple[str, list[str]]:
    for want, pattern, action in ROUTES:
        match = pattern.match(path)
        if match and method == want:
            return action, [unquote(g) for g in match.groups()]
    raise ServiceError(404, "PathNotSupported",
                       f"{method} {path} is not a Function Compute {VERSION} API path this emulator answers")


class FcWire:
    name = "fc"

    def __init__(self, cloud: "FakeCloud"):
        self.cloud = cloud

    @property
    def backend(self) -> "FcBackend":
        return self.cloud.fc  # type: ignore[attr-defined,no-any-return]

    # ------------------------------------------------------------------ WireService

    def action_of(self, req: WireRequest) -> str:
        return route(req.method, req.path)[0]

    def handle(self, req: WireRequest) -> WireResponse:
        action, names = route(req.method, req.path)
        body = req.body_bytes()
        self._authenticate(req, body)
        sent_action = req.header("x-acs-action")
        if sent_action and sent_action != action:
            raise ServiceError(400, "InvalidAction",
                               f"x-acs-action {sent_action!r} does not match {req.method} {req.path} ({action})")
        if action == "InvokeFunction":
            request_id, result = self.backend.invoke(
                names[0], names[1], body, invocation_type=req.header("x-fc-invocation-type", "Sync"))
            status = 202 if req.header("x-fc-invocation-type") == "Async" else 200
            return WireResponse(status, {"Content-Type": "application/octet-stream",
                                         "x-fc-request-id": request_id}, result)
        answer = getattr(self, "_" + re.sub(r"(?<!^)([A-Z])", r"_\1", action).lower())(*names)
        request_id = new_request_id()
        return WireResponse(200, {"Content-Type": JSON_TYPE, "x-fc-request-id": request_id},
                            json.dumps(answer).encode())

    def error_response(self, err: ServiceError, req: WireRequest) -> WireResponse:
        request_id = new_request_id()
        body = {"ErrorCode": err.code, "ErrorMessage": err.message,
                "Code": err.code, "Message": err.message, "RequestId": request_id}
        return WireResponse(err.status, {"Content-Type": JSON_TYPE, "x-fc-request-id": request_id},
                            json.dumps(body).encode())

    def throttle_error(self) -> ServiceError:
        return ServiceError(429, "ResourceThrottled",
                            "Reserve resource exhausted: the function's concurrency limit was reached")

    def _authenticate(self, req: WireRequest, body: bytes) -> None:
        creds = self.cloud.credentials
        if not req.header("authorization"):
            raise ServiceError(403, "AccessDenied",
                               "The request carries no Authorization header: sign it with ACS3-HMAC-SHA256.")
        ak = auth.verify_acs3(req.method, req.path, req.query, req.headers, body, creds.secret_for)
        auth.check_token(ak, req.header("x-acs-security-token"), creds.token_ok)

    # ------------------------------------------------------------------ read actions

    def _list_services(self) -> dict[str, Any]:
        with self.backend.lock:
            names = sorted(self.backend.services)
        return {"services": [{"serviceName": n} for n in names], "nextToken": ""}

    def _get_service(self, service: str) -> dict[str, Any]:
        svc = self.backend.service(service)
        return {"serviceName": svc.name, "serviceId": svc.name, "role": svc.role}

    def _list_functions(self, service: str) -> dict[str, Any]:
        svc = self.backend.service(service)
        return {"functions": [self.backend.function_shape(service, f) for f in svc.functions.values()],
                "nextToken": ""}

    def _get_function(self, service: str, function: str) -> dict[str, Any]:
        return self.backend.function_shape(service, self.backend.function(service, function))

    def _list_triggers(self, service: str, function: str) -> dict[str, Any]:
        fn = self.backend.function(service, function)
        return {"triggers": [self.backend.trigger_shape(t) for t in fn.triggers.values()], "nextToken": ""}

    def _get_trigger(self, service: str, function: str, trigger: str) -> dict[str, Any]:
        fn = self.backend.function(service, function)
        found = fn.triggers.get(trigger)
        if found is None:
            raise ServiceError(404, "TriggerNotFound",
                               f"trigger '{trigger}' does not exist in service '{service}' function '{function}'")
        return self.backend.trigger_shape(found)
