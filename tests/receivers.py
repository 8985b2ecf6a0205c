"""What a receiver does with our requests: a loopback HTTP server records them (`Inbox`), the
receivers' own libraries read them (the `cloudevents` SDK reads an event back, `standardwebhooks`
verifies a signature)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

import pytest
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Inbox:
    """A loopback HTTP server: records each request; answers from a script per path."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: dict[str, list[tuple[int, bytes]]] = {}
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                inbox.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                answers = inbox.script.get(urlsplit(self.path).path) or [(200, b"ok")]
                status, reply = answers.pop(0) if len(answers) > 1 else answers[0]
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if urlsplit(r.path).path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    box.thread.start()
    yield box
    box.close()


ATTRIBUTES = ("id", "source", "type", "specversion", "subject", "datacontenttype")


def read_event(headers: Mapping[str, str], body: bytes) -> BaseCloudEvent:
    """The CloudEvent as the SDK reads it; the request must be in structured mode."""
    lowered = {k.lower(): v for k, v in headers.items()}
    assert not [k for k in lowered if k.startswith("ce-")], lowered
    return from_http_event(HTTPMessage(headers=lowered, body=body))


def assert_same_event(read: BaseCloudEvent, sent: Mapping[str, Any]) -> None:
    """`read` has every attribute of `sent`, one by one, and its whole `data`."""
    attributes = read.get_attributes()
    for name in ATTRIBUTES:
        assert attributes.get(name) == sent[name], name
    assert read.get_time() is not None and read.get_time().strftime("%Y-%m-%dT%H:%M:%SZ") == sent["time"]
    data = read.get_data()
    assert (json.loads(data) if isinstance(data, (str, bytes)) else data) == sent["data"]


def verify_signed(secret: str, headers: Mapping[str, str], body: bytes) -> Any:
    """The payload when `standardwebhooks` accepts the request; it raises otherwise."""
    return Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})


def signed_by(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether `standardwebhooks` accepts the request as signed with `secret`."""
    try:
        verify_signed(secret, headers, body)
    except WebhookVerificationError:
        return False
    return True
