"""A tiny `WireService` for the shared-core tests: echoes what it received, in JSON."""

from __future__ import annotations

import hashlib
import json

from imagedrop_emulator.core import ServiceError, WireRequest, WireResponse


class EchoWire:
    """Answers every request with a JSON description of it; errors as `{"Code", "Message"}`.

    The action is the first path segment (`/PutThing/x` → `PutThing`); `/Unroutable` cannot be
    routed and `/Missing` answers a 404 from `handle`, so both error paths of `dispatch` show;
    `/Stream?chunks=N[&nolength]` answers N 1000-byte chunks as an iterable body.
    """

    def __init__(self, name: str = "echo"):
        self.name = name
        self.handled: list[WireRequest] = []

    def action_of(self, req: WireRequest) -> str:
        action = req.path.lstrip("/").split("/", 1)[0] or "Root"
        if action == "Unroutable":
            raise ServiceError(400, "InvalidAction.NotFound", "The specified action is not valid.")
        return action

    def handle(self, req: WireRequest) -> WireResponse:
        self.handled.append(req)
        if self.action_of(req) == "Missing":
            raise ServiceError(404, "NoSuchThing", "The specified thing does not exist.",
                               Thing="missing-one")
        if self.action_of(req) == "Stream":  # an iterable body, with or without its length
            count = int(req.param_dict().get("chunks", "3"))
            chunks = (bytes([65 + i % 26]) * 1000 for i in range(count))
            length = None if "nolength" in req.param_dict() else 1000 * count
            return WireResponse(200, {"Content-Type": "application/octet-stream"}, chunks, length)
        body = req.body_bytes()
        doc = {"method": req.method, "path": req.path, "query": req.query,
               "params": req.params(), "host": req.host, "length": req.content_length,
               "received": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        data = json.dumps(doc).encode()
        return WireResponse(200, {"Content-Type": "application/json", "X-Echo": "1"}, data)

    def error_response(self, err: ServiceError, req: WireRequest) -> WireResponse:
        data = json.dumps({"Code": err.code, "Message": err.message, **err.extra}).encode()
        return WireResponse(err.status, {"Content-Type": "application/json"}, data)

    def throttle_error(self) -> ServiceError:
        return ServiceError(429, "Throttling.Echo", "Request was denied due to flow control.")
