"""Request freshness as the cloud enforces it: a signed request carries its own time, which must
be within `MAX_SKEW_SECONDS` of the server's clock, and an ACS signature nonce is good once.

Checked against the REAL wall clock (`time.time`), never the emulated clock: the client signed
with its own real clock, while `local up` runs the emulated one 60x ahead (presigned-URL expiry
is checked the same way).

Choices made here where Alibaba publishes nothing; every service uses them:
- the window is 15 minutes either side of now, for OSS, ECS, FC and MNS alike;
- the signature is verified first, freshness second: a request both stale and wrongly signed
  gets the signature error, and only a correctly signed request uses up its nonce;
- a nonce is remembered per AccessKey until its request's own time plus the window has passed
  (after that the request is refused as stale anyway), and at most `MAX_NONCES` at once: past
  that, the ones that expire soonest are forgotten first, so memory stays bounded under a flood.
"""

from __future__ import annotations

import calendar
import heapq
import threading
import time
from email.utils import parsedate_tz
from typing import Callable

MAX_SKEW_SECONDS = 15 * 60
MAX_NONCES = 100_000

RealClock = Callable[[], float]


def parse_http_date(value: str) -> float | None:
    """`Sun, 29 Nov 2026 19:14:14 GMT` → epoch seconds; None when it is not an HTTP date."""
    parts = parsedate_tz(value.strip()) if value else None
    if parts is None:
        return None
    try:
        return float(calendar.timegm(parts[:9])) - float(parts[9] or 0)
    except (OverflowError, ValueError):
        return None


def parse_iso_date(value: str, formats: tuple[str, ...] = ("%Y-%m-%dT%H:%M:%SZ",)) -> float | None:
    """An ISO 8601 UTC stamp in one of `formats` → epoch seconds; None otherwise."""
    for fmt in formats:
        try:
            return float(calendar.timegm(time.strptime(value.strip(), fmt)))
        except (ValueError, OverflowError):
            continue
    return None


def is_skewed(signed_at: float, now: float) -> bool:
    return abs(now - signed_at) > MAX_SKEW_SECONDS


class NonceMemory:
    """The nonces seen in the last window, bounded in time and in number."""

    def __init__(self, limit: int = MAX_NONCES):
        self._limit = limit
        self._lock = threading.Lock()
        self._expiry: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, tuple[str, str]]] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def use(self, access_key_id: str, nonce: str, signed_at: float, now: float) -> bool:
        """Remember the nonce; False when it was already used within the window."""
        key = (access_key_id, nonce)
        with self._lock:
            self._forget_expired(now)
            if key in self._expiry:
                return False
            expires = max(now, signed_at) + MAX_SKEW_SECONDS
            self._expiry[key] = expires
            heapq.heappush(self._heap, (expires, key))
            while len(self._expiry) > self._limit:
                self._pop()
            return True

    def _forget_expired(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            self._pop()

    def _pop(self) -> None:
        expires, key = heapq.heappop(self._heap)
        if self._expiry.get(key) == expires:
            del self._expiry[key]
