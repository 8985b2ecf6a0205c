"""Bounded retries with backoff for calls that are safe to repeat (all of ours are idempotent)."""

from __future__ import annotations

from typing import Callable, TypeVar

from tenacity import (Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential,
                      wait_random)

from ..errors import RetryableCloudError

T = TypeVar("T")


def with_retries(call: Callable[[], T], *, attempts: int = 4, initial: float = 0.2,
                 maximum: float = 5.0) -> T:
    """Run `call`; retry throttling, 5xx and network errors, then let the last one through."""
    for attempt in Retrying(stop=stop_after_attempt(attempts),
                            wait=wait_exponential(multiplier=initial, max=maximum) + wait_random(0, initial),
                            retry=retry_if_exception_type(RetryableCloudError), reraise=True):
        with attempt:
            return call()
    raise AssertionError("unreachable")  # pragma: no cover


def call_translated(what: str, call: Callable[[], T], translate: Callable[[Exception, str], Exception],
                    *, attempts: int = 4) -> T:
    """`call` with the SDK's exceptions turned into ours by `translate`, retried when retryable."""
    def once() -> T:
        try:
            return call()
        except Exception as exc:
            raise translate(exc, what) from exc
    return with_retries(once, attempts=attempts)
