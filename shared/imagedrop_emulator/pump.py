"""Asynchronous deliveries: OSS trigger invocations and EventBridge pushes from MNS queues.

The cloud delivers events to functions later, retries them when a function fails, and gives up
after a few tries. The pump does the same on the emulated clock. Tests call `run_until_idle()`
(the clock jumps to the next due delivery when frozen); `local up` runs `start()`, a background
thread.

Function Compute runs many instances at once: with `concurrency` above 1, every delivery that is
due runs on its own worker (at most `concurrency` at a time), so two events of one import can be
handled at the same moment, as in the cloud.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Protocol

from .clock import Clock

log = logging.getLogger("imagedrop_emulator.pump")

Sink = Callable[[bytes], object]

# Async invocation retries of the FC platform (maxAsyncRetryAttempts: 3 in our s.yaml).
DEFAULT_BACKOFF = (1.0, 4.0, 16.0)


Launch = Callable[[Callable[[], None]], None]


class Source(Protocol):
    """Something that produces deliveries by itself, e.g. an EventBridge MNS stream. The pump sets
    its `launch`: the source hands each push to it instead of calling the function itself."""

    launch: Launch | None

    def poll(self, now: float) -> int:
        """Deliver what is due now; return how many deliveries were made."""
        ...

    def next_due(self, now: float) -> float | None:
        """The earliest time something will be due, or None when nothing is waiting."""
        ...


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    name: str = field(compare=False)
    sink: Sink = field(compare=False)
    payload: bytes = field(compare=False)
    attempt: int = field(compare=False, default=0)
    backoff: tuple[float, ...] = field(compare=False, default=DEFAULT_BACKOFF)


@dataclass
class FailedDelivery:
    name: str
    payload: bytes
    attempts: int
    error: str


class EventPump:
    def __init__(self, clock: Clock, *, concurrency: int = 1):
        self.clock = clock
        self._heap: list[_Delivery] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()
        self._sources: list[Source] = []
        self.delivered = 0
        self.failures: list[FailedDelivery] = []   # gave up after every retry
        self.errors: list[FailedDelivery] = []     # every failed attempt, retried or not
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.concurrency = 1
        self._workers: ThreadPoolExecutor | None = None
        self._slots = threading.BoundedSemaphore(1)
        self._running = 0
        self._idle = threading.Condition(self._lock)
        self.most_at_once = 0   # the most invocations seen running at the same time
        self.set_concurrency(concurrency)

    def set_concurrency(self, concurrency: int) -> None:
        """How many deliveries may run at once (1: one after the other, on the pumping thread)."""
        if concurrency < 1:
            raise ValueError("concurrency must be 1 or more")
        self.wait_idle()
        if self._workers is not None:
            self._workers.shutdown(wait=True)
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._workers = (ThreadPoolExecutor(concurrency, thread_name_prefix="imagedrop-fc")
                         if concurrency > 1 else None)

    def launch(self, work: Callable[[], None]) -> None:
        """Run one delivery: on a free worker (waiting for one when all are busy), or here."""
        if self._workers is None:
            work()
            return
        self._slots.acquire()
        with self._lock:
            self._running += 1
            self.most_at_once = max(self.most_at_once, self._running)

        def run() -> None:
            try:
                work()
            except Exception:  # a delivery reports its own failures; never lose a worker
                log.exception("delivery failed outside its handler")
            finally:
                with self._lock:
                    self._running -= 1
                    self._idle.notify_all()
                self._slots.release()
        self._workers.submit(run)

    def wait_idle(self) -> None:
        """Until no delivery is running."""
        with self._lock:
            while self._running:
                self._idle.wait()

    def deliver_later(self, name: str, sink: Sink, payload: bytes, *, delay: float = 0.0,
                      backoff: tuple[float, ...] = DEFAULT_BACKOFF) -> None:
        with self._lock:
            heapq.heappush(self._heap, _Delivery(self.clock.now() + delay, next(self._seq), name,
                                                 sink, payload, 0, backoff))

    def add_source(self, source: Source) -> None:
        with self._lock:
            source.launch = self.launch
            self._sources.append(source)

    def pending(self) -> int:
        with self._lock:
            return len(self._heap)

    def pump(self, *, wait: bool = True) -> int:
        """Start every delivery that is due now (`wait`: and let them finish). Returns how many."""
        done = 0
        while True:
            with self._lock:
                if not self._heap or self._heap[0].due > self.clock.now():
                    break
                item = heapq.heappop(self._heap)
            done += 1
            self.launch(lambda item=item: self._run(item))  # type: ignore[misc]
        for source in list(self._sources):
            done += source.poll(self.clock.now())
        if wait:
            self.wait_idle()
        return done

    def _run(self, item: _Delivery) -> None:
        try:
            item.sink(item.payload)
            self.delivered += 1
        except Exception as exc:  # a function failed: the platform retries it later
            error = f"{type(exc).__name__}: {exc}"
            log.info("delivery %s failed (attempt %d): %s", item.name, item.attempt + 1, error)
            self.errors.append(FailedDelivery(item.name, item.payload, item.attempt + 1, error))
            if item.attempt < len(item.backoff):
                item.due = self.clock.now() + item.backoff[item.attempt]
                item.attempt += 1
                with self._lock:
                    heapq.heappush(self._heap, item)
            else:
                self.failures.append(FailedDelivery(item.name, item.payload, item.attempt + 1, error))

    def next_due(self) -> float | None:
        now = self.clock.now()
        with self._lock:
            dues = [self._heap[0].due] if self._heap else []
        dues += [d for s in self._sources if (d := s.next_due(now)) is not None]
        return min(dues) if dues else None

    def run_until_idle(self, *, max_steps: int = 100_000, until: Callable[[], bool] | None = None,
                       horizon: float = 30 * 24 * 3600) -> int:
        """Deliver everything, jumping the clock to each next due time. Returns steps taken.

        Stops when nothing is waiting, when `until()` says so, or past `horizon` emulated seconds.
        """
        start = self.clock.now()
        steps = 0
        idle_but_due = 0
        while steps < max_steps:
            steps += 1
            if self.pump():
                idle_but_due = 0
                if until and until():
                    break
                continue
            if until and until():
                break
            due = self.next_due()
            if due is None or due - start > horizon:
                break
            gap = due - self.clock.now()
            if gap > 0:
                self.clock.advance(gap)
            else:
                # Something claims to be due but delivered nothing; don't spin on it forever.
                idle_but_due += 1
                if idle_but_due > 3:
                    log.warning("a source says work is due at %.3f but delivers nothing; stopping", due)
                    break
        return steps

    def start(self, interval: float = 0.05) -> None:
        if self._thread:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    if not self.pump(wait=False):
                        self._stop.wait(interval)
                except Exception:  # never let the pump die; the failure is logged
                    log.exception("event pump step failed")
                    self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name="imagedrop-pump", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None
        self.wait_idle()
