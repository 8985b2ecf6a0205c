"""In-process door: the fakes behind `responses`, for SDKs built on `requests` (oss2, ECS, FC).

Any request to `*.aliyuncs.com` that no fake answers fails loudly, so nothing leaves the machine.
The MNS SDK uses http.client, which `responses` cannot see: use the server door for it.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import requests
import responses

from .cloud import FakeCloud
from .core import ConnectionDropped, WireRequest, dispatch, spool

_ALIYUN = re.compile(r"^https?://(?P<host>[^/:?#]*\.aliyuncs\.com)(?::\d+)?(?P<rest>[/?].*|)$")
_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS")


def service_for_host(host: str) -> str | None:
    """Which fake answers a real endpoint host name."""
    labels = host.lower().split(".")
    if any(label.startswith("oss-") or label == "oss" for label in labels):
        return "oss"
    if any(label == "mns" or label.startswith("mns-") for label in labels):
        return "mns"
    if labels[0].startswith("ecs") or "ecs" in labels:
        return "ecs"
    if any(label == "fc" or label.startswith("fc-") for label in labels) or ".fc." in host:
        return "fc"
    return None


def _to_wire(prepared: requests.PreparedRequest) -> WireRequest:
    match = _ALIYUN.match(prepared.url or "")
    rest = (match["rest"] if match else "/") or "/"
    path, _, query = rest.partition("?")
    headers = {k.lower(): str(v) for k, v in prepared.headers.items()}
    if match:
        headers.setdefault("host", match["host"])
    body = prepared.body
    if body is None:
        chunks: list[bytes] = []
    elif isinstance(body, (bytes, bytearray)):
        chunks = [bytes(body)]
    elif isinstance(body, str):
        chunks = [body.encode()]
    elif hasattr(body, "read"):
        chunks = iter(lambda: body.read(1024 * 1024), b"")  # type: ignore[union-attr,assignment]
    else:
        chunks = (c if isinstance(c, bytes) else str(c).encode() for c in body)  # type: ignore[assignment]
    stream, size = spool(chunks)
    return WireRequest(prepared.method or "GET", path or "/", query, headers, stream, size)


@contextmanager
def mock_cloud(cloud: FakeCloud) -> Iterator[responses.RequestsMock]:
    """Route every `requests` call to `*.aliyuncs.com` into `cloud`; refuse anything unknown."""

    def callback(prepared: requests.PreparedRequest):  # type: ignore[no-untyped-def]
        req = _to_wire(prepared)
        name = service_for_host(req.host)
        wire = cloud.services.get(name or "")
        if wire is None:
            raise requests.ConnectionError(
                f"imagedrop emulator: no fake answers {req.host!r}; refusing to leave the machine")
        try:
            resp = dispatch(wire, req, cloud.faults)
        except ConnectionDropped as exc:
            raise requests.ConnectionError(f"Connection reset by peer (injected fault {exc})") from None
        return resp.status, resp.headers, resp.body_bytes()

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in _METHODS:
            mock.add_callback(method, _ALIYUN, callback=callback)
        # Local addresses pass through (the loopback server door); nothing else does.
        mock.add_passthru(re.compile(r"^https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?/"))
        yield mock
