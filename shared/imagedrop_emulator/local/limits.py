"""Function Compute's limits on one invocation, kept by the local runtime.

A function has a timeout, a memory size and, for asynchronous invocations (the OSS trigger,
`InvokeFunction` with `Async`), a number of retries and a dead-letter destination. Past its
timeout an invocation is stopped: here it runs on a thread of its own, and when the time is up
the thread is abandoned and fenced, its STS credentials revoked, so whatever it still tries to
write is refused, as nothing of a stopped FC instance reaches the cloud. The invocation fails
with FC's `FunctionTimeout` and is retried like any failure.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger("imagedrop.local")

MEMORY_MB = (128, 32768)   # FC's range; a multiple of 64
TIMEOUT_SECONDS = (1, 86400)


@dataclass(frozen=True)
class FunctionLimits:
    """One function's settings, as s.yaml gives them to FC. `timeout` is in real seconds: it
    bounds the work an instance does, which the emulated clock does not speed up."""

    timeout: float = 60.0
    memory_mb: int = 512
    runtime: str = "python3.12"
    async_retries: int = 3                  # asyncInvokeConfig.maxAsyncRetryAttempts
    dead_letter_queue: str | None = None    # asyncInvokeConfig destinationConfig.onFailure

    def __post_init__(self) -> None:
        low, high = MEMORY_MB
        if not low <= self.memory_mb <= high or self.memory_mb % 64:
            raise ValueError(f"memorySize {self.memory_mb}: FC takes {low} to {high} MB, a multiple of 64")
        if not 0 < self.timeout <= TIMEOUT_SECONDS[1]:
            raise ValueError(f"timeout {self.timeout:g}: FC takes 1 to {TIMEOUT_SECONDS[1]} seconds")
        if self.async_retries < 0 or self.async_retries > 8:
            raise ValueError(f"maxAsyncRetryAttempts {self.async_retries}: FC takes 0 to 8")
        if not self.runtime.startswith("python3."):
            raise ValueError(f"runtime {self.runtime!r}: the local runtime runs Python handlers only")


class FunctionTimeout(Exception):
    """The invocation ran past the function's timeout and was stopped."""

    def __init__(self, function: str, timeout: float):
        super().__init__(f"Function timed out after {timeout:g} seconds ({function})")
        self.function = function


def run_with_timeout(function: str, call: Callable[[], Any], timeout: float,
                     fence: Callable[[], None]) -> Any:
    """`call()` on its own thread; its result or exception, or `FunctionTimeout` once `timeout`
    real seconds pass (then `fence()` cuts the abandoned thread off from the cloud)."""
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=body, name=f"{function}-invocation", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        fence()
        log.info("%s: stopped after its %gs timeout", function, timeout)
        raise FunctionTimeout(function, timeout)
    if "error" in box:
        raise box["error"]
    return box.get("result")


class AsyncFailures:
    """Counts the failed tries of each asynchronous event; after the last retry the event goes
    to the dead-letter destination (an MNS queue), as a record of the event and its last error."""

    def __init__(self, function: str, limits: FunctionLimits, send: Callable[[str, str], Any],
                 function_arn: str):
        self.function, self.limits, self._send, self._arn = function, limits, send, function_arn
        self._tries: dict[bytes, int] = {}
        self._dead: set[bytes] = set()
        self._lock = threading.Lock()
        self.dead_lettered: list[dict[str, Any]] = []

    def run(self, payload: bytes, invoke: Callable[[bytes], Any]) -> Any:
        with self._lock:
            if payload in self._dead:  # retries are used up: FC invokes it no more
                return None
        try:
            result = invoke(payload)
        except Exception as exc:
            self._failed(payload, exc)
            raise
        with self._lock:
            self._tries.pop(payload, None)
        return result

    def _failed(self, payload: bytes, exc: Exception) -> None:
        with self._lock:
            tries = self._tries[payload] = self._tries.get(payload, 0) + 1
            if tries <= self.limits.async_retries:
                return
            del self._tries[payload]
            self._dead.add(payload)
        condition = "FunctionTimeout" if isinstance(exc, FunctionTimeout) else "UnhandledInvocationError"
        record = {"timestamp": int(time.time() * 1000),
                  "requestContext": {"functionArn": self._arn, "approximateInvokeCount": tries,
                                     "condition": condition},
                  "requestPayload": payload.decode("utf-8", "replace"),
                  "responseContext": {"functionError": "UnhandledInvocationError"},
                  "responsePayload": json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)})}
        self.dead_lettered.append(record)
        queue = self.limits.dead_letter_queue
        if queue:
            self._send(queue, json.dumps(record))
            log.info("%s: event failed %d times; kept in %s", self.function, tries, queue)
