"""The local Function Compute 3.0: functions and triggers behind the FC 2023-03-30 OpenAPI
(ACS3-HMAC-SHA256 signatures, as `alibabacloud-fc20230330` sends them). No services: FC 3.0
names a function on its own."""

from .backend import FakeFunction, FakeTrigger, FcBackend
from .wire import FcWire

__all__ = ["FakeFunction", "FakeTrigger", "FcBackend", "FcWire"]
