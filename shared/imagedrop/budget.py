"""The invocation's own deadline, inside the function's timeout.

Function Compute stops an invocation at its timeout (`context.function.timeout`, in seconds),
whatever it is doing. A handler that notices first can still say why in the status record, so
each invocation sets a deadline a little before the timeout; disk reads and retry waits check it.
The handler sets it with `running(...)`; code that is not in an invocation has no deadline.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from imagedrop_disk.source import ByteSource

# What is kept back for writing the record and announcing it once the deadline is reached.
MARGIN_SHARE = 0.2
MARGIN_MAX_SECONDS = 15.0


class OutOfTime(Exception):
    """The invocation reached its deadline; what it was doing is in the message."""

    def __init__(self, doing: str, timeout: float):
        super().__init__(f"the function's {timeout:g} s timeout was nearly spent while {doing}")
        self.doing = doing
        self.timeout = timeout


@dataclass(frozen=True)
class Budget:
    timeout: float                           # the function's timeout, seconds
    deadline: float                          # on `clock`: when to stop and record why
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def starting_now(cls, timeout: float, clock: Callable[[], float] = time.monotonic) -> "Budget":
        margin = min(MARGIN_MAX_SECONDS, timeout * MARGIN_SHARE)
        return cls(timeout, clock() + timeout - margin, clock)

    def left(self) -> float:
        return self.deadline - self.clock()

    def check(self, doing: str) -> None:
        if self.left() <= 0:
            raise OutOfTime(doing, self.timeout)


_CURRENT: ContextVar[Budget | None] = ContextVar("imagedrop_budget", default=None)


def from_context(context: Any) -> Budget | None:
    """The budget of an invocation FC handed `context` to (None without a timeout in it)."""
    timeout = getattr(getattr(context, "function", None), "timeout", None)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        return None
    return Budget.starting_now(float(timeout))


@contextmanager
def running(budget: Budget | None) -> Iterator[Budget | None]:
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def check(doing: str) -> None:
    budget = _CURRENT.get()
    if budget is not None:
        budget.check(doing)


def seconds_left() -> float | None:
    budget = _CURRENT.get()
    return None if budget is None else budget.left()


@dataclass
class DeadlineSource:
    """A source whose every read first checks the invocation's deadline."""

    inner: ByteSource
    doing: str

    @property
    def size(self) -> int:
        return self.inner.size

    def read(self, offset: int, length: int) -> bytes:
        check(self.doing)
        return self.inner.read(offset, length)
