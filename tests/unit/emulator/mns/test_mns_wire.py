"""Wire details: the signature against the SDK's own signer, raw requests, errors, HTTP subscribers."""

from __future__ import annotations

import base64
import http.client
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Iterator
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from mns.account import Account
from mns.auth import StaticCredentialsProvider
from mns.mns_client import MNSClient
from mns.queue import Message
from mns.subscription import SubscriptionMeta
from mns.topic import TopicMessage, TopicMeta

from imagedrop_emulator import CloudServer, FakeCloud
from imagedrop_emulator.mns.wire import auth
from imagedrop_emulator.mns.wire.routes import raw_params, route

NS = "{http://mns.aliyuncs.com/doc/v1/}"


def test_our_string_to_sign_matches_the_sdk_signer() -> None:
    headers = {"content-md5": auth.content_md5(b"<Message/>"), "content-type": "text/xml;charset=UTF-8",
               "date": "Wed, 25 Nov 2026 21:28:35 GMT", "x-mns-version": "2015-06-06",
               "x-mns-user-request-id": "abc", "host": "127.0.0.1:1"}
    resource = "/queues/import-tasks/messages?waitseconds=10"
    sdk = MNSClient("http://127.0.0.1:1", "LTAIkey", "s3cret")
    expected = sdk.get_signature("GET", headers, resource, StaticCredentialsProvider("LTAIkey", "s3cret", "")
                                 .get_credentials())

    assert auth.authorization("LTAIkey", "s3cret", "GET", headers, resource) == expected
    assert auth.string_to_sign("GET", headers, resource).endswith(
        "x-mns-user-request-id:abc\nx-mns-version:2015-06-06\n/queues/import-tasks/messages?waitseconds=10")


def test_content_md5_is_base64_of_the_hex_digest() -> None:
    assert auth.content_md5(b"") == base64.b64encode(b"d41d8cd98f00b204e9800998ecf8427e").decode()


def test_raw_params_keep_plus_and_equals_of_receipt_handles() -> None:
    assert raw_params("ReceiptHandle=1-ab+c/d==&VisibilityTimeout=10") == {
        "ReceiptHandle": "1-ab+c/d==", "VisibilityTimeout": "10"}


@pytest.mark.parametrize("method, path, query, head, action", [
    ("PUT", "/queues/q", "", b"", "CreateQueue"),
    ("PUT", "/queues/q", "metaoverride=true", b"", "SetQueueAttributes"),
    ("POST", "/queues/q/messages", "", b'<?xml version="1.0"?><Messages xmlns="x">', "BatchSendMessage"),
    ("GET", "/queues/q/messages", "peekonly=true", b"", "PeekMessage"),
    ("GET", "/queues/q/messages", "numOfMessages=3&waitseconds=1", b"", "BatchReceiveMessage"),
    ("DELETE", "/queues/q/messages", "ReceiptHandle=1-a==", b"", "DeleteMessage"),
    ("PUT", "/queues/q/messages", "ReceiptHandle=1-a==&VisibilityTimeout=3", b"", "ChangeMessageVisibility"),
    ("POST", "/topics/t/messages", "", b"<Message>", "PublishMessage"),
    ("PUT", "/topics/t/subscriptions/s", "", b"", "Subscribe"),
    ("GET", "/topics/t/subscriptions", "", b"", "ListSubscriptionByTopic"),
])
def test_routes(method: str, path: str, query: str, head: bytes, action: str) -> None:
    assert route(method, path, query, head)[0] == action


def signed_request(server: CloudServer, cloud: FakeCloud, method: str, path: str, body: bytes = b"",
                   secret: str | None = None, md5: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"date": formatdate(usegmt=True), "x-mns-version": "2015-06-06"}
    if body:
        headers["content-md5"] = md5 if md5 is not None else auth.content_md5(body)
        headers["content-type"] = "text/xml;charset=UTF-8"
    headers["authorization"] = auth.authorization(cloud.access_key_id, secret or cloud.access_key_secret,
                                                  method, headers, path)
    conn = http.client.HTTPConnection(urlsplit(server.endpoints["mns"]).netloc, timeout=10)
    conn.request(method, path, body or None, headers)
    resp = conn.getresponse()
    out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    conn.close()
    return out


def error_of(body: bytes) -> dict[str, str]:
    root = ElementTree.fromstring(body)
    assert root.tag == f"{NS}Error"
    return {child.tag.removeprefix(NS): child.text or "" for child in root}


