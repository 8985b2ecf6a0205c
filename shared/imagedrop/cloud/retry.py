"""Bounded retries with backoff for calls that are safe to repeat (all of ours are idempotent)."""

from __future__ import annotations

from typing import Callable, TypeVar

from tenacity import (RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt,
                      wait_exponential, wait_random)

from ..budget import seconds_left
from ..errors import RetryableCloudError

T = TypeVar("T")


def with_retries(call: Callable[[], T], *, attempts: int = 4, initial: float = 0.2,
                 maximum: float = 5.0) -> T:
    """Run `call`; retry throttling, 5xx and network errors, then let the last one through (also
    when the wait before the next try would pass the invocation's deadline)."""
    for attempt in Retrying(stop=stop_after_attempt(attempts) | _past_deadline,
                            wait=wait_exponential(multiplier=initial, max=maximum) + wait_random(0, initial),
                            retry=retry_if_exception_type(RetryableCloudError), reraise=True):
        with attempt:
            return call()
    raise AssertionError("unreachable")  # pragma: no cover


def _past_deadline(state: RetryCallState) -> bool:
    left = seconds_left()
    return left is not None and left <= (getattr(state, "upcoming_sleep", 0.0) or 0.0)


def call_translated(what: str, call: Callable[[], T], translate: Callable[[Exception, str], Exception],
                    *, attempts: int = 4) -> T:
    """`call` with the SDK's exceptions turned into ours by `translate`, retried when retryable."""
    def once() -> T:
        try:
            return call()
        except Exception as exc:
            raise translate(exc, what) from exc
    return with_retries(once, attempts=attempts)
