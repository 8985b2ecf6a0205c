"""`LocalStack`: the emulator on loopback, plus two functions invoked on its events.

The stack knows nothing of what the functions do: like Function Compute, it is handed the handlers
(`functions`) and calls them with the event's bytes and an FC-shaped context. Settings the
functions read at start are checked through `check_settings`, also handed in.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, Mapping

from .. import Clock, CloudServer, FakeCloud
from ..faults import Faults

BUCKET = "imagedrop-local"
QUEUE = "imagedrop-track"
TOPIC = "imagedrop-events"
EVENTS_QUEUE = "imagedrop-events-inbox"   # a queue subscribed to the topic, to show notifications
WATCH_PREFIX = "incoming/"
DEFAULT_SPEED = 60.0                      # emulated seconds per real second
DEFAULT_CONCURRENCY = 4                   # function instances running at once
DEFAULT_TWINS = 0.0                       # share of events also delivered to a second instance

log = logging.getLogger("imagedrop.local")


@dataclass(frozen=True)
class StackInfo:
    oss: str
    ecs: str
    mns: str
    region: str
    access_key_id: str
    access_key_secret: str
    bucket: str
    queue: str
    topic: str
    account_id: str
    fc: str = ""

    def as_json(self) -> dict[str, str]:
        return dict(self.__dict__)


class StackSettingError(ValueError):
    """A setting of the local stack itself (not of the functions) is malformed."""


def _speed_from_env() -> float:
    """IMAGEDROP_LOCAL_SPEED, the default of `--speed`: a number, 0 or more."""
    raw = os.environ.get("IMAGEDROP_LOCAL_SPEED", "").strip()
    if not raw:
        return DEFAULT_SPEED
    try:
        speed = float(raw)
    except ValueError:
        speed = float("nan")
    if not speed >= 0 or speed == float("inf"):
        raise StackSettingError(f"IMAGEDROP_LOCAL_SPEED {raw!r}: must be a number, 0 or more "
                          "(emulated seconds per real second; 0 stops the emulated clock)")
    return speed


def fc_context(cloud: FakeCloud, function: str,
               environment: Mapping[str, str] | None = None) -> Any:
    """What FC passes as `context` to a python3.10 handler: STS credentials of the role, region…

    Two attributes FC does not have, because these functions share the emulator's process: its
    emulated `clock`, and `environment`, the function's environment variables (in the cloud, the
    process environment of its own instance)."""
    ak, sk, token = cloud.credentials.issue_sts()
    return SimpleNamespace(
        request_id=str(uuid.uuid4()),
        credentials=SimpleNamespace(access_key_id=ak, access_key_secret=sk, security_token=token),
        function=SimpleNamespace(name=function, handler="index.handler", memory=512, timeout=300),
        region=cloud.region, account_id=cloud.account_id, clock=cloud.clock.now,
        environment=None if environment is None else dict(environment))


class Twins:
    """Which deliveries Function Compute also hands to a second instance at the same moment (its
    delivery is at-least-once): a seeded share of them, so a run can be repeated."""

    def __init__(self, rate: float = DEFAULT_TWINS, seed: int = 0):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"twin rate {rate:g}: must be between 0 and 1")
        self.rate = rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.delivered = 0          # deliveries that ran twice at once
        self.errors: list[str] = []  # what the second instance raised

    def roll(self) -> bool:
        with self._lock:
            twin = self.rate > 0 and self._random.random() < self.rate
            self.delivered += twin
            return twin


Handler = Callable[[bytes, Any], Any]


class LocalStack:
    """Start with `with LocalStack(functions=…) as stack:`; `stack.info` says where everything is.

    `functions` maps "imagedrop-ingest" and "imagedrop-poller" to their handlers; without them
    (or with `with_functions=False`) the stack is the emulator alone. `concurrency`: function
    instances running at once (FC runs many); `twins`: the share of deliveries also handed to a
    second instance at the same moment, `seed` picks which.
    """

    def __init__(self, *, speed: float | None = None, faults: str | None = None,
                 with_functions: bool = True, env: dict[str, str] | None = None,
                 cloud: FakeCloud | None = None, background: bool = True,
                 functions: dict[str, Handler] | None = None,
                 check_settings: Callable[[dict[str, str], str, str], None] | None = None,
                 concurrency: int = DEFAULT_CONCURRENCY, twins: float = DEFAULT_TWINS, seed: int = 0):
        speed = _speed_from_env() if speed is None else speed
        self.cloud = cloud or FakeCloud(clock=Clock(speed=speed), faults=Faults())
        self.cloud.pump.set_concurrency(concurrency)
        self.twins = Twins(twins, seed)
        fault_spec = faults if faults is not None else os.environ.get("IMAGEDROP_FAULTS", "")
        if fault_spec:
            self.cloud.faults.add_spec(fault_spec)
        self.functions = dict(functions or {})
        self.with_functions = with_functions and bool(self.functions)
        self._check_settings = check_settings
        self.background = background
        self.env = os.environ if env is None else env  # what the functions inherit; never written
        self.server = CloudServer(self.cloud)
        self.info: StackInfo | None = None
        self.invocations: list[tuple[str, str]] = []

    def start(self) -> StackInfo:
        cloud = self.cloud
        self.server.start()
        ends = self.server.endpoints
        cloud.oss.create_bucket(BUCKET)
        cloud.mns.create_queue(QUEUE)
        cloud.mns.create_queue(f"{QUEUE}-dlq")
        cloud.mns.create_queue(EVENTS_QUEUE)
        cloud.mns.create_topic(TOPIC)
        cloud.mns.subscribe(TOPIC, "local-inbox",
                            f"acs:mns:{cloud.region}:{cloud.account_id}:queues/{EVENTS_QUEUE}",
                            notify_content_format="SIMPLIFIED")
        self.info = StackInfo(oss=ends["oss"], ecs=ends["ecs"], mns=ends["mns"], region=cloud.region,
                              access_key_id=cloud.access_key_id,
                              access_key_secret=cloud.access_key_secret, bucket=BUCKET, queue=QUEUE,
                              topic=TOPIC, account_id=cloud.account_id, fc=ends.get("fc", ""))
        if self.with_functions:
            try:
                self._configure_functions()
                self.check_settings()
            except BaseException:
                self.stop()
                raise
        if self.background:
            cloud.pump.start()
        return self.info

    def settings_env(self) -> dict[str, str]:
        """The function settings as s.yaml would set them, pointed at the emulator."""
        assert self.info
        return {"FC_REGION": self.info.region, "FC_ACCOUNT_ID": self.info.account_id,
                "IMAGEDROP_QUEUE": QUEUE, "IMAGEDROP_TOPIC": TOPIC,
                "IMAGEDROP_MNS_ENDPOINT": self.info.mns, "IMAGEDROP_OSS_ENDPOINT": self.info.oss,
                "IMAGEDROP_ECS_ENDPOINT": self.info.ecs, "IMAGEDROP_WATCH_PREFIX": WATCH_PREFIX}

    def function_env(self) -> dict[str, str]:
        """The environment the functions run with: the process's, and the settings s.yaml sets."""
        return {**self.env, **self.settings_env()}

    def check_settings(self) -> None:
        """Load the functions' settings as each invocation will, so that a missing or malformed
        one (a webhook URL that is not http(s), a negative poll interval) stops the stack before
        it starts, with the `ConfigError` naming the variable, instead of failing every event."""
        if self._check_settings is not None:
            self._check_settings(self.function_env(), self.cloud.region, self.cloud.account_id)

    def _configure_functions(self) -> None:
        self.cloud.oss.add_notification(BUCKET, name="imagedrop-ingest", prefix=WATCH_PREFIX,
                                        sink=self.sink("imagedrop-ingest"))
        self.cloud.mns.add_eventbridge_trigger(QUEUE, name="imagedrop-poller",
                                               sink=self.sink("imagedrop-poller"),
                                               base64_decode=True, dead_letter_queue=f"{QUEUE}-dlq")
        self.register_fc_functions()

    def register_fc_functions(self) -> None:
        """The same two functions in the fake Function Compute 3.0 (InvokeFunction, GetFunction,
        ListTriggers), with the triggers s.yaml gives them."""
        fc = getattr(self.cloud, "fc", None)
        if fc is None:
            return
        from ..fc import FakeTrigger

        region, account = self.cloud.region, self.cloud.account_id
        fc.register_function("imagedrop-ingest", self.sink("imagedrop-ingest"), triggers=[
            FakeTrigger("oss-incoming", "oss", f"acs:oss:{region}:{account}:{BUCKET}",
                        {"events": ["oss:ObjectCreated:*"], "filter": {"key": {"prefix": WATCH_PREFIX}}})])
        fc.register_function("imagedrop-poller", self.sink("imagedrop-poller"), triggers=[
            FakeTrigger("mns-track", "eventbridge", f"acs:mns:{region}:{account}:queues/{QUEUE}",
                        {"QueueName": QUEUE})])

    def sink(self, function: str) -> Callable[[bytes], Any]:
        """Invoke a function as FC does: the event's bytes and a fresh context."""
        handler = self.functions[function]

        def once(payload: bytes) -> Any:
            self.invocations.append((function, payload.decode("utf-8", "replace")))
            return handler(payload, fc_context(self.cloud, function, self.function_env()))

        def invoke(payload: bytes) -> Any:
            if not self.twins.roll():
                return once(payload)
            twin = threading.Thread(target=self._twin, args=(once, payload), name=f"{function}-twin")
            twin.start()
            try:
                return once(payload)
            finally:
                twin.join()
        return invoke

    def _twin(self, once: Callable[[bytes], Any], payload: bytes) -> None:
        """The second instance of a doubly delivered event; the platform's retries follow the
        first one's result, so the twin's failure is only logged."""
        try:
            once(payload)
        except Exception as exc:
            log.info("second instance failed: %s: %s", type(exc).__name__, exc)
            self.twins.errors.append(f"{type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self.cloud.pump.stop()
        self.server.stop()

    def __enter__(self) -> "LocalStack":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
