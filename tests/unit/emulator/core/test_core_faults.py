"""Fault knobs (`Faults`) and the one place they are injected (`dispatch`)."""

from __future__ import annotations

import io
import json
import random
from xml.etree import ElementTree

import pytest
from core_stub_wire import EchoWire

from imagedrop_emulator import Clock, FakeCloud
from imagedrop_emulator.core import ConnectionDropped, WireRequest, dispatch
from imagedrop_emulator.faults import Faults


def calls(faults: Faults, n: int, service: str = "ecs", action: str = "ImportImage") -> list[str | None]:
    return [faults.decide(service, action)[0] for _ in range(n)]


# --------------------------------------------------------------------------- rules


def test_times_fires_exactly_that_many_calls_then_lets_calls_through() -> None:
    faults = Faults()
    rule = faults.add("ecs", "ImportImage", "throttle", times=2)

    assert calls(faults, 4) == ["throttle", "throttle", None, None]
    assert rule.fired == 2
    assert faults.injected == [("ecs", "ImportImage", "throttle")] * 2


def test_rule_matches_only_its_service_and_action_unless_wildcarded() -> None:
    faults = Faults()
    faults.add("oss", "GetObject", "503")
    faults.add("mns", "*", "500")

    assert faults.decide("oss", "GetObject") == ("503", 0)
    assert faults.decide("oss", "PutObject") == (None, 0)
    assert faults.decide("ecs", "GetObject") == (None, 0)
    assert faults.decide("mns", "ReceiveMessage") == ("500", 0)
    assert faults.decide("mns", "SendMessage") == ("500", 0)


def test_star_service_matches_every_service() -> None:
    faults = Faults()
    faults.add("*", "*", "reset", times=3)

    assert [faults.decide(s, "X")[0] for s in ("oss", "ecs", "mns", "fc")] == ["reset"] * 3 + [None]


def test_rate_follows_the_seeded_random_sequence() -> None:
    # Given a 30% rule and seed 7, each call draws one number from Random(7)
    faults = Faults(seed=7)
    faults.add("oss", "GetObject", "503", rate=0.3)
    reference = random.Random(7)

    got = calls(faults, 500, "oss", "GetObject")

    expected = ["503" if reference.random() < 0.3 else None for _ in range(500)]
    assert got == expected
    assert 100 < got.count("503") < 200  # the knob really is about 30%, not all or nothing


def test_same_seed_replays_the_same_faults_and_another_seed_does_not() -> None:
    def run(seed: int) -> list[str | None]:
        faults = Faults(seed=seed)
        faults.add("oss", "*", "503", rate=0.5)
        return calls(faults, 64, "oss", "PutObject")

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_rate_zero_never_fires_and_does_not_count() -> None:
    faults = Faults()
    rule = faults.add("ecs", "*", "500", rate=0.0)
    assert calls(faults, 50) == [None] * 50
    assert rule.fired == 0
    assert faults.injected == []


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_add_refuses_a_rate_outside_0_to_1(rate: float) -> None:
    with pytest.raises(ValueError, match="rate must be between 0 and 1"):
        Faults().add("ecs", "*", "500", rate=rate)


def test_add_refuses_an_unknown_kind_and_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="throttle, 500, 503, reset, latency"):
        Faults().add("ecs", "*", "explode")  # type: ignore[arg-type]


def test_clear_removes_rules_and_scripts() -> None:
    faults = Faults()
    faults.add("ecs", "*", "500")
    faults.script("oss", "GetObject", ["reset"])
    faults.clear()
    assert faults.decide("ecs", "ImportImage") == (None, 0)
    assert faults.decide("oss", "GetObject") == (None, 0)


# --------------------------------------------------------------------------- latency


def test_latency_rules_add_up_and_are_not_recorded_as_injected_faults() -> None:
    faults = Faults()
    faults.add("mns", "*", "latency", latency_ms=5)
    faults.add("*", "SendMessage", "latency", latency_ms=7)

    assert faults.decide("mns", "SendMessage") == (None, 12)
    assert faults.decide("mns", "ReceiveMessage") == (None, 5)
    assert faults.injected == []


@pytest.mark.parametrize("latency_first", [True, False])
def test_latency_accompanies_a_fault_whatever_the_rule_order(latency_first: bool) -> None:
    faults = Faults()
    if latency_first:
        faults.add("oss", "*", "latency", latency_ms=20)
    faults.add("oss", "*", "503", times=1)
    if not latency_first:
        faults.add("oss", "*", "latency", latency_ms=20)

    assert faults.decide("oss", "GetObject") == ("503", 20)
    assert faults.decide("oss", "GetObject") == (None, 20)


