"""The loopback door: `CloudServer` speaks HTTP/1.1 with keep-alive on 127.0.0.1 ports."""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
from typing import Iterator
from urllib.parse import urlsplit

import oss2
import pytest
from core_stub_wire import EchoWire

from imagedrop_emulator import Clock, CloudServer, FakeCloud
from imagedrop_emulator.core import SPOOL_LIMIT

pytestmark = pytest.mark.server

BIG = 6 * 1024 * 1024  # above SPOOL_LIMIT: the body goes through a temporary file


@pytest.fixture
def echo_cloud() -> FakeCloud:
    cloud = FakeCloud(clock=Clock(speed=0.0), services=())
    cloud.register_service(EchoWire("echo"))
    cloud.register_service(EchoWire("ecs"))
    return cloud


@pytest.fixture
def server(echo_cloud: FakeCloud) -> Iterator[CloudServer]:
    with CloudServer(echo_cloud) as running:
        yield running


@pytest.fixture
def conn(server: CloudServer) -> Iterator[http.client.HTTPConnection]:
    address = urlsplit(server.endpoints["echo"])
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    yield connection
    connection.close()


def big_payload() -> bytes:
    return hashlib.sha256(b"seed").digest() * (BIG // 32) + b"tail"


def echo(conn: http.client.HTTPConnection, method: str, path: str, body: object = None,
         headers: dict[str, str] | None = None, **kw: object) -> tuple[int, dict]:
    conn.request(method, path, body=body, headers=headers or {}, **kw)  # type: ignore[arg-type]
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def test_every_service_gets_its_own_loopback_port(server: CloudServer) -> None:
    endpoints = server.endpoints
    assert sorted(endpoints) == ["echo", "ecs"]
    parts = [urlsplit(url) for url in endpoints.values()]
    assert {(p.scheme, p.hostname) for p in parts} == {("http", "127.0.0.1")}
    assert len({p.port for p in parts}) == 2


def test_stopping_closes_the_ports(echo_cloud: FakeCloud) -> None:
    with CloudServer(echo_cloud) as running:
        port = urlsplit(running.endpoints["echo"]).port
    assert running.endpoints == {}
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_two_requests_share_one_keep_alive_connection(conn: http.client.HTTPConnection) -> None:
    status, first = echo(conn, "PUT", "/PutThing/one?a=1", body=b"first")
    sock = conn.sock
    local = sock.getsockname()
    status2, second = echo(conn, "GET", "/GetThing/two")

    assert (status, status2) == (200, 200)
    assert conn.sock is sock and sock.getsockname() == local  # no reconnect in between
    assert (first["path"], first["query"], first["received"]) == ("/PutThing/one", "a=1", 5)
    assert (second["method"], second["received"]) == ("GET", 0)


def test_request_path_and_query_arrive_as_sent(conn: http.client.HTTPConnection) -> None:
    _, doc = echo(conn, "GET", "/GetThing/a%20b%2Fc?x=two+words&y=%2B&flag")
    assert doc["path"] == "/GetThing/a%20b%2Fc"
    assert doc["query"] == "x=two+words&y=%2B&flag"
    assert doc["params"] == [["x", "two words"], ["y", "+"], ["flag", ""]]
    assert doc["host"].startswith("127.0.0.1:")


def test_chunked_request_body_is_spooled_whole(conn: http.client.HTTPConnection) -> None:
    pieces = [b"alpha-", b"", b"beta-" * 1000, b"gamma"]
    status, doc = echo(conn, "PUT", "/PutThing", body=iter(pieces), encode_chunked=True,
                       headers={"Transfer-Encoding": "chunked"})
    data = b"".join(pieces)
    assert status == 200
    assert (doc["length"], doc["received"]) == (len(data), len(data))
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()
    # the connection is still in step for the next request
    assert echo(conn, "GET", "/GetThing")[0] == 200


def test_chunk_extensions_and_trailers_are_consumed(server: CloudServer) -> None:
    port = urlsplit(server.endpoints["echo"]).port
    requests = [b"PUT /PutThing HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n",
                b"GET /GetThing/after HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"]
    docs = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for raw in requests:  # the second request parses only if the first was consumed exactly
            sock.sendall(raw)
            resp = http.client.HTTPResponse(sock)
            resp.begin()
            docs.append(json.loads(resp.read()))
    assert docs[0]["received"] == 15
    assert docs[0]["sha256"] == hashlib.sha256(b"hello0123456789").hexdigest()
    assert docs[1]["path"] == "/GetThing/after"


@pytest.mark.parametrize("chunked", [False, True])
def test_body_above_the_spool_limit_arrives_intact(conn: http.client.HTTPConnection,
                                                   chunked: bool) -> None:
    data = big_payload()
    assert len(data) > SPOOL_LIMIT
    if chunked:
        pieces = (data[i:i + 65536] for i in range(0, len(data), 65536))
        status, doc = echo(conn, "PUT", "/PutThing", body=pieces, encode_chunked=True,
                           headers={"Transfer-Encoding": "chunked"})
    else:
        status, doc = echo(conn, "PUT", "/PutThing", body=data)
    assert status == 200
    assert (doc["length"], doc["received"]) == (len(data), len(data))
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()


def test_reset_fault_drops_the_connection_and_the_next_one_works(echo_cloud: FakeCloud,
                                                                 conn: http.client.HTTPConnection) -> None:
    echo_cloud.faults.script("echo", "PutThing", ["reset"])

    with pytest.raises(ConnectionError):
        conn.request("PUT", "/PutThing", body=b"lost")
        conn.getresponse().read()
    conn.close()

    assert echo(conn, "PUT", "/PutThing", body=b"kept")[0] == 200
    assert echo_cloud.faults.injected == [("echo", "PutThing", "reset")]


def test_error_faults_come_back_as_responses_on_a_live_connection(echo_cloud: FakeCloud,
                                                                  conn: http.client.HTTPConnection) -> None:
    echo_cloud.faults.add_spec("echo:GetThing:503*1")
    status, doc = echo(conn, "GET", "/GetThing")
    assert (status, doc["Code"]) == (503, "ServiceUnavailable")
    assert echo(conn, "GET", "/GetThing")[0] == 200


def test_head_answers_headers_only_and_keeps_the_connection_usable(conn: http.client.HTTPConnection) -> None:
    conn.request("GET", "/GetThing/x")
    get = conn.getresponse()
    get_length = int(get.getheader("Content-Length"))
    get.read()

    conn.request("HEAD", "/GetThing/x")
    head = conn.getresponse()
    assert head.status == 200
    assert int(head.getheader("Content-Length")) == get_length + len('"HEAD"') - len('"GET"')
    assert head.read() == b""

    # a stray body after HEAD would be parsed as the next status line and fail here
    status, doc = echo(conn, "GET", "/GetThing/next")
    assert (status, doc["path"]) == (200, "/GetThing/next")


@pytest.mark.parametrize("query, chunks", [("chunks=5", 5), ("chunks=4&nolength", 4)])
def test_iterable_response_bodies_are_sent_with_their_length(conn: http.client.HTTPConnection,
                                                             query: str, chunks: int) -> None:
    conn.request("GET", f"/Stream?{query}")
    resp = conn.getresponse()
    body = resp.read()
    assert int(resp.getheader("Content-Length")) == len(body) == 1000 * chunks
    assert body[:1000] == b"A" * 1000 and body[-1000:] == bytes([65 + chunks - 1]) * 1000
    assert echo(conn, "GET", "/GetThing")[0] == 200


def test_response_headers_are_passed_but_the_server_owns_framing(conn: http.client.HTTPConnection) -> None:
    conn.request("GET", "/GetThing")
    resp = conn.getresponse()
    resp.read()
    assert resp.getheader("X-Echo") == "1"
    assert resp.getheader("Content-Type") == "application/json"
    assert resp.getheader("Server") == "imagedrop-emulator"
    assert len(resp.headers.get_all("Content-Length")) == 1


# --------------------------------------------------------------------------- a real service


@pytest.fixture
def oss_server() -> Iterator[tuple[FakeCloud, oss2.Bucket]]:
    cloud = FakeCloud(clock=Clock(speed=0.0), services=("oss",))
    cloud.oss.create_bucket("core-server-bucket")
    with CloudServer(cloud) as running:
        auth = oss2.Auth(cloud.access_key_id, cloud.access_key_secret)
        yield cloud, oss2.Bucket(auth, running.endpoints["oss"], "core-server-bucket", connect_timeout=5)
    cloud.oss.close()


def test_oss2_big_object_round_trips_through_the_server(oss_server: tuple[FakeCloud, oss2.Bucket]) -> None:
    _, bucket = oss_server
    data = big_payload()
    bucket.put_object("images/big.raw", data)
    assert bucket.get_object("images/big.raw").read() == data
    assert bucket.head_object("images/big.raw").content_length == len(data)
    assert bucket.get_object("images/big.raw", byte_range=(BIG - 4, BIG + 3)).read() == data[-8:]


def test_oss2_sees_a_reset_as_a_request_error(oss_server: tuple[FakeCloud, oss2.Bucket]) -> None:
    cloud, bucket = oss_server
    cloud.faults.script("oss", "GetObject", ["reset"])
    bucket.put_object("k", b"v")
    with pytest.raises(oss2.exceptions.RequestError):
        bucket.get_object("k").read()
    assert bucket.get_object("k").read() == b"v"
