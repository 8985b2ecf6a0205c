"""The emulated `Clock`, the `CredentialStore`, and the `WireRequest` helpers every wire uses."""

from __future__ import annotations

import io
import threading

import pytest

from imagedrop_emulator.clock import Clock
from imagedrop_emulator.core import ServiceError, WireRequest, WireResponse, spool
from imagedrop_emulator.credentials import CredentialStore

# --------------------------------------------------------------------------- clock


def test_frozen_clock_stands_still_until_advanced() -> None:
    clock = Clock(speed=0.0, start=1_700_000_000.0)
    assert clock.now() == 1_700_000_000.0
    threading.Event().wait(0.01)  # real time passes...
    assert clock.now() == 1_700_000_000.0  # ...emulated time does not

    clock.advance(90.5)
    clock.advance(0)
    assert clock.now() == 1_700_000_090.5


def test_clock_refuses_to_go_back() -> None:
    clock = Clock(speed=0.0, start=100.0)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    assert clock.now() == 100.0


def test_clock_without_start_begins_near_the_real_epoch() -> None:
    import time

    before = time.time()
    now = Clock(speed=0.0).now()
    assert before <= now <= time.time()


def test_running_clock_moves_forward_at_its_speed() -> None:
    clock = Clock(speed=1000.0, start=0.0)
    first = clock.now()
    threading.Event().wait(0.005)
    assert clock.now() > first


def test_set_speed_keeps_time_continuous_and_freezes_at_zero() -> None:
    clock = Clock(speed=1000.0, start=0.0)
    threading.Event().wait(0.005)
    clock.set_speed(0.0)
    frozen = clock.now()

    assert frozen > 0  # the time gained while running is kept, not lost
    assert clock.speed == 0.0
    threading.Event().wait(0.005)
    assert clock.now() == frozen

    clock.set_speed(1000.0)
    assert clock.speed == 1000.0
    assert clock.now() >= frozen  # restarting does not jump back to the start


def test_advance_adds_to_a_running_clock() -> None:
    clock = Clock(speed=1.0, start=0.0)
    clock.advance(3600)
    assert 3600 <= clock.now() < 3600 + 60


# --------------------------------------------------------------------------- credentials


def test_long_term_key_has_its_secret_and_must_not_carry_a_token() -> None:
    store = CredentialStore()
    store.add_key("LTAIkey", "secret")

    assert store.secret_for("LTAIkey") == "secret"
    assert store.token_ok("LTAIkey", None)
    assert store.token_ok("LTAIkey", "")
    assert not store.token_ok("LTAIkey", "CAISsomething")


def test_unknown_key_has_no_secret() -> None:
    assert CredentialStore().secret_for("LTAInobody") is None


def test_issued_sts_triple_is_usable_only_with_its_own_token() -> None:
    store = CredentialStore()
    ak, sk, token = store.issue_sts()

    assert ak.startswith("STS.")
    assert token.startswith("CAIS")
    assert store.secret_for(ak) == sk
    assert store.token_ok(ak, token)
    assert not store.token_ok(ak, None)
    assert not store.token_ok(ak, "")
    assert not store.token_ok(ak, token + "x")


def test_each_sts_issue_is_fresh_and_tokens_are_not_interchangeable() -> None:
    store = CredentialStore()
    first, second = store.issue_sts(), store.issue_sts()

    assert len({first[0], second[0]}) == 2
    assert len({first[1], second[1]}) == 2
    assert not store.token_ok(first[0], second[2])
    assert store.token_ok(first[0], first[2])  # an older triple stays valid


# --------------------------------------------------------------------------- wire request / response


def test_params_decode_plus_as_space_keep_order_blanks_and_repeats() -> None:
    req = WireRequest("GET", "/a%20b", "b=two+words&a=%2B1&acl&b=again", {"host": "h"})
    assert req.params() == [("b", "two words"), ("a", "+1"), ("acl", ""), ("b", "again")]
    assert req.param_dict()["b"] == "again"
    assert req.path == "/a%20b"  # the path stays as sent
    assert req.host == "h"
    assert req.header("HOST") == "h"
    assert req.header("x-missing", "dflt") == "dflt"


def test_body_bytes_rereads_from_the_start_and_refuses_too_large_bodies() -> None:
    req = WireRequest("PUT", "/", "", {}, io.BytesIO(b"0123456789"), 10)
    req.body.read(4)
    assert req.body_bytes() == b"0123456789"
    assert req.body_bytes() == b"0123456789"

    with pytest.raises(ServiceError) as caught:
        req.body_bytes(limit=9)
    assert (caught.value.status, caught.value.code) == (400, "EntityTooLarge")


def test_spool_counts_and_rewinds_skipping_empty_chunks() -> None:
    body, size = spool([b"ab", b"", b"cde"])
    assert size == 5
    assert body.read() == b"abcde"


def test_response_body_bytes_joins_an_iterable() -> None:
    assert WireResponse(200, body=iter([b"ab", b"c"]), length=3).body_bytes() == b"abc"
    assert WireResponse(200, body=bytearray(b"x")).body_bytes() == b"x"


def test_service_error_keeps_status_code_message_and_extra_fields() -> None:
    err = ServiceError(404, "NoSuchKey", "The specified key does not exist.", Key="a/b")
    assert (err.status, err.code, err.message, err.extra) == (
        404, "NoSuchKey", "The specified key does not exist.", {"Key": "a/b"})
    assert str(err) == "404 NoSuchKey: The specified key does not exist."