def test_only_the_first_matching_fault_fires_and_later_ones_keep_their_budget() -> None:
    faults = Faults()
    first = faults.add("ecs", "*", "throttle", times=1)
    second = faults.add("ecs", "*", "500", times=1)

    assert calls(faults, 3) == ["throttle", "500", None]
    assert (first.fired, second.fired) == (1, 1)


# --------------------------------------------------------------------------- scripts


def test_script_plays_its_sequence_in_order_and_none_lets_a_call_through() -> None:
    faults = Faults()
    faults.script("ecs", "ImportImage", ["throttle", None, "503", "reset"])

    assert calls(faults, 6) == ["throttle", None, "503", "reset", None, None]
    assert faults.injected == [("ecs", "ImportImage", "throttle"), ("ecs", "ImportImage", "503"),
                               ("ecs", "ImportImage", "reset")]
    assert faults.decide("ecs", "DescribeTasks") == (None, 0)  # scripts are per action


def test_a_scripted_fault_keeps_latency_and_leaves_other_rules_their_budget() -> None:
    faults = Faults()
    faults.add("oss", "*", "latency", latency_ms=15)
    throttle = faults.add("oss", "GetObject", "throttle", times=1)
    faults.script("oss", "GetObject", ["reset"])

    assert faults.decide("oss", "GetObject") == ("reset", 15)
    assert throttle.fired == 0
    assert faults.decide("oss", "GetObject") == ("throttle", 15)


def test_a_new_script_replaces_the_old_one() -> None:
    faults = Faults()
    faults.script("oss", "PutObject", ["500", "500"])
    faults.script("oss", "PutObject", ["reset"])
    assert calls(faults, 2, "oss", "PutObject") == ["reset", None]


# --------------------------------------------------------------------------- spec strings


def test_spec_string_adds_each_comma_separated_rule() -> None:
    faults = Faults()
    faults.add_spec(" ecs:ImportImage:throttle*2 , mns:*:latency=50ms,oss:GetObject:reset@1.0*1,")

    assert calls(faults, 3) == ["throttle", "throttle", None]
    assert faults.decide("mns", "SendMessage") == (None, 50)
    assert faults.decide("oss", "GetObject") == ("reset", 0)
    assert faults.decide("oss", "GetObject") == (None, 0)
    assert faults.decide("oss", "PutObject") == (None, 0)


def test_spec_rate_uses_the_seeded_random() -> None:
    faults = Faults(seed=11)
    faults.add_spec("oss:GetObject:503@0.25")
    reference = random.Random(11)
    expected = ["503" if reference.random() < 0.25 else None for _ in range(200)]
    assert calls(faults, 200, "oss", "GetObject") == expected


@pytest.mark.parametrize("bad", [
    "ecs:ImportImage",                 # no kind
    "ecs:ImportImage:explode",         # unknown kind
    "ECS:ImportImage:throttle",        # service names are lower case
    "ecs:ImportImage:throttle*",       # times without a number
    "ecs:ImportImage:throttle@",       # rate without a number
    "oss:GetObject:503@1.2.3",         # not a number
    "oss:GetObject:503@.",             # not a number
    "oss:GetObject:503@1.5",           # above 1
    "mns:*:latency=50",                # latency needs its unit
])
def test_bad_spec_is_a_value_error_naming_the_part_and_the_expected_form(bad: str) -> None:
    faults = Faults()
    with pytest.raises(ValueError) as caught:
        faults.add_spec(f"oss:*:500*1,{bad}")
    message = str(caught.value)
    assert repr(bad) in message
    assert "service:action:kind[=Nms][@rate][*times]" in message
    assert "e.g. ecs:ImportImage:throttle*2" in message
    # Nothing from a rejected spec is applied, not even its valid parts
    assert faults.decide("oss", "GetObject") == (None, 0)


# --------------------------------------------------------------------------- dispatch


def echo_request(path: str, body: bytes = b"") -> WireRequest:
    return WireRequest("PUT", path, "", {"host": "echo.local"}, io.BytesIO(body), len(body))


def answer(faults: Faults, path: str) -> tuple[int, dict[str, str]]:
    resp = dispatch(EchoWire(), echo_request(path, b"abc"), faults)
    return resp.status, json.loads(resp.body_bytes())


def test_dispatch_without_faults_answers_through_handle() -> None:
    status, doc = answer(Faults(), "/PutThing/a")
    assert status == 200
    assert (doc["method"], doc["path"], doc["received"]) == ("PUT", "/PutThing/a", 3)


