"""Local OSS, ECS and MNS that real SDK clients cannot tell apart from the cloud (DESIGN §5)."""

from .cloud import FakeCloud
from .core import Clock, Faults, ServiceError, WireRequest, WireResponse
from .mount import mock_cloud
from .server import CloudServer

__all__ = ["Clock", "CloudServer", "FakeCloud", "Faults", "ServiceError", "WireRequest",
           "WireResponse", "mock_cloud"]
