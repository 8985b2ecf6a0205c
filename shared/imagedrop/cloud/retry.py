"""Bounded retries with backoff for calls that are safe to repeat (all of ours are idempotent)."""

from __future__ import annotations

from typing import Callable, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from ..errors import RetryableCloudError

T = TypeVar("T")


def with_retries(call: Callable[[], T], *, attempts: int = 4, initial: float = 0.2,
                 maximum: float = 5.0) -> T:
    """Run `call`; retry throttling, 5xx and network errors, then let the last one through."""
    for attempt in Retrying(stop=stop_after_attempt(attempts),
                            wait=wait_exponential_jitter(initial=initial, max=maximum),
                            retry=retry_if_exception_type(RetryableCloudError), reraise=True):
        with attempt:
            return call()
    raise AssertionError("unreachable")  # pragma: no cover
