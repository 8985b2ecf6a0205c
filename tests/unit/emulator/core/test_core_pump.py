"""`EventPump`: asynchronous deliveries with FC-style retries on the emulated clock."""

from __future__ import annotations

import threading

import pytest

from imagedrop_emulator.clock import Clock
from imagedrop_emulator.pump import DEFAULT_BACKOFF, EventPump

START = 1_000_000.0


@pytest.fixture
def clock() -> Clock:
    return Clock(speed=0.0, start=START)


@pytest.fixture
def pump(clock: Clock) -> EventPump:
    return EventPump(clock)


class Recorder:
    """A sink that notes (emulated time, payload) and fails its first `fail` calls."""

    def __init__(self, clock: Clock, fail: int = 0):
        self.clock = clock
        self.fail = fail
        self.seen: list[tuple[float, bytes]] = []

    def __call__(self, payload: bytes) -> None:
        self.seen.append((self.clock.now() - START, payload))
        if len(self.seen) <= self.fail:
            raise RuntimeError(f"function failed on call {len(self.seen)}")


class TimerSource:
    """A source that has one delivery due at each of `times` (seconds after START)."""

    def __init__(self, times: list[float]):
        self.times = sorted(START + t for t in times)
        self.polled: list[float] = []
        self.fired: list[float] = []

    def poll(self, now: float) -> int:
        self.polled.append(now)
        due = [t for t in self.times if t <= now]
        self.times = [t for t in self.times if t > now]
        self.fired += [now - START for _ in due]
        return len(due)

    def next_due(self, now: float) -> float | None:
        return self.times[0] if self.times else None


def test_deliveries_run_in_order_of_due_time_not_of_scheduling(clock: Clock, pump: EventPump) -> None:
    sink = Recorder(clock)
    pump.deliver_later("late", sink, b"late", delay=30)
    pump.deliver_later("now", sink, b"now")
    pump.deliver_later("soon", sink, b"soon", delay=5)
    pump.deliver_later("also-now", sink, b"also-now")
    assert pump.pending() == 4

    pump.run_until_idle()

    assert sink.seen == [(0, b"now"), (0, b"also-now"), (5, b"soon"), (30, b"late")]
    assert pump.delivered == 4
    assert pump.pending() == 0
    assert clock.now() == START + 30  # the frozen clock jumped, it did not wait


def test_pump_runs_only_what_is_due_now(clock: Clock, pump: EventPump) -> None:
    sink = Recorder(clock)
    pump.deliver_later("a", sink, b"a")
    pump.deliver_later("b", sink, b"b", delay=10)

    assert pump.pump() == 1
    assert pump.pump() == 0
    assert pump.next_due() == START + 10
    clock.advance(10)
    assert pump.pump() == 1
    assert [p for _, p in sink.seen] == [b"a", b"b"]


def test_failed_delivery_is_retried_with_backoff_then_succeeds(clock: Clock, pump: EventPump) -> None:
    sink = Recorder(clock, fail=2)
    pump.deliver_later("oss-trigger", sink, b"event")

    pump.run_until_idle()

    first, second = DEFAULT_BACKOFF[0], DEFAULT_BACKOFF[0] + DEFAULT_BACKOFF[1]
    assert [t for t, _ in sink.seen] == [0, first, second]
    assert pump.delivered == 1
    assert pump.failures == []
    assert [(e.name, e.attempts, e.error) for e in pump.errors] == [
        ("oss-trigger", 1, "RuntimeError: function failed on call 1"),
        ("oss-trigger", 2, "RuntimeError: function failed on call 2"),
    ]


def test_delivery_that_always_fails_is_given_up_after_every_retry(clock: Clock, pump: EventPump) -> None:
    sink = Recorder(clock, fail=10**6)
    pump.deliver_later("oss-trigger", sink, b"event", delay=2)

    pump.run_until_idle()

    # One try plus one retry per backoff step, each after its backoff on the emulated clock
    expected, t = [2.0], 2.0
    for step in DEFAULT_BACKOFF:
        t += step
        expected.append(t)
    assert [at for at, _ in sink.seen] == expected
    assert [e.attempts for e in pump.errors] == [1, 2, 3, 4]
    assert len(pump.failures) == 1
    gave_up = pump.failures[0]
    assert (gave_up.name, gave_up.payload, gave_up.attempts) == ("oss-trigger", b"event", 4)
    assert gave_up.error == "RuntimeError: function failed on call 4"
    assert pump.delivered == 0
    assert pump.pending() == 0


def test_custom_backoff_sets_the_retry_count_and_gaps(clock: Clock, pump: EventPump) -> None:
    sink = Recorder(clock, fail=10**6)
    pump.deliver_later("push", sink, b"m", backoff=(7.0,))

    pump.run_until_idle()

    assert [t for t, _ in sink.seen] == [0, 7]
    assert [f.attempts for f in pump.failures] == [2]


