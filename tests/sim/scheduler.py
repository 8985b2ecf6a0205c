"""A seeded scheduler: instances of the functions interleaved at every port call.

Each invocation runs in a greenlet of its own, and only one runs at a time: at every call it
makes through a port it may hand control back to the driver, which picks (with the seeded
generator) which instance goes on next, or which pending event starts a new one. The same seed
gives the same interleaving, call for call: every choice comes from the one generator. Greenlets
switch in a microsecond, where handing a lock between threads costs a context switch, and many
more on a busy machine; each greenlet keeps its own context variables, as a thread would."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

import greenlet


class Abandoned(BaseException):
    """Raised in an instance the driver gives up on (a schedule that never settles)."""


@dataclass
class Instance:
    name: str
    run: Callable[[], Any]
    task: Any = None                 # its greenlet
    back: Any = field(default=None, repr=False)   # the greenlet that let it run last
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
        self._quiet = 0   # > 0: run without handing control back (a scripted step)

    def start(self, name: str, run: Callable[[], Any]) -> Instance:
        instance = Instance(name, run)
        instance.task = greenlet.greenlet(lambda: self._body(instance))
        return instance

    def _body(self, instance: Instance) -> None:
        try:
            if instance.abandoned:
                raise Abandoned()
            instance.result = instance.run()
        except Abandoned:
            pass
        except BaseException as err:  # what the platform sees: the invocation failed
            instance.error = err
        instance.done = True

    def step(self, instance: Instance) -> None:
        """Let `instance` run until it hands control back or ends."""
        previous, self.current = self.current, instance
        instance.back = greenlet.getcurrent()
        instance.task.parent = instance.back   # where it goes when it ends
        instance.task.switch()
        self.current = previous

    def point(self) -> None:
        """Called by the running instance at every port call: maybe let another run first."""
        self.calls += 1
        instance = self.current
        if instance is not None and instance.abandoned:
            raise Abandoned()
        if instance is None or self._quiet or self.rng.random() >= self.switch:
            return
        instance.back.switch()
        self.current = instance
        if instance.abandoned:
            raise Abandoned()

    def quietly(self, run: Callable[[], Any]) -> Any:
        """Run `run` in the running instance without handing control back: a scripted step that
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
