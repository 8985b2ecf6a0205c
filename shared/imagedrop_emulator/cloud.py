"""`FakeCloud`: one account in one home region, with OSS, ECS, MNS and FC behind real wire protocols.

`SERVICES` is the registry of every service the emulator runs: a backend built on the cloud (as
a `CloudEnv`) and the wire layer that answers for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .clock import Clock
from .core import WireService
from .credentials import CredentialStore
from .ecs import EcsBackend, EcsWire
from .env import CloudEnv, ObjectStore
from .faults import Faults
from .fc import FcBackend, FcWire
from .mns import MnsBackend, MnsWire
from .oss import OssBackend, OssWire
from .pump import EventPump


@dataclass(frozen=True)
class Service:
    backend: Callable[[CloudEnv], Any]
    wire: Callable[[Any, CloudEnv], WireService]


SERVICES: dict[str, Service] = {
    "oss": Service(OssBackend, OssWire),
    "ecs": Service(EcsBackend, EcsWire),
    "mns": Service(MnsBackend, MnsWire),
    "fc": Service(FcBackend, FcWire),
}

DEFAULT_REGION = "cn-hangzhou"
DEFAULT_ACCOUNT_ID = "1234567890123456"
DEFAULT_ACCESS_KEY_ID = "LTAIimagedropLocal"
DEFAULT_ACCESS_KEY_SECRET = "imagedrop-local-secret"


class FakeCloud:
    def __init__(self, *, region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT_ID,
                 access_key_id: str = DEFAULT_ACCESS_KEY_ID,
                 access_key_secret: str = DEFAULT_ACCESS_KEY_SECRET,
                 clock: Clock | None = None, faults: Faults | None = None,
                 regions: tuple[str, ...] = ("cn-hangzhou", "cn-shanghai", "cn-beijing",
                                             "ap-northeast-1", "ap-southeast-1", "eu-central-1",
                                             "us-west-1"),
                 services: tuple[str, ...] = ("oss", "ecs", "mns", "fc")):
        self.region = region
        self.regions = tuple(dict.fromkeys((region, *regions)))
        self.account_id = account_id
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.credentials = CredentialStore()
        self.credentials.add_key(access_key_id, access_key_secret)
        self.clock = clock or Clock()
        self.faults = faults or Faults()
        self.pump = EventPump(self.clock)
        self.services: dict[str, WireService] = {}
        unknown = [name for name in services if name not in SERVICES]
        if unknown:
            raise ValueError(f"unknown service {unknown[0]!r}: the emulator runs {', '.join(SERVICES)}")
        for name in services:  # each backend is reachable as `cloud.oss`, `cloud.ecs` …
            service = SERVICES[name]
            backend = service.backend(self)
            setattr(self, name, backend)
            self.register_service(service.wire(backend, self))

    oss: OssBackend
    ecs: EcsBackend
    mns: MnsBackend
    fc: FcBackend

    @property
    def object_store(self) -> ObjectStore | None:
        return getattr(self, "oss", None)

    def register_service(self, wire: WireService) -> None:
        self.services[wire.name] = wire
