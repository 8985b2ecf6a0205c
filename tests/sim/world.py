"""One simulated deployment: the fakes behind ports that yield to the scheduler, lose answers and
throttle; the events in flight (redelivered, reordered, delivered to two instances at once); and
the log of what every call touched, for the invariants (invariants.py)."""

from __future__ import annotations

import collections
import json
import logging
import random
from dataclasses import dataclass, field
from typing import Any, Callable

from imagedrop.config import Settings
from imagedrop.errors import CloudError, RetryableCloudError
from imagedrop.flows.ingest import ingest_object
from imagedrop.flows.poll import poll_one
from imagedrop.model.events import ObjectCreated, TrackMessage
from imagedrop.services import Services

from tests.flows.fakes import BUCKET, REGION, Clock, FakeMns, MemoryBucket
from .cloud import SimEcs
from .scheduler import Instance, Scheduler

logging.getLogger("imagedrop").setLevel(logging.WARNING)

STATE_PREFIX = "imagedrop/"
# The calls that change something an import made or was given (CancelTask and the template's
# removal undo, and are allowed after the end).
SIDE_EFFECTS = {"modify_image", "copy_image", "share_image", "delete_image",
                "create_image_pipeline", "start_image_pipeline_execution"}
MUTATING_OSS = {"put", "put_if_absent", "delete"}
RETRIES = 3          # the platform retries a failed asynchronous invocation this often


@dataclass
class Faults:
    """How often a port call is throttled, or carried out with its answer lost; at most `budget`
    of them in a schedule, so that every schedule can settle."""

    throttle: float = 0.0
    lost: float = 0.0
    budget: int = 0


@dataclass
class Touch:
    at: int                 # the call's number in the schedule
    service: str
    op: str
    target: str
    instance: str


@dataclass
class Delivery:
    kind: str               # "ingest" | "poll"
    payload: Any
    due: float
    tries: int = 0


class Port:
    """A port as the flows see it: every call a point where another instance may run first,
    maybe throttled or its answer lost, and logged when it changes something."""

    def __init__(self, world: "World", service: str, inner: Any) -> None:
        self._world, self._service, self._inner = world, service, inner

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if not callable(method) or name.startswith("_"):
            return method
        world, service = self._world, self._service

        def call(*args: Any, **kwargs: Any) -> Any:
            return world.call(service, name, method, args, kwargs)
        return call