def test_dispatch_renders_a_service_error_from_handle_in_the_service_dialect() -> None:
    status, doc = answer(Faults(), "/Missing/a")
    assert status == 404
    assert doc == {"Code": "NoSuchThing", "Message": "The specified thing does not exist.",
                   "Thing": "missing-one"}


def test_dispatch_renders_an_unroutable_request_as_an_error_without_consulting_faults() -> None:
    faults = Faults()
    faults.add("*", "*", "reset")
    status, doc = answer(faults, "/Unroutable")
    assert (status, doc["Code"]) == (400, "InvalidAction.NotFound")
    assert faults.injected == []


@pytest.mark.parametrize("kind, status, code, message", [
    ("throttle", 429, "Throttling.Echo", "Request was denied due to flow control."),
    ("500", 500, "InternalError", "The request processing has failed due to some unknown error."),
    ("503", 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."),
])
def test_dispatch_turns_a_fault_into_an_error_response(kind: str, status: int, code: str,
                                                       message: str) -> None:
    faults = Faults()
    faults.add("echo", "PutThing", kind, times=1)  # type: ignore[arg-type]
    wire = EchoWire()

    resp = dispatch(wire, echo_request("/PutThing/a"), faults)

    assert resp.status == status
    assert json.loads(resp.body_bytes()) == {"Code": code, "Message": message}
    assert wire.handled == []  # the fault answered instead of the service
    assert dispatch(wire, echo_request("/PutThing/a"), faults).status == 200


def test_dispatch_raises_connection_dropped_for_reset_naming_service_and_action() -> None:
    faults = Faults()
    faults.script("echo", "PutThing", ["reset"])
    with pytest.raises(ConnectionDropped, match="echo:PutThing"):
        dispatch(EchoWire(), echo_request("/PutThing/a"), faults)


def test_dispatch_waits_out_injected_latency_then_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("imagedrop_emulator.core.time.sleep", slept.append)
    faults = Faults()
    faults.add("echo", "*", "latency", latency_ms=250)
    faults.add("echo", "*", "latency", latency_ms=50)

    resp = dispatch(EchoWire(), echo_request("/PutThing/a"), faults)

    assert resp.status == 200
    assert slept == [0.3]


# ---- each real service speaks its own throttle / 5xx dialect


def _service_request(service: str) -> WireRequest:
    if service == "oss":
        return WireRequest("GET", "/obj", "", {"host": "drop.oss-cn-hangzhou.aliyuncs.com"})
    if service == "ecs":
        return WireRequest("POST", "/", "Action=ImportImage&RegionId=cn-hangzhou",
                           {"host": "ecs.cn-hangzhou.aliyuncs.com"})
    body = b"<Message><MessageBody>hi</MessageBody></Message>"
    return WireRequest("POST", "/queues/q/messages", "", {"host": "1.mns.cn-hangzhou.aliyuncs.com"},
                       io.BytesIO(body), len(body))


def _code_of(service: str, body: bytes) -> tuple[str, str]:
    if service == "ecs":
        doc = json.loads(body)
        return doc["Code"], doc["Message"]
    root = ElementTree.fromstring(body)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    return root.findtext(f"{ns}Code") or "", root.findtext(f"{ns}Message") or ""


@pytest.fixture(scope="module")
def three_services() -> FakeCloud:
    return FakeCloud(clock=Clock(speed=0.0), services=("oss", "ecs", "mns"))


@pytest.mark.parametrize("service, action, status, code", [
    ("oss", "GetObject", 503, "TotalQpsLimitExceeded"),
    ("ecs", "ImportImage", 400, "Throttling.User"),
    ("mns", "SendMessage", 429, "TooManyRequests"),
])
def test_throttle_fault_answers_each_services_own_throttle_error(
        three_services: FakeCloud, service: str, action: str, status: int, code: str) -> None:
    faults = Faults()
    faults.add(service, action, "throttle")

    resp = dispatch(three_services.services[service], _service_request(service), faults)

    assert resp.status == status
    assert _code_of(service, resp.body_bytes())[0] == code
    assert faults.injected == [(service, action, "throttle")]


@pytest.mark.parametrize("service", ["oss", "ecs", "mns"])
@pytest.mark.parametrize("kind, code", [("500", "InternalError"), ("503", "ServiceUnavailable")])
def test_5xx_fault_is_rendered_in_each_services_dialect(three_services: FakeCloud, service: str,
                                                        kind: str, code: str) -> None:
    faults = Faults()
    faults.add(service, "*", kind)  # type: ignore[arg-type]

    resp = dispatch(three_services.services[service], _service_request(service), faults)

    assert resp.status == int(kind)
    got_code, got_message = _code_of(service, resp.body_bytes())
    assert got_code == code
    assert "fail" in got_message
