"""A seeded scheduler: instances of the functions interleaved at every port call.

Each invocation runs in a thread of its own, but only one runs at a time: at every call it makes
through a port it may hand control back to the driver, which picks (with the seeded generator)
which instance goes on next, or which pending event starts a new one. The same seed gives the same
interleaving, call for call: the threads never run side by side, and every choice comes from the
one generator."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any, Callable


def _closed() -> Any:
    """A lock taken already: a signal one thread waits on (`acquire`) and another gives
    (`release`), cheaper than a semaphore."""
    lock = threading.Lock()
    lock.acquire()
    return lock


class Abandoned(BaseException):
    """Raised in an instance the driver gives up on (a schedule that never settles)."""


class _Worker:
    """A thread that runs one instance after another (starting a thread per invocation would
    cost more than the invocation)."""

    def __init__(self) -> None:
        self.go = _closed()
        self.job: tuple["Scheduler", "Instance"] | None = None
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            self.go.acquire()
            assert self.job is not None
            scheduler, instance = self.job
            self.job = None
            scheduler._body(instance, idle=lambda: _IDLE.append(self))


_IDLE: list[_Worker] = []


@dataclass
class Instance:
    name: str
    run: Callable[[], Any]
    go: Any = field(default_factory=lambda: _closed())
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    abandoned: bool = False


class Scheduler:
    def __init__(self, rng: random.Random, *, switch: float = 0.35) -> None:
        self.rng = rng
        self.switch = switch
        self.current: Instance | None = None
        self.calls = 0
        self._back = _closed()
        self._quiet = 0   # > 0: run without handing control back (a scripted step)

    def start(self, name: str, run: Callable[[], Any]) -> Instance:
        worker = _IDLE.pop() if _IDLE else _Worker()
        instance = Instance(name, run, go=worker.go)
        worker.job = (self, instance)
        return instance

    def _body(self, instance: Instance, idle: Callable[[], None]) -> None:
        try:
            if instance.abandoned:
                raise Abandoned()
            instance.result = instance.run()
        except Abandoned:
            pass
        except BaseException as err:  # what the platform sees: the invocation failed
            instance.error = err
        instance.done = True
        idle()   # free for the next instance before the driver hears this one is done
        self._back.release()

    def step(self, instance: Instance) -> None:
        """Let `instance` run until it hands control back or ends."""
        previous, self.current = self.current, instance
        instance.go.release()
        self._back.acquire()
        self.current = previous

    def point(self) -> None:
        """Called by the running instance at every port call: maybe let another run first."""
        self.calls += 1
        instance = self.current
        if instance is not None and instance.abandoned:
            raise Abandoned()
        if instance is None or self._quiet or self.rng.random() >= self.switch:
            return
        self._back.release()
        instance.go.acquire()
        self.current = instance
        if instance.abandoned:
            raise Abandoned()

    def quietly(self, run: Callable[[], Any]) -> Any:
        """Run `run` in the calling thread without handing control back: a scripted step that
        happens between two calls of an instance."""
        self._quiet += 1
        try:
            return run()
        finally:
            self._quiet -= 1

    def abandon(self, instance: Instance) -> None:
        if not instance.done:
            instance.abandoned = True
            self.step(instance)