@dataclass
class World:
    seed: int
    rng: random.Random
    faults: Faults = field(default_factory=Faults)
    instances_at_once: int = 3
    twins: float = 0.15         # a delivery also handed to a second instance at once
    again: float = 0.15         # a delivery handed over again later (at least once)
    duplicates: int = 4         # at most this many of either in a schedule
    task_seconds: float = 120.0
    build_seconds: float = 600.0
    build_outcome: str = "SUCCESS"
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.scheduler = Scheduler(self.rng)
        self.bucket = MemoryBucket(self.clock)
        self.ecs = SimEcs(self.clock, task_seconds=self.task_seconds,
                          build_seconds=self.build_seconds, build_outcome=self.build_outcome)
        self.mns = FakeMns()
        self.touched: list[Touch] = []
        self.pending: list[Delivery] = []
        self.running: list[Instance] = []
        self.timed: list[tuple[float, str, Callable[[], None]]] = []
        self.hooks: list[Callable[[str, str, tuple[Any, ...]], None]] = []
        self.end_saved_at: dict[str, int] = {}       # manifest key → the call that saved its end
        self.foreign_images: set[str] = set()
        self.foreign_keys: set[str] = set()
        self.outcomes: list[tuple[str, Any]] = []
        self.crashes: list[str] = []
        self.calls = 0
        self.settings = Settings(region=REGION, account_id="1234567890123456",
                                 queue="imagedrop-track", mns_endpoint="http://127.0.0.1:1",
                                 topic="imagedrop-events")
        inspections: dict[tuple[str, int], Any] = {}

        def inspect(source: Any) -> Any:   # the same bytes inspect the same: done once
            from imagedrop_disk import inspect as real
            key = ("disk", source.size)
            if key not in inspections:
                inspections[key] = real(source)
            return inspections[key]
        self.services = Services.wired(
            self.settings, buckets={BUCKET: Port(self, "oss", self.bucket)},
            ecs=Port(self, "ecs", self.ecs), mns=Port(self, "mns", self.mns), clock=self.clock,
            inspect=inspect)

    # ---- the ports

    def call(self, service: str, op: str, method: Callable[..., Any], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Any:
        self.scheduler.point()
        self.calls += 1
        for hook in list(self.hooks):
            hook(service, op, args)
        target = _target(args)
        if (service == "ecs" and op in SIDE_EFFECTS) or (service == "oss" and op in MUTATING_OSS):
            name = self.scheduler.current.name if self.scheduler.current else "producer"
            self.touched.append(Touch(self.calls, service, op, target, name))
        fault = self._fault()
        if fault == "throttle":
            raise RetryableCloudError(service, "Throttling", "simulated throttling", status=503)
        answer = method(*args, **kwargs)
        if service == "oss" and op == "put" and target.startswith(STATE_PREFIX + "status/"):
            self._note_end(target, args[1])
        if service == "mns" and op == "send":
            self._queue_message(args[1], int(args[2]) if len(args) > 2 else 0)
        if fault == "lost":
            raise RetryableCloudError(service, "RequestTimeout", "simulated lost answer")
        return answer

    def _fault(self) -> str | None:
        if self.faults.budget <= 0 or self.scheduler.current is None:
            return None
        roll = self.rng.random()
        if roll < self.faults.throttle:
            self.faults.budget -= 1
            return "throttle"
        if roll < self.faults.throttle + self.faults.lost:
            self.faults.budget -= 1
            return "lost"
        return None

    def _note_end(self, key: str, data: bytes | str) -> None:
        manifest = key[len(STATE_PREFIX + "status/"):]
        if manifest in self.end_saved_at:
            return
        state = json.loads(data).get("state")
        if state in ("succeeded", "failed", "cancelled", "rejected"):
            self.end_saved_at[manifest] = self.calls

    def _queue_message(self, body: str, delay: int) -> None:
        message = TrackMessage.model_validate_json(body)
        self.pending.append(Delivery("poll", message, self.clock.now + delay))

    # ---- the producer

    def upload(self, key: str, data: bytes | str, *, event: bool = True) -> ObjectCreated:
        created = self.bucket.drop(key, data)
        if event:
            self.pending.append(Delivery("ingest", created, self.clock.now))
        return created

    def at(self, seconds: float, what: str, action: Callable[[], None]) -> None:
        """`action` (a producer's) once the clock reaches `seconds` from now."""
        self.timed.append((self.clock.now + seconds, what, action))

    # ---- running it

    def run(self, max_steps: int = 4000) -> None:
        steps = 0
        while True:
            steps += 1
            if steps > max_steps:
                for instance in self.running:
                    self.scheduler.abandon(instance)
                raise Unsettled(f"no end after {max_steps} steps: {collections.Counter(str(getattr(o, 'outcome', o))[:60] for _, o in self.outcomes[-200:]).most_common(5)}")
            for entry in [t for t in self.timed if t[0] <= self.clock.now]:
                self.timed.remove(entry)
                entry[2]()
            self.running = [i for i in self.running if not self._reaped(i)]
            due = [d for d in self.pending if d.due <= self.clock.now]
            choices: list[Any] = list(self.running)
            if len(self.running) < self.instances_at_once:
                choices += due
            if not choices:
                later = [d.due for d in self.pending] + [t[0] for t in self.timed]
                if not later:
                    return
                self.clock.now = max(self.clock.now, min(later))
                continue
            pick = choices[self.rng.randrange(len(choices))]
            if isinstance(pick, Delivery):
                self._deliver(pick)
            else:
                self.scheduler.step(pick)

    def _deliver(self, delivery: Delivery) -> None:
        self.pending.remove(delivery)
        copies = 1
        if self.duplicates > 0 and self.rng.random() < self.twins:
            self.duplicates -= 1
            copies = 2
        if self.duplicates > 0 and self.rng.random() < self.again:
            self.duplicates -= 1
            self.pending.append(Delivery(delivery.kind, delivery.payload,
                                         self.clock.now + self.rng.choice((0, 30, 700)),
                                         delivery.tries))
        for n in range(copies):
            instance = self.scheduler.start(f"{delivery.kind}-{self.calls}-{n}",
                                            self._invocation(delivery))
            self.running.append(instance)
            self.scheduler.step(instance)

    def _invocation(self, delivery: Delivery) -> Callable[[], Any]:
        services = self.services

        def run() -> Any:
            if delivery.kind == "ingest":
                return ingest_object(delivery.payload, services)
            return poll_one(delivery.payload, services)
        run.delivery = delivery  # type: ignore[attr-defined]
        return run

    def _reaped(self, instance: Instance) -> bool:
        if not instance.done:
            return False
        delivery: Delivery = instance.run.delivery  # type: ignore[attr-defined]
        self.outcomes.append((instance.name, instance.error or instance.result))
        if instance.error is not None:
            if not isinstance(instance.error, CloudError):   # a bug, not the cloud: say so
                self.crashes.append(f"{instance.name}: {instance.error!r}")
            if delivery.tries < RETRIES:   # the platform retries the invocation
                self.pending.append(Delivery(delivery.kind, delivery.payload,
                                             self.clock.now + 10, delivery.tries + 1))
        return True


class Unsettled(Exception):
    pass


def _target(args: tuple[Any, ...]) -> str:
    if not args:
        return ""
    first = args[0]
    if isinstance(first, dict):
        return str(first.get("ClientToken", ""))
    return str(first)
