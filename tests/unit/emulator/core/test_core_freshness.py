"""The nonce memory: a nonce is refused again within the window, forgotten after it, and the
memory never holds more than its limit. Times are passed in; nothing waits."""

from __future__ import annotations

from imagedrop_emulator.freshness import MAX_SKEW_SECONDS, NonceMemory, is_skewed, parse_http_date

NOW = 1_800_000_000.0


def test_a_nonce_is_good_once_within_the_window() -> None:
    seen = NonceMemory()
    assert seen.use("AK", "n1", NOW, NOW)
    assert not seen.use("AK", "n1", NOW, NOW + MAX_SKEW_SECONDS - 1)
    assert seen.use("other-key", "n1", NOW, NOW)   # per AccessKey


def test_a_nonce_is_forgotten_once_its_request_would_be_stale_anyway() -> None:
    seen = NonceMemory()
    for i in range(1000):
        seen.use("AK", f"n{i}", NOW, NOW)
    assert len(seen) == 1000
    later = NOW + MAX_SKEW_SECONDS + 1
    assert is_skewed(NOW, later)                   # the old requests are refused as stale now
    assert seen.use("AK", "fresh", later, later)
    assert len(seen) == 1


def test_a_request_dated_ahead_keeps_its_nonce_until_its_own_window_ends() -> None:
    seen = NonceMemory()
    ahead = NOW + MAX_SKEW_SECONDS - 10            # accepted: within the window, ahead of now
    assert seen.use("AK", "early", ahead, NOW)
    assert not seen.use("AK", "early", ahead, NOW + MAX_SKEW_SECONDS + 5)


def test_the_memory_is_bounded_under_a_flood() -> None:
    seen = NonceMemory(limit=100)
    for i in range(10_000):
        assert seen.use("AK", f"n{i}", NOW + i * 0.001, NOW)
    assert len(seen) == 100
    assert not seen.use("AK", "n9999", NOW, NOW)   # the newest are the ones kept


def test_http_dates() -> None:
    assert parse_http_date("Sun, 13 Sep 2020 12:26:40 GMT") == 1_600_000_000
    assert parse_http_date("yesterday") is None
    assert parse_http_date("") is None
