"""Local OSS, ECS, MNS and FC that real SDK clients cannot tell apart from the cloud.

The design: docs/architecture.md#the-emulator."""

from .cloud import FakeCloud
from .clock import Clock
from .core import ServiceError, WireRequest, WireResponse
from .faults import Faults
from .mount import mock_cloud
from .server import CloudServer

__all__ = ["Clock", "CloudServer", "FakeCloud", "Faults", "ServiceError", "WireRequest",
           "WireResponse", "mock_cloud"]
