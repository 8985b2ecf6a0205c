"""`FakeCloud`: one account in one home region, with OSS, ECS and MNS behind real wire protocols."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core import Clock, Faults, WireService
from .credentials import CredentialStore
from .pump import EventPump

if TYPE_CHECKING:
    from .ecs import EcsBackend
    from .mns import MnsBackend
    from .oss import OssBackend

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
        import importlib

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
        # Each service package exports `<Name>Backend(cloud)` and `<Name>Wire(cloud)`; the backend
        # is reachable as `cloud.oss`, `cloud.ecs`, `cloud.mns`. ECS reads objects from OSS.
        for name in services:
            module = importlib.import_module(f"{__package__}.{name}")
            prefix = name.capitalize()
            setattr(self, name, getattr(module, f"{prefix}Backend")(self))
            self.register_service(getattr(module, f"{prefix}Wire")(self))

    oss: "OssBackend"
    ecs: "EcsBackend"
    mns: "MnsBackend"

    def register_service(self, wire: WireService) -> None:
        self.services[wire.name] = wire
