"""The emulated wall clock every fake service reads."""

from __future__ import annotations

import threading
import time


class Clock:
    """Emulated wall time. `speed` multiplies real time (0 freezes it); `advance` jumps ahead.

    Import tasks, message delays and the platform's own retries read this clock, so a test can
    play thirty minutes of import in a millisecond and `local up` can run at 60x. What a client
    holds in its own time (an MNS receipt handle) is given in real seconds (`MnsBackend.client_scale`).
    """

    def __init__(self, speed: float = 1.0, start: float | None = None):
        self._lock = threading.Lock()
        self._speed = speed
        self._real0 = time.monotonic()
        self._emu0 = time.time() if start is None else start

    def now(self) -> float:
        with self._lock:
            return self._emu0 + (time.monotonic() - self._real0) * self._speed

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._emu0 += seconds

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        with self._lock:
            now = self._emu0 + (time.monotonic() - self._real0) * self._speed
            self._real0, self._emu0, self._speed = time.monotonic(), now, speed
