"""The loopback door under a burst: many clients connect while the accept thread is not running
(as on a loaded machine), and every one of them is connected at once and answered."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from core_stub_wire import EchoWire

from imagedrop_emulator import Clock, CloudServer, FakeCloud

pytestmark = pytest.mark.server

BURST = 64


@pytest.fixture
def cloud() -> FakeCloud:
    cloud = FakeCloud(clock=Clock(speed=0.0), services=("oss", "mns"))
    cloud.register_service(EchoWire("echo"))
    return cloud


@pytest.fixture
def server(cloud: FakeCloud) -> Iterator[CloudServer]:
    with CloudServer(cloud) as running:
        yield running


def _stalled(server: CloudServer, name: str) -> tuple[int, threading.Thread]:
    """Stop the accept loop of `name` with its port still listening; returns the port and a thread
    that serves it again when started."""
    running = server.running[name]
    running.server.shutdown()  # the listening socket stays open: the kernel queues new connections
    resume = threading.Thread(target=running.server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    return urlsplit(running.endpoint).port or 0, resume


def _burst(port: int, request: bytes) -> list[socket.socket]:
    """BURST connections, each with `request` sent; a connection the listen queue cannot hold
    would wait for a SYN retry (a second or more) and fail the 2-second connect timeout."""
    sockets: list[socket.socket] = []
    try:
        for n in range(BURST):
            try:
                sockets.append(socket.create_connection(("127.0.0.1", port), timeout=2))
            except TimeoutError:
                pytest.fail(f"connection {n + 1} of {BURST} was not queued while the server was busy")
            sockets[-1].sendall(request)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _answer(sock: socket.socket) -> http.client.HTTPResponse:
    sock.settimeout(30)
    response = http.client.HTTPResponse(sock)
    response.begin()  # raises RemoteDisconnected if the server closed without answering
    return response


def test_a_burst_of_connections_waits_for_a_busy_server_and_every_request_is_answered(
        server: CloudServer) -> None:
    port, resume = _stalled(server, "echo")
    sockets = _burst(port, b"PUT /PutThing/burst HTTP/1.1\r\nHost: echo\r\nContent-Length: 5\r\n\r\nhello")
    try:
        resume.start()
        for sock in sockets:
            response = _answer(sock)
            assert response.status == 200
            doc = json.loads(response.read())
            assert (doc["method"], doc["path"], doc["received"]) == ("PUT", "/PutThing/burst", 5)
            assert not response.will_close  # still a keep-alive connection
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.parametrize("name", ["oss", "mns"])
def test_every_service_port_holds_a_burst(server: CloudServer, name: str) -> None:
    port, resume = _stalled(server, name)
    sockets = _burst(port, f"GET / HTTP/1.1\r\nHost: {name}\r\n\r\n".encode())
    try:
        resume.start()
        statuses = {_answer(sock).status for sock in sockets}
        assert len(statuses) == 1 and 400 <= statuses.pop() < 500  # unsigned: refused, but answered
    finally:
        for sock in sockets:
            sock.close()
