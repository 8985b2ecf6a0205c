"""The in-process door: `mock_cloud` routes `*.aliyuncs.com` by host name and refuses the rest."""

from __future__ import annotations

import hashlib
import io
from typing import Iterator

import oss2
import pytest
import requests
from core_stub_wire import EchoWire

from imagedrop_emulator import Clock, CloudServer, FakeCloud, mock_cloud
from imagedrop_emulator.mount import service_for_host


@pytest.mark.parametrize("host, service", [
    ("bucket.oss-cn-hangzhou.aliyuncs.com", "oss"),
    ("oss-cn-hangzhou-internal.aliyuncs.com", "oss"),
    ("oss-cn-hangzhou.aliyuncs.com", "oss"),
    ("ecs-images.oss-ap-northeast-1.aliyuncs.com", "oss"),   # a bucket named like another service
    ("mns.oss-cn-hangzhou.aliyuncs.com", "oss"),
    ("fc.oss-cn-hangzhou.aliyuncs.com", "oss"),
    ("Bucket.OSS-CN-HANGZHOU.aliyuncs.com", "oss"),
    ("ecs-cn-hangzhou.aliyuncs.com", "ecs"),
    ("ecs.ap-northeast-1.aliyuncs.com", "ecs"),
    ("ecs-vpc.cn-shanghai.aliyuncs.com", "ecs"),
    ("ecs.aliyuncs.com", "ecs"),
    ("1234.mns.cn-hangzhou.aliyuncs.com", "mns"),
    ("1234.mns.cn-hangzhou-internal.aliyuncs.com", "mns"),
    ("1234.cn-hangzhou.fc.aliyuncs.com", "fc"),
    ("1234.cn-hangzhou-internal.fc.aliyuncs.com", "fc"),
    ("sts.aliyuncs.com", None),
    ("sts.cn-hangzhou.aliyuncs.com", None),
    ("ram.aliyuncs.com", None),
    ("vpc.cn-hangzhou.aliyuncs.com", None),
])
def test_service_for_real_endpoint_hosts(host: str, service: str | None) -> None:
    assert service_for_host(host) == service


@pytest.fixture
def echo_cloud() -> FakeCloud:
    """A cloud whose only service is the echo stub, answering as `ecs`."""
    cloud = FakeCloud(clock=Clock(speed=0.0), services=())
    cloud.register_service(EchoWire("ecs"))
    return cloud


@pytest.fixture
def mocked_echo(echo_cloud: FakeCloud) -> Iterator[FakeCloud]:
    with mock_cloud(echo_cloud):
        yield echo_cloud


@pytest.mark.parametrize("url", [
    "https://sts.aliyuncs.com/?Action=AssumeRole",
    "http://bucket.oss-cn-hangzhou.aliyuncs.com/key",          # oss is not registered here
    "https://1234.mns.cn-hangzhou.aliyuncs.com:443/queues/q",
])
def test_request_to_a_host_no_fake_answers_is_refused_naming_the_host(mocked_echo: FakeCloud,
                                                                      url: str) -> None:
    host = url.split("/")[2].split(":")[0]
    with pytest.raises(requests.ConnectionError) as caught:
        requests.get(url, timeout=5)
    assert repr(host) in str(caught.value)
    assert "refusing to leave the machine" in str(caught.value)


def test_request_to_any_other_internet_host_is_refused_too(mocked_echo: FakeCloud) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get("http://example.com/", timeout=5)


def test_request_reaches_the_service_for_its_host_with_path_query_and_body(mocked_echo: FakeCloud) -> None:
    resp = requests.post("https://ecs-vpc.cn-shanghai.aliyuncs.com:443/PutThing/a%2Fb?x=two+words&flag",
                         data=b"payload", timeout=5)

    assert resp.status_code == 200
    assert resp.headers["X-Echo"] == "1"
    doc = resp.json()
    assert doc["method"] == "POST"
    assert doc["path"] == "/PutThing/a%2Fb"       # still percent-encoded
    assert doc["query"] == "x=two+words&flag"
    assert doc["params"] == [["x", "two words"], ["flag", ""]]
    assert doc["host"] == "ecs-vpc.cn-shanghai.aliyuncs.com"
    assert (doc["length"], doc["received"]) == (7, 7)


