"""Loopback door: each fake on its own 127.0.0.1 port, speaking plain HTTP/1.1 with keep-alive."""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import urlsplit

from .cloud import FakeCloud
from .core import ConnectionDropped, WireRequest, WireService, dispatch, spool

log = logging.getLogger("imagedrop.emulator.server")


def _body_chunks(rfile, length: int) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
    remaining = length
    while remaining > 0:
        chunk = rfile.read(min(remaining, 1024 * 1024))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


def _chunked(rfile) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
    while True:
        line = rfile.readline(1024)
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                pass
            return
        yield rfile.read(size)
        rfile.readline(8)


def _handler_for(cloud: FakeCloud, wire: WireService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # small request/response pairs otherwise wait ~40 ms each
        server_version = "imagedrop-emulator"
        sys_version = ""

        def version_string(self) -> str:  # the default appends sys_version after a space
            return self.server_version

        def log_message(self, fmt: str, *args: object) -> None:
            log.debug("%s %s", wire.name, fmt % args)

        def _serve(self) -> None:
            split = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if headers.get("transfer-encoding", "").lower() == "chunked":
                body, size = spool(_chunked(self.rfile))
            else:
                body, size = spool(_body_chunks(self.rfile, int(headers.get("content-length") or 0)))
            req = WireRequest(self.command, split.path or "/", split.query, headers, body, size)
            try:
                resp = dispatch(wire, req, cloud.faults)
            except ConnectionDropped:
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            finally:
                body.close()
            self.send_response(resp.status)
            payload = resp.body if isinstance(resp.body, (bytes, bytearray)) else None
            length = len(payload) if payload is not None else resp.length
            for name, value in resp.headers.items():
                if name.lower() not in ("content-length", "connection", "server", "date"):
                    self.send_header(name, value)
            if length is None:
                payload = resp.body_bytes()
                length = len(payload)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if self.command == "HEAD":
                return
            if payload is not None:
                self.wfile.write(payload)
            else:
                for chunk in resp.body:  # type: ignore[union-attr]
                    self.wfile.write(chunk)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _serve

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up (an injected reset, a process exiting) is normal here.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


@dataclass
class RunningServer:
    name: str
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"


class CloudServer:
    """All the fakes of one cloud on loopback ports. A context manager; `endpoints` maps service → URL."""

    def __init__(self, cloud: FakeCloud, host: str = "127.0.0.1", ports: dict[str, int] | None = None):
        self.cloud = cloud
        self.host = host
        self.ports = ports or {}
        self.running: dict[str, RunningServer] = {}

    def start(self) -> "CloudServer":
        for name, wire in self.cloud.services.items():
            server = _QuietServer((self.host, self.ports.get(name, 0)), _handler_for(self.cloud, wire))
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                      name=f"emulator-{name}", daemon=True)
            thread.start()
            self.running[name] = RunningServer(name, server, thread)
        return self

    @property
    def endpoints(self) -> dict[str, str]:
        return {name: r.endpoint for name, r in self.running.items()}

    def stop(self) -> None:
        for r in self.running.values():
            r.server.shutdown()
            r.server.server_close()
        self.running.clear()

    def __enter__(self) -> "CloudServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
