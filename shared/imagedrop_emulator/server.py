"""Loopback door: each fake on its own 127.0.0.1 port, speaking plain HTTP/1.1 with keep-alive."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import urlsplit

from .cloud import FakeCloud
from .core import SPOOL_LIMIT, ConnectionDropped, WireRequest, WireService, dispatch, spool

log = logging.getLogger("imagedrop_emulator.server")

# Header limits of http.client / http.server: a longer line or more lines answer 431.
_MAX_LINE = 65536
_MAX_HEADERS = 100
# A response whose body is at most this size leaves in one send() together with its headers.
_COALESCE_LIMIT = 256 * 1024
_FRAMING = frozenset({"content-length", "connection", "server", "date"})
_REASONS = {s.value: s.phrase for s in HTTPStatus}


class _Headers(dict):
    """Request headers with lower-cased names (the last of repeated names wins);
    `get` takes a name in any case, like the `email.message.Message` http.server builds."""

    def get(self, name: str, default=None):  # type: ignore[no-untyped-def,override]
        return dict.get(self, name.lower(), default)


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header value, formatted once a second rather than once a response."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


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
            if log.isEnabledFor(logging.DEBUG):  # no formatting when nobody listens
                log.debug("%s %s", wire.name, fmt % args)

        def parse_request(self) -> bool:
            """http.server's parse_request for the plain HTTP/1.0 and 1.1 request lines every
            client sends, without building an email.message.Message per request (the stdlib
            runs the full e-mail parser over the header block). Anything else (HTTP/0.9, a
            malformed or unknown version) goes through the stdlib code unchanged."""
            requestline = self.raw_requestline.decode("iso-8859-1").rstrip("\r\n")
            words = requestline.split()
            if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
                return bool(super().parse_request())
            self.requestline = requestline
            self.command, path, self.request_version = words
            self.close_connection = not (words[2] == "HTTP/1.1" and self.protocol_version >= "HTTP/1.1")
            if path.startswith("//"):  # gh-87389, as the stdlib does
                path = "/" + path.lstrip("/")
            self.path = path
            headers = _Headers()
            last = ""
            readline = self.rfile.readline
            while True:
                line = readline(_MAX_LINE + 1)
                if len(line) > _MAX_LINE:
                    self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long",
                                    "header line")
                    return False
                if line in (b"\r\n", b"\n", b""):
                    break
                if len(headers) >= _MAX_HEADERS:
                    self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers",
                                    f"got more than {_MAX_HEADERS} headers")
                    return False
                text = line.decode("iso-8859-1")
                if text[0] in " \t" and last:  # obsolete line folding: part of the last value
                    headers[last] += text.rstrip("\r\n")
                    continue
                name, sep, value = text.partition(":")
                if not sep:
                    continue
                last = name.lower()
                headers[last] = value.lstrip(" \t").rstrip("\r\n")
            self.headers = headers  # type: ignore[assignment]
            conntype = headers.get("connection", "").lower()
            if conntype == "close":
                self.close_connection = True
            elif conntype == "keep-alive" and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            if (headers.get("expect", "").lower() == "100-continue"
                    and self.protocol_version >= "HTTP/1.1" and self.request_version >= "HTTP/1.1"):
                return bool(self.handle_expect_100())
            return True

        def _read_body(self, headers: dict[str, str]):  # type: ignore[no-untyped-def]
            if headers.get("transfer-encoding", "").lower() == "chunked":
                return spool(_chunked(self.rfile))
            length = int(headers.get("content-length") or 0)
            if length <= SPOOL_LIMIT:  # small: one read into memory, no spooled file
                data = self.rfile.read(length) if length > 0 else b""
                return io.BytesIO(data), len(data)
            return spool(_body_chunks(self.rfile, length))

        def _serve(self) -> None:
            if self.path[:1] == "/" and "#" not in self.path:  # origin-form: what urlsplit gives
                path, _, query = self.path.partition("?")
            else:
                split = urlsplit(self.path)
                path, query = split.path, split.query
            raw = self.headers
            headers = dict(raw) if isinstance(raw, _Headers) else {k.lower(): v for k, v in raw.items()}
            body, size = self._read_body(headers)
            req = WireRequest(self.command, path or "/", query, headers, body, size)
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
            self._respond(resp)

        def _respond(self, resp) -> None:  # type: ignore[no-untyped-def]
            """Status line, headers and (a small) body in one send(): written piece by piece,
            a response costs the client one wake-up per piece."""
            self.log_request(resp.status)
            payload = resp.body if isinstance(resp.body, (bytes, bytearray)) else None
            length = len(payload) if payload is not None else resp.length
            if length is None:
                payload = resp.body_bytes()
                length = len(payload)
            lines = [f"{self.protocol_version} {resp.status} {_REASONS.get(resp.status, '')}",
                     f"Server: {self.version_string()}", f"Date: {_http_date()}"]
            lines += [f"{name}: {value}" for name, value in resp.headers.items()
                      if name.lower() not in _FRAMING]
            lines.append(f"Content-Length: {length}")
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
            send = self.connection.sendall
            if self.command == "HEAD":
                send(head)
                return
            chunks: Iterator[bytes] = iter(())
            if payload is None:  # an iterable body: its first chunk rides with the headers
                chunks = iter(resp.body)  # type: ignore[arg-type]
                first = next(chunks, b"")
            else:
                first = payload
            if len(first) <= _COALESCE_LIMIT:
                send(head + first)
            else:
                send(head)
                send(first)
            for chunk in chunks:
                send(chunk)

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