@pytest.mark.server
def test_errors_carry_code_message_request_id_and_host_id(mns_server: CloudServer, mns_cloud: FakeCloud) -> None:
    status, headers, body = signed_request(mns_server, mns_cloud, "GET", "/queues/missing")
    error = error_of(body)
    assert status == 404
    assert list(error) == ["Code", "Message", "RequestId", "HostId"]
    assert error["Code"] == "QueueNotExist" and "'missing'" in error["Message"]
    assert headers["x-mns-request-id"] and error["HostId"] == mns_server.endpoints["mns"]


@pytest.mark.server
def test_a_body_that_does_not_match_content_md5_is_invalid_degist(mns_server: CloudServer,
                                                                  mns_cloud: FakeCloud) -> None:
    mns_cloud.mns.create_queue("q")
    body = b'<?xml version="1.0"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>x</MessageBody></Message>'
    status, _, reply = signed_request(mns_server, mns_cloud, "POST", "/queues/q/messages", body,
                                      md5=auth.content_md5(b"something else"))
    assert (status, error_of(reply)["Code"]) == (400, "InvalidDegist")
    assert mns_cloud.mns.queue_counts("q")["ActiveMessages"] == 0

    status, _, reply = signed_request(mns_server, mns_cloud, "POST", "/queues/q/messages", b"<Message>")
    assert (status, error_of(reply)["Code"]) == (400, "MalformedXML")


@pytest.mark.server
def test_missing_authorization_and_unknown_operations(mns_server: CloudServer, mns_cloud: FakeCloud) -> None:
    conn = http.client.HTTPConnection(urlsplit(mns_server.endpoints["mns"]).netloc, timeout=10)
    conn.request("GET", "/queues", headers={"date": "x"})
    resp = conn.getresponse()
    assert (resp.status, error_of(resp.read())["Code"]) == (400, "MissingAuthorizationHeader")
    conn.close()

    status, _, reply = signed_request(mns_server, mns_cloud, "PATCH", "/queues/q/messages/extra")
    assert (status, error_of(reply)["Code"]) == (400, "InvalidRequestURL")


@pytest.mark.server
def test_batch_send_receive_and_peek_through_the_sdk(mns_cloud: FakeCloud, account: Account) -> None:
    mns_cloud.mns.create_queue("q")
    queue = account.get_queue("q")
    sent = queue.batch_send_message([Message(f"m{i}") for i in range(3)])
    assert len({m.message_id for m in sent}) == 3

    assert queue.peek_message().message_body == b"m0"
    got = queue.batch_receive_message(3, 0)
    assert [m.message_body for m in got] == [b"m0", b"m1", b"m2"]
    queue.batch_delete_message([m.receipt_handle for m in got])
    assert mns_cloud.mns.queue("q").messages == {}


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((self.headers["Content-Type"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/notify"
    server.shutdown()
    server.server_close()


@pytest.mark.server
def test_http_subscribers_get_the_notification_through_the_pump(mns_cloud: FakeCloud, account: Account,
                                                                hook: str) -> None:
    topic = account.get_topic("events")
    topic.create(TopicMeta())
    topic.get_subscription("web").subscribe(SubscriptionMeta(hook, notify_content_format="XML"))
    with pytest.raises(Exception) as refused:
        topic.get_subscription("far").subscribe(SubscriptionMeta("http://example.com/x"))
    assert getattr(refused.value, "type", "") == "EndpointInvalid"

    topic.publish_message(TopicMessage("import done"))
    assert _Hook.received == []  # delivery is asynchronous, like the real service
    mns_cloud.pump.run_until_idle()

    [(content_type, body)] = _Hook.received
    assert content_type.startswith("text/xml")
    note = {c.tag.removeprefix(NS): c.text for c in ElementTree.fromstring(body)}
    assert (note["Message"], note["SubscriptionName"], note["TopicName"]) == ("import done", "web", "events")


def test_long_poll_with_a_running_clock_wakes_for_a_delayed_message() -> None:
    from imagedrop_emulator import Clock

    cloud = FakeCloud(clock=Clock(speed=1000.0), services=("mns",))
    cloud.mns.create_queue("q")
    cloud.mns.send_message("q", "soon", delay_seconds=50)  # 50 emulated s = 0.05 real s at 1000x
    assert cloud.mns.receive_message("q", wait_seconds=30).body == "soon"