def test_no_backoff_means_no_retry(clock: Clock, pump: EventPump) -> None:
    sink = Recorder(clock, fail=1)
    pump.deliver_later("push", sink, b"m", backoff=())
    pump.run_until_idle()
    assert len(sink.seen) == 1
    assert [f.attempts for f in pump.failures] == [1]


def test_sources_are_polled_and_their_due_times_drive_the_clock(clock: Clock, pump: EventPump) -> None:
    source = TimerSource([3, 12])
    sink = Recorder(clock)
    pump.add_source(source)
    pump.deliver_later("between", sink, b"x", delay=6)

    pump.run_until_idle()

    assert source.fired == [3, 12]
    assert sink.seen == [(6, b"x")]
    assert clock.now() == START + 12
    assert source.polled  # polled on every pump step
    assert pump.next_due() is None


def test_run_until_idle_stops_when_until_says_so(clock: Clock, pump: EventPump) -> None:
    sink = Recorder(clock)
    for i in range(5):
        pump.deliver_later(f"d{i}", sink, str(i).encode(), delay=10 * (i + 1))

    pump.run_until_idle(until=lambda: len(sink.seen) >= 2)

    assert [p for _, p in sink.seen] == [b"0", b"1"]
    assert clock.now() == START + 20
    assert pump.pending() == 3


def test_run_until_idle_checks_until_before_jumping_the_clock(clock: Clock, pump: EventPump) -> None:
    sink = Recorder(clock)
    pump.deliver_later("later", sink, b"x", delay=100)

    pump.run_until_idle(until=lambda: True)

    assert sink.seen == []
    assert clock.now() == START


def test_run_until_idle_leaves_deliveries_beyond_the_horizon(clock: Clock, pump: EventPump) -> None:
    sink = Recorder(clock)
    pump.deliver_later("soon", sink, b"soon", delay=60)
    pump.deliver_later("next-week", sink, b"far", delay=7 * 24 * 3600)

    pump.run_until_idle(horizon=3600)

    assert sink.seen == [(60, b"soon")]
    assert pump.pending() == 1
    assert clock.now() == START + 60


def test_run_until_idle_with_nothing_to_do_returns_at_once(clock: Clock, pump: EventPump) -> None:
    assert pump.run_until_idle() == 1
    assert clock.now() == START


def test_a_sink_scheduling_more_work_is_followed(clock: Clock, pump: EventPump) -> None:
    sink = Recorder(clock)

    def chain(payload: bytes) -> None:
        sink(payload)
        if len(payload) < 3:
            pump.deliver_later("chain", chain, payload + b"+", delay=5)

    pump.deliver_later("chain", chain, b"x")
    pump.run_until_idle()
    assert sink.seen == [(0, b"x"), (5, b"x+"), (10, b"x++")]


def test_background_thread_delivers_and_stops(clock: Clock, pump: EventPump) -> None:
    done = threading.Event()
    got: list[bytes] = []

    def sink(payload: bytes) -> None:
        got.append(payload)
        done.set()

    pump.start(interval=0.01)
    pump.start(interval=0.01)  # a second start is a no-op, not a second thread
    try:
        pump.deliver_later("bg", sink, b"hello")
        assert done.wait(timeout=10), "the pump thread never delivered"
    finally:
        pump.stop()

    assert got == [b"hello"]
    pump.deliver_later("after-stop", sink, b"late")
    threading.Event().wait(0.05)
    assert got == [b"hello"]  # nothing runs once stopped
    assert pump.pending() == 1


def test_background_thread_survives_a_failing_source(clock: Clock, pump: EventPump) -> None:
    class Broken:
        calls = 0

        def poll(self, now: float) -> int:
            Broken.calls += 1
            raise RuntimeError("source broke")

        def next_due(self, now: float) -> float | None:
            return None

    done = threading.Event()
    pump.add_source(Broken())
    pump.start(interval=0.01)
    try:
        pump.deliver_later("d", lambda _: done.set(), b"")
        assert done.wait(timeout=10)
        for _ in range(1000):  # the loop keeps going after the first failure
            if Broken.calls >= 3:
                break
            threading.Event().wait(0.01)
    finally:
        pump.stop()
    assert Broken.calls >= 3


def test_a_source_that_is_always_due_but_never_delivers_does_not_spin_forever() -> None:
    from imagedrop_emulator.clock import Clock
    from imagedrop_emulator.pump import EventPump

    class Stuck:
        polls = 0

        def poll(self, now: float) -> int:
            self.polls += 1
            return 0

        def next_due(self, now: float) -> float | None:
            return now - 1  # always "due", never anything to deliver

    pump = EventPump(Clock(speed=0.0))
    stuck = Stuck()
    pump.add_source(stuck)
    steps = pump.run_until_idle(max_steps=10_000)
    assert steps < 10
    assert stuck.polls < 10
