"""Hooks (`Faults.before`): another party acting right before a service carries out a call."""

from __future__ import annotations

import io
import threading

import pytest
from core_stub_wire import EchoWire

from imagedrop_emulator.core import WireRequest, dispatch
from imagedrop_emulator.faults import Call, Faults


def put(wire: EchoWire, faults: Faults, path: str, query: str = "") -> int:
    req = WireRequest("PUT", path, query, {"host": "echo.local"}, io.BytesIO(b""), 0)
    return dispatch(wire, req, faults).status


def test_a_hook_runs_once_before_the_service_carries_out_the_call_it_names() -> None:
    wire, faults = EchoWire(), Faults()
    seen: list[tuple[Call, int]] = []
    hook = faults.before("echo", "PutThing", lambda call: seen.append((call, len(wire.handled))))

    assert put(wire, faults, "/GetThing/a") == 200       # another action: not this hook's
    assert seen == []
    assert put(wire, faults, "/PutThing/a%2Fb", "Name=web&Size=3") == 200
    assert put(wire, faults, "/PutThing/b") == 200       # one turn by default
    # it ran before the service had the call (one request handled then: the GetThing)
    assert seen == [(Call("echo", "PutThing", {"Name": "web", "Size": "3"}, "/PutThing/a/b"), 1)]
    assert hook.fired == 1 and len(wire.handled) == 3


def test_when_chooses_the_call_and_a_call_it_refuses_takes_no_turn() -> None:
    wire, faults = EchoWire(), Faults()
    names: list[str] = []
    faults.before("echo", "PutThing", lambda call: names.append(call.params["Name"]),
                  when=lambda call: call.params.get("Name") == "web", times=2)

    for name in ("db", "web", "cache", "web", "web"):
        put(wire, faults, "/PutThing/x", f"Name={name}")

    assert names == ["web", "web"]


def test_times_none_runs_on_every_call_and_clear_removes_the_hook() -> None:
    wire, faults = EchoWire(), Faults()
    paths: list[str] = []
    faults.before("*", "*", lambda call: paths.append(call.path), times=None)
    for path in ("/A/1", "/B/2", "/A/3"):
        put(wire, faults, path)
    faults.clear()
    put(wire, faults, "/A/4")
    assert paths == ["/A/1", "/B/2", "/A/3"]


@pytest.mark.parametrize("kind, runs", [("throttle", False), ("503", False), ("reset", False),
                                        ("lost-500", True), ("lost-reset", True)])
def test_a_call_the_service_never_sees_runs_no_hook_and_a_lost_answers_call_does(
        kind: str, runs: bool) -> None:
    wire, faults = EchoWire(), Faults()
    faults.add("echo", "PutThing", kind, times=1)  # type: ignore[arg-type]
    ran: list[Call] = []
    hook = faults.before("echo", "PutThing", ran.append)
    try:
        put(wire, faults, "/PutThing/a")
    except Exception:   # the reset kinds drop the connection
        pass
    assert bool(ran) is runs and hook.fired == int(runs)
    put(wire, faults, "/PutThing/a")   # a hook not taken is still there for the next call
    assert len(ran) == 1


def test_two_calls_at_once_cannot_both_take_the_last_turn() -> None:
    wire, faults = EchoWire(), Faults()
    both_asked = threading.Barrier(2, timeout=10)
    ran: list[str] = []

    def when(call: Call) -> bool:
        both_asked.wait()   # each call has its `when` answered before either takes the turn
        return True

    faults.before("echo", "PutThing", lambda call: ran.append(call.path), when=when)
    threads = [threading.Thread(target=put, args=(wire, faults, f"/PutThing/{n}"))
               for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ran) == 1 and len(wire.handled) == 2