@pytest.mark.parametrize("kind", ["file", "generator", "str"])
def test_request_bodies_of_every_shape_arrive_whole(mocked_echo: FakeCloud, kind: str) -> None:
    data = bytes(range(256)) * 9000  # > 2 MiB, read by the door in 1 MiB pieces
    body: object
    if kind == "file":
        body = io.BytesIO(data)
    elif kind == "generator":
        body = (data[i:i + 100_000] for i in range(0, len(data), 100_000))
    else:
        data = b"plain ascii text"
        body = data.decode()
    resp = requests.put("http://ecs.aliyuncs.com/PutThing", data=body, timeout=5)  # type: ignore[arg-type]
    doc = resp.json()
    assert doc["received"] == len(data)
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_service_error_comes_back_as_the_services_error_response(mocked_echo: FakeCloud) -> None:
    resp = requests.get("https://ecs.cn-hangzhou.aliyuncs.com/Missing", timeout=5)
    assert resp.status_code == 404
    assert resp.json()["Code"] == "NoSuchThing"


def test_reset_fault_surfaces_as_a_connection_error_then_calls_work_again(mocked_echo: FakeCloud) -> None:
    mocked_echo.faults.add("ecs", "PutThing", "reset", times=1)

    with pytest.raises(requests.ConnectionError, match=r"injected fault ecs:PutThing"):
        requests.put("https://ecs.cn-hangzhou.aliyuncs.com/PutThing", data=b"x", timeout=5)
    assert requests.put("https://ecs.cn-hangzhou.aliyuncs.com/PutThing", data=b"x",
                        timeout=5).status_code == 200
    assert mocked_echo.faults.injected == [("ecs", "PutThing", "reset")]


def test_throttle_fault_is_the_services_throttle_error(mocked_echo: FakeCloud) -> None:
    mocked_echo.faults.add_spec("ecs:GetThing:throttle*1")
    resp = requests.get("https://ecs.cn-hangzhou.aliyuncs.com/GetThing", timeout=5)
    assert (resp.status_code, resp.json()["Code"]) == (429, "Throttling.Echo")


# --------------------------------------------------------------------------- with real oss2

BUCKET = "core-door-bucket"


@pytest.fixture
def oss_cloud() -> Iterator[FakeCloud]:
    cloud = FakeCloud(clock=Clock(speed=0.0), services=("oss",))
    cloud.oss.create_bucket(BUCKET)
    yield cloud
    cloud.oss.close()


def oss_bucket(cloud: FakeCloud, endpoint: str) -> oss2.Bucket:
    return oss2.Bucket(oss2.Auth(cloud.access_key_id, cloud.access_key_secret), endpoint, BUCKET,
                       connect_timeout=5)


def test_oss2_reset_through_mock_cloud_is_a_request_error_wrapping_connection_error(
        oss_cloud: FakeCloud) -> None:
    oss_cloud.faults.script("oss", "PutObject", ["reset"])
    with mock_cloud(oss_cloud):
        bucket = oss_bucket(oss_cloud, "http://oss-cn-hangzhou.aliyuncs.com")
        with pytest.raises(oss2.exceptions.RequestError) as caught:
            bucket.put_object("k", b"v")
        assert isinstance(caught.value.exception, requests.ConnectionError)

        bucket.put_object("k", b"v")
        assert bucket.get_object("k").read() == b"v"


def test_oss2_throttle_through_mock_cloud_carries_the_oss_code(oss_cloud: FakeCloud) -> None:
    oss_cloud.faults.add("oss", "GetObject", "throttle", times=1)
    with mock_cloud(oss_cloud):
        bucket = oss_bucket(oss_cloud, "http://oss-cn-hangzhou.aliyuncs.com")
        bucket.put_object("k", b"v")
        with pytest.raises(oss2.exceptions.ServerError) as caught:
            bucket.get_object("k")
        assert (caught.value.status, caught.value.code) == (503, "TotalQpsLimitExceeded")
        assert caught.value.message == "Max total qps limit is exceeded"


@pytest.mark.server
def test_loopback_server_is_reachable_from_inside_mock_cloud(oss_cloud: FakeCloud) -> None:
    with CloudServer(oss_cloud) as server, mock_cloud(oss_cloud):
        bucket = oss_bucket(oss_cloud, server.endpoints["oss"])
        bucket.put_object("through-loopback", b"data")
        assert bucket.get_object("through-loopback").read() == b"data"
        raw = requests.get(server.endpoints["oss"] + "/", timeout=5)
        assert raw.status_code == 403  # unsigned, answered by the fake, not refused by the mock
