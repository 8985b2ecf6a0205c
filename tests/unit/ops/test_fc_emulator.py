"""The fake Function Compute, driven by the real `alibabacloud-fc-open20210406` SDK through both doors."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from alibabacloud_fc_open20210406 import models
from alibabacloud_fc_open20210406.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_util.models import RuntimeOptions

from imagedrop_emulator import Clock, CloudServer, FakeCloud, mock_cloud
from imagedrop_emulator.fc import FakeTrigger

REAL_HOST = "1234567890123456.cn-hangzhou.fc.aliyuncs.com"


@pytest.fixture
def fc_cloud() -> FakeCloud:
    cloud = FakeCloud(clock=Clock(speed=0.0), services=("fc",))
    cloud.received = []  # type: ignore[attr-defined]
    cloud.fc.register_function("imagedrop", "imagedrop-ingest", cloud.received.append,  # type: ignore[attr-defined]
                               triggers=[FakeTrigger("oss-in", "oss", "acs:oss:cn-hangzhou:1:b",
                                                     {"filter": {"key": {"prefix": "incoming/"}}})])
    return cloud


def _client(cloud: FakeCloud, host: str, protocol: str, secret: str | None = None) -> Client:
    return Client(Config(access_key_id=cloud.access_key_id, access_key_secret=secret or cloud.access_key_secret,
                         endpoint=host, protocol=protocol, region_id="cn-hangzhou"))


@pytest.fixture(params=["mocked", "served"])
def door(request: pytest.FixtureRequest, fc_cloud: FakeCloud) -> Iterator[tuple[FakeCloud, Any]]:
    if request.param == "mocked":
        with mock_cloud(fc_cloud):
            yield fc_cloud, lambda **kw: _client(fc_cloud, REAL_HOST, "https", **kw)
    else:
        with CloudServer(fc_cloud) as server:
            host = server.endpoints["fc"].removeprefix("http://")
            yield fc_cloud, lambda **kw: _client(fc_cloud, host, "http", **kw)


@pytest.mark.server
def test_async_invoke_is_accepted_then_delivered_by_the_pump(door: tuple[FakeCloud, Any]) -> None:
    cloud, client = door
    response = client().invoke_function_with_options(
        "imagedrop", "imagedrop-ingest", models.InvokeFunctionRequest(body=b'{"events": []}'),
        models.InvokeFunctionHeaders(x_fc_invocation_type="Async"), RuntimeOptions())
    assert response.status_code == 202
    assert {k.lower() for k in response.headers} >= {"x-fc-request-id"}
    assert cloud.received == []          # accepted, not run yet: it is asynchronous
    cloud.pump.run_until_idle()
    assert cloud.received == [b'{"events": []}']


@pytest.mark.server
def test_get_function_and_list_triggers(door: tuple[FakeCloud, Any]) -> None:
    _, client = door
    fc = client()
    function = fc.get_function_with_options("imagedrop", "imagedrop-ingest", models.GetFunctionRequest(),
                                            models.GetFunctionHeaders(), RuntimeOptions()).body
    assert (function.function_name, function.runtime, function.handler) == (
        "imagedrop-ingest", "python3.10", "index.handler")
    triggers = fc.list_triggers_with_options("imagedrop", "imagedrop-ingest", models.ListTriggersRequest(),
                                             models.ListTriggersHeaders(), RuntimeOptions()).body.triggers
    assert [(t.trigger_name, t.trigger_type) for t in triggers] == [("oss-in", "oss")]


@pytest.mark.server
def test_unknown_function_and_service_errors(door: tuple[FakeCloud, Any]) -> None:
    _, client = door
    with pytest.raises(ClientException) as missing:
        client().get_function_with_options("imagedrop", "nope", models.GetFunctionRequest(),
                                           models.GetFunctionHeaders(), RuntimeOptions())
    assert missing.value.code == "FunctionNotFound"
    assert "function 'nope' does not exist in service 'imagedrop'" in missing.value.message
    with pytest.raises(ClientException) as no_service:
        client().invoke_function_with_options("other", "f", models.InvokeFunctionRequest(body=b"{}"),
                                              models.InvokeFunctionHeaders(x_fc_invocation_type="Async"),
                                              RuntimeOptions())
    assert no_service.value.code == "ServiceNotFound"


@pytest.mark.server
def test_a_wrong_secret_fails_the_signature(door: tuple[FakeCloud, Any]) -> None:
    cloud, client = door
    with pytest.raises(ClientException) as caught:
        client(secret="not-the-secret").invoke_function_with_options(
            "imagedrop", "imagedrop-ingest", models.InvokeFunctionRequest(body=b"{}"),
            models.InvokeFunctionHeaders(x_fc_invocation_type="Async"), RuntimeOptions())
    assert caught.value.code == "SignatureDoesNotMatch"
    assert "string to sign" in caught.value.message
    cloud.pump.run_until_idle()
    assert cloud.received == []
