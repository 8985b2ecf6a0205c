"""`FcWire`: the Function Compute 3.0 OpenAPI (2023-03-30) as `alibabacloud-fc20230330` speaks it.

Takes the action from the method and path (`routes`), verifies the ACS3-HMAC-SHA256 signature
the tea SDK puts on every call (the API-gateway scheme ECS also uses: `acs_auth`, with its date
and nonce checks), calls `FcBackend` and answers JSON. Errors are `{"Code", "Message", "RequestId"}`, FC 3.0's body.

Choices made here where Alibaba publishes nothing: ListTriggers and ListFunctions page 20 by default and
at most 100 (FC 2.0's numbers), `nextToken` being the name of the next item; throttling answers
429 `ResourceThrottled`; a path of another API version answers 404 `PathNotSupported`.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Callable

from ...core import ServiceError, WireRequest, WireResponse, new_request_id
from ...env import CloudEnv
from ... import acs_auth
from ...freshness import NonceMemory
from .. import errors
from .routes import route

if TYPE_CHECKING:
    from ..backend.service import FcBackend

JSON_TYPE = "application/json; charset=utf-8"
DEFAULT_PAGE, MAX_PAGE = 20, 100


Shape = dict[str, Any]


def page(items: list[Shape], key: str, params: dict[str, str]) -> tuple[list[Shape], str]:
    """One page of `items` (sorted by `key`) after `nextToken`, filtered by `prefix`."""
    raw = params.get("limit") or str(DEFAULT_PAGE)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise errors.invalid_argument(f"limit {raw!r} must be between 1 and {MAX_PAGE}")
    prefix, token = params.get("prefix", ""), params.get("nextToken", "")
    chosen = sorted((i for i in items if i[key].startswith(prefix) and i[key] >= token),
                    key=lambda i: str(i[key]))
    limit = int(raw)
    return chosen[:limit], (chosen[limit][key] if len(chosen) > limit else "")


class FcWire:
    name = "fc"

    def __init__(self, backend: "FcBackend", env: CloudEnv):
        self.backend = backend
        self.env = env
        self.nonces = NonceMemory()

    # ------------------------------------------------------------------ WireService

    def action_of(self, req: WireRequest) -> str:
        return route(req.method, req.path)[0]

    def handle(self, req: WireRequest) -> WireResponse:
        action, names = route(req.method, req.path)
        body = req.body_bytes()
        self._authenticate(req, body)
        sent_action = req.header("x-acs-action")
        if sent_action and sent_action != action:
            raise errors.invalid_argument(f"x-acs-action {sent_action!r} does not match {req.method} {req.path} ({action})")
        params = req.param_dict()
        if action == "InvokeFunction":
            kind = req.header("x-fc-invocation-type", "Sync")
            request_id, result = self.backend.invoke(names[0], body, invocation_type=kind,
                                                     qualifier=params.get("qualifier"))
            headers = {"Content-Type": "application/octet-stream", "x-fc-request-id": request_id}
            return WireResponse(202 if kind == "Async" else 200, headers, result)
        answer = self._reads()[action](params, *names)
        return WireResponse(200, {"Content-Type": JSON_TYPE, "x-fc-request-id": new_request_id()},
                            json.dumps(answer).encode())

    def error_response(self, err: ServiceError, req: WireRequest) -> WireResponse:
        request_id = new_request_id()
        body = {"Code": err.code, "Message": err.message, "RequestId": request_id}
        return WireResponse(err.status, {"Content-Type": JSON_TYPE, "x-fc-request-id": request_id},
                            json.dumps(body).encode())

    def throttle_error(self) -> ServiceError:
        return ServiceError(429, "ResourceThrottled",
                            "Reserve resource exhausted: the function's concurrency limit was reached")

    def _authenticate(self, req: WireRequest, body: bytes) -> None:
        creds = self.env.credentials
        if not req.header("authorization"):
            raise ServiceError(403, "AccessDenied",
                               "The request carries no Authorization header: sign it with ACS3-HMAC-SHA256.")
        ak = acs_auth.verify_acs3(req.method, req.path, req.query, req.headers, body, creds.secret_for)
        acs_auth.check_token(ak, req.header("x-acs-security-token"), creds.token_ok)
        acs_auth.check_fresh(ak, req.header("x-acs-date"), req.header("x-acs-signature-nonce"),
                         self.nonces, time.time())

    # ------------------------------------------------------------------ read actions

    def _reads(self) -> dict[str, Callable[..., dict[str, Any]]]:
        return {"ListFunctions": self._list_functions, "GetFunction": self._get_function,
                "ListTriggers": self._list_triggers, "GetTrigger": self._get_trigger}

    def _list_functions(self, params: dict[str, str]) -> dict[str, Any]:
        with self.backend.lock:
            shapes = [self.backend.function_shape(f) for f in self.backend.functions.values()]
        found, token = page(shapes, "functionName", params)
        return {"functions": found, "nextToken": token}

    def _get_function(self, params: dict[str, str], function: str) -> dict[str, Any]:
        return self.backend.function_shape(self.backend.function(function, params.get("qualifier")))

    def _list_triggers(self, params: dict[str, str], function: str) -> dict[str, Any]:
        fn = self.backend.function(function)
        found, token = page([self.backend.trigger_shape(fn, t) for t in fn.triggers.values()],
                            "triggerName", params)
        return {"triggers": found, "nextToken": token}

    def _get_trigger(self, params: dict[str, str], function: str, trigger: str) -> dict[str, Any]:
        fn = self.backend.function(function)
        found = fn.triggers.get(trigger)
        if found is None:
            raise errors.trigger_not_found(function, trigger)
        return self.backend.trigger_shape(fn, found)
