"""The local Function Compute: services, functions and triggers behind the FC 2021-04-06 OpenAPI
(ACS3-HMAC-SHA256 signatures, as `alibabacloud-fc-open20210406` sends them)."""

from .backend import FakeFunction, FakeTrigger, FcBackend
from .wire import FcWire

__all__ = ["FakeFunction", "FakeTrigger", "FcBackend", "FcWire"]
