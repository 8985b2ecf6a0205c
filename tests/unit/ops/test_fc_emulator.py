"""The fake Function Compute 3.0, driven by the real `alibabacloud-fc20230330` SDK through both
doors."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from alibabacloud_fc20230330 import models
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_openapi.utils import Utils
from alibabacloud_tea_util.models import RuntimeOptions

from imagedrop_emulator import Clock, CloudServer, FakeCloud, mock_cloud
from imagedrop_emulator.fc import FakeTrigger

REAL_HOST = "1234567890123456.cn-hangzhou.fc.aliyuncs.com"
ASYNC = models.InvokeFunctionHeaders(x_fc_invocation_type="Async")


@pytest.fixture
def fc_cloud() -> FakeCloud:
    cloud = FakeCloud(clock=Clock(speed=0.0), services=("fc",))
    cloud.received = []  # type: ignore[attr-defined]
    cloud.fc.register_function("imagedrop-ingest", cloud.received.append,  # type: ignore[attr-defined]
                               triggers=[FakeTrigger("oss-in", "oss", "acs:oss:cn-hangzhou:1:b",
                                                     {"filter": {"key": {"prefix": "incoming/"}}})])
    return cloud


def _client(cloud: FakeCloud, host: str, protocol: str, secret: str | None = None) -> Client:
    return Client(Config(access_key_id=cloud.access_key_id, access_key_secret=secret or cloud.access_key_secret,
                         endpoint=host, protocol=protocol, region_id="cn-hangzhou"))


@pytest.fixture(params=["mocked", pytest.param("served", marks=pytest.mark.server)])
def door(request: pytest.FixtureRequest, fc_cloud: FakeCloud) -> Iterator[tuple[FakeCloud, Any]]:
    if request.param == "mocked":
        with mock_cloud(fc_cloud):
            yield fc_cloud, lambda **kw: _client(fc_cloud, REAL_HOST, "https", **kw)
    else:
        with CloudServer(fc_cloud) as server:
            host = server.endpoints["fc"].removeprefix("http://")
            yield fc_cloud, lambda **kw: _client(fc_cloud, host, "http", **kw)


def _invoke(client: Client, name: str, body: bytes, **kw: Any) -> models.InvokeFunctionResponse:
    return client.invoke_function_with_options(
        name, models.InvokeFunctionRequest(body=body, qualifier="LATEST", **kw), ASYNC, RuntimeOptions())


def test_async_invoke_is_accepted_then_delivered_by_the_pump(door: tuple[FakeCloud, Any]) -> None:
    cloud, client = door
    response = _invoke(client(), "imagedrop-ingest", b'{"events": []}')
    assert response.status_code == 202
    assert {k.lower() for k in response.headers} >= {"x-fc-request-id"}
    assert response.body.read() == b""
    assert cloud.received == []          # accepted, not run yet: it is asynchronous
    cloud.pump.run_until_idle()
    assert cloud.received == [b'{"events": []}']


def test_get_function_and_list_triggers(door: tuple[FakeCloud, Any]) -> None:
    _, client = door
    fc = client()
    function = fc.get_function_with_options("imagedrop-ingest", models.GetFunctionRequest(), {},
                                            RuntimeOptions()).body
    assert (function.function_name, function.runtime, function.handler) == (
        "imagedrop-ingest", "python3.12", "index.handler")
    assert function.function_arn == "acs:fc:cn-hangzhou:1234567890123456:functions/imagedrop-ingest"
    triggers = fc.list_triggers_with_options("imagedrop-ingest", models.ListTriggersRequest(), {},
                                             RuntimeOptions()).body.triggers
    assert [(t.trigger_name, t.trigger_type) for t in triggers] == [("oss-in", "oss")]
    assert json.loads(triggers[0].trigger_config) == {"filter": {"key": {"prefix": "incoming/"}}}


def test_list_triggers_pages_with_next_token(door: tuple[FakeCloud, Any]) -> None:
    cloud, client = door
    cloud.fc.register_function("many", print,
                               triggers=[FakeTrigger(f"t{i}", "timer") for i in range(5)])
    fc, names, token = client(), [], None
    while True:
        request = models.ListTriggersRequest(limit=2, next_token=token)
        body = fc.list_triggers_with_options("many", request, {}, RuntimeOptions()).body
        names += [t.trigger_name for t in body.triggers]
        token = body.next_token
        if not token:
            break
    assert names == ["t0", "t1", "t2", "t3", "t4"]


def test_unknown_function_errors(door: tuple[FakeCloud, Any]) -> None:
    _, client = door
    with pytest.raises(ClientException) as missing:
        client().get_function_with_options("nope", models.GetFunctionRequest(), {},
                                           RuntimeOptions())
    assert (missing.value.code, missing.value.status_code) == ("FunctionNotFound", 404)
    assert "function 'nope' does not exist." in missing.value.message
    with pytest.raises(ClientException) as invoke_missing:
        _invoke(client(), "other", b"{}")
    assert invoke_missing.value.code == "FunctionNotFound"
    with pytest.raises(ClientException) as alias:
        prod = models.InvokeFunctionRequest(body=b"{}", qualifier="prod")
        client().invoke_function_with_options("imagedrop-ingest", prod, ASYNC, RuntimeOptions())
    assert alias.value.code == "AliasNotFound"


def test_a_name_needing_percent_encoding_reaches_its_function(door: tuple[FakeCloud, Any]) -> None:
    cloud, client = door
    got: list[bytes] = []
    cloud.fc.register_function("fn:with space", got.append)
    assert _invoke(client(), "fn:with space", b"x").status_code == 202
    cloud.pump.run_until_idle()
    assert got == [b"x"]


def test_an_async_payload_over_128_kib_is_refused(door: tuple[FakeCloud, Any]) -> None:
    cloud, client = door
    with pytest.raises(ClientException) as err:
        _invoke(client(), "imagedrop-ingest", b"x" * (128 * 1024 + 1))
    assert (err.value.status_code, err.value.code) == (400, "EntityTooLarge")
    assert cloud.received == []


def test_a_wrong_secret_fails_the_signature(door: tuple[FakeCloud, Any]) -> None:
    cloud, client = door
    with pytest.raises(ClientException) as caught:
        _invoke(client(secret="not-the-secret"), "imagedrop-ingest", b"{}")
    assert caught.value.code == "SignatureDoesNotMatch"
    assert "string to sign" in caught.value.message
    cloud.pump.run_until_idle()
    assert cloud.received == []


def test_a_stale_date_and_a_reused_nonce_are_refused(door: tuple[FakeCloud, Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cloud, client = door
    monkeypatch.setattr(Utils, "get_timestamp", staticmethod(lambda: "2020-09-13T12:26:40Z"))
    with pytest.raises(ClientException) as stale:
        _invoke(client(), "imagedrop-ingest", b"{}")
    assert stale.value.code == "InvalidTimeStamp.Expired"
    monkeypatch.undo()
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: "the-same-nonce"))
    _invoke(client(), "imagedrop-ingest", b"once")
    with pytest.raises(ClientException) as reused:
        _invoke(client(), "imagedrop-ingest", b"twice")
    assert reused.value.code == "SignatureNonceUsed"
    cloud.pump.run_until_idle()
    assert cloud.received == [b"once"]


def test_throttling_is_429_resource_throttled(door: tuple[FakeCloud, Any]) -> None:
    cloud, client = door
    cloud.faults.add("fc", "InvokeFunction", "throttle", times=1)
    with pytest.raises(ClientException) as err:
        _invoke(client(), "imagedrop-ingest", b"{}")
    assert (err.value.status_code, err.value.code) == (429, "ResourceThrottled")
    assert _invoke(client(), "imagedrop-ingest", b"{}").status_code == 202


def test_a_2_0_path_is_not_served(fc_cloud: FakeCloud) -> None:
    """FC 3.0 has no services: a 2021-04-06 path is no route to its functions."""
    import requests

    with mock_cloud(fc_cloud):
        path = "/2021-04-06/services/imagedrop/functions/imagedrop-ingest"
        resp = requests.get(f"https://{REAL_HOST}{path}", timeout=5)
    assert (resp.status_code, resp.json()["Code"]) == (404, "PathNotSupported")
