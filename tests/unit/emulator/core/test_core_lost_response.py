"""Lost responses: the service carries the request out, then the caller sees a reset or a 5xx.

The most dangerous fault for an at-least-once pipeline: a retry repeats something that already
happened (a second import task, a second message, an overwritten record).
"""

from __future__ import annotations

import io
import json

import oss2
import pytest
import requests
from core_stub_wire import EchoWire

from imagedrop_emulator import Clock, FakeCloud, mock_cloud
from imagedrop_emulator.core import ConnectionDropped, WireRequest, dispatch
from imagedrop_emulator.faults import Faults


def echo_request(path: str) -> WireRequest:
    return WireRequest("PUT", path, "", {"host": "echo.local"}, io.BytesIO(b"abc"), 3)


@pytest.mark.parametrize("kind, status, code", [("lost-500", 500, "InternalError"),
                                                ("lost-503", 503, "ServiceUnavailable")])
def test_lost_5xx_is_answered_after_the_service_handled_the_request(kind: str, status: int,
                                                                    code: str) -> None:
    wire, faults = EchoWire(), Faults()
    faults.add("echo", "PutThing", kind, times=1)  # type: ignore[arg-type]

    resp = dispatch(wire, echo_request("/PutThing/a"), faults)

    assert [r.path for r in wire.handled] == ["/PutThing/a"]   # it happened...
    assert resp.status == status                               # ...but the caller saw a 5xx
    assert json.loads(resp.body_bytes())["Code"] == code
    assert faults.injected == [("echo", "PutThing", kind)]
    assert dispatch(wire, echo_request("/PutThing/b"), faults).status == 200


def test_lost_reset_drops_the_connection_after_the_service_handled_the_request() -> None:
    wire, faults = EchoWire(), Faults()
    faults.script("echo", "PutThing", ["lost-reset"])

    with pytest.raises(ConnectionDropped, match="echo:PutThing"):
        dispatch(wire, echo_request("/PutThing/a"), faults)

    assert len(wire.handled) == 1


def test_plain_reset_still_drops_the_request_before_the_service_sees_it() -> None:
    wire, faults = EchoWire(), Faults()
    faults.script("echo", "PutThing", ["reset"])

    with pytest.raises(ConnectionDropped):
        dispatch(wire, echo_request("/PutThing/a"), faults)

    assert wire.handled == []


def test_a_service_error_is_lost_too() -> None:
    wire, faults = EchoWire(), Faults()
    faults.add("echo", "Missing", "lost-500")

    resp = dispatch(wire, echo_request("/Missing/x"), faults)

    assert len(wire.handled) == 1
    assert resp.status == 500


def test_spec_strings_accept_the_lost_kinds() -> None:
    faults = Faults()
    faults.add_spec("ecs:ImportImage:lost-reset*1,mns:SendMessage:lost-503@1.0,oss:*:lost-500*2")

    assert faults.decide("ecs", "ImportImage") == ("lost-reset", 0)
    assert faults.decide("ecs", "ImportImage") == (None, 0)
    assert faults.decide("mns", "SendMessage") == ("lost-503", 0)
    assert [faults.decide("oss", "PutObject")[0] for _ in range(3)] == ["lost-500", "lost-500", None]


def test_an_unknown_lost_kind_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(ValueError, match="lost-reset, lost-500, lost-503"):
        Faults().add_spec("oss:*:lost-429")


def test_oss_put_with_a_lost_reset_writes_the_object_the_client_thinks_failed() -> None:
    # Given a real oss2 client on the in-process door, and the next PutObject's answer lost
    cloud = FakeCloud(clock=Clock(speed=0.0), services=("oss",))
    cloud.oss.create_bucket("drop")
    cloud.faults.script("oss", "PutObject", ["lost-reset"])
    bucket = oss2.Bucket(oss2.Auth(cloud.access_key_id, cloud.access_key_secret),
                         "https://oss-cn-hangzhou.aliyuncs.com", "drop")
    with mock_cloud(cloud):
        # When the client puts an object
        with pytest.raises((oss2.exceptions.RequestError, requests.ConnectionError)):
            bucket.put_object("k", b"written")
        # Then the object is there all the same, and a put-if-absent retry finds it taken
        assert bucket.get_object("k").read() == b"written"
        with pytest.raises(oss2.exceptions.ServerError) as taken:
            bucket.put_object("k", b"again", headers={"x-oss-forbid-overwrite": "true"})
    assert taken.value.status == 409
