"""The invocation's own deadline: taken from FC's context, kept a little before the timeout, and
checked by disk reads and retry waits."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from imagedrop import budget
from imagedrop.budget import Budget, DeadlineSource, OutOfTime
from imagedrop.cloud.retry import with_retries
from imagedrop.errors import RetryableCloudError
from imagedrop_disk.source import BytesSource


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("timeout,margin", [(120, 15.0), (300, 15.0), (10, 2.0)])
def test_the_deadline_keeps_a_margin_before_the_timeout(timeout: int, margin: float) -> None:
    clock = FakeClock()
    b = Budget.starting_now(timeout, clock)
    assert b.left() == pytest.approx(timeout - margin)


def test_the_budget_comes_from_the_context_of_an_invocation() -> None:
    context = SimpleNamespace(function=SimpleNamespace(timeout=120))
    made = budget.from_context(context)
    assert made is not None and made.timeout == 120
    assert budget.from_context(SimpleNamespace()) is None        # not an FC context
    assert budget.from_context(SimpleNamespace(function=SimpleNamespace(timeout=None))) is None


def test_a_read_past_the_deadline_stops_with_what_it_was_doing() -> None:
    clock = FakeClock()
    source = DeadlineSource(BytesSource(b"x" * 100), "reading incoming/a.qcow2")
    with budget.running(Budget.starting_now(10, clock)):
        assert source.read(0, 10) == b"x" * 10
        clock.now += 8.5
        with pytest.raises(OutOfTime) as stopped:
            source.read(0, 10)
    assert str(stopped.value) == ("the function's 10 s timeout was nearly spent while reading "
                                  "incoming/a.qcow2")
    assert source.read(0, 1) == b"x"  # outside an invocation there is no deadline


def test_retries_stop_when_the_wait_would_pass_the_deadline() -> None:
    calls: list[int] = []

    def throttled() -> None:
        calls.append(1)
        raise RetryableCloudError("ecs", "Throttling", "slow down")

    clock = FakeClock()
    with budget.running(Budget.starting_now(10, clock)):
        clock.now += 8.0  # 0 s left
        with pytest.raises(RetryableCloudError):
            with_retries(throttled, attempts=4, initial=0.001)
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(RetryableCloudError):
        with_retries(throttled, attempts=4, initial=0.001)
    assert len(calls) == 4
