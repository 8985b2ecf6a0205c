"""Function Compute state and rules: functions (Python callables), their triggers and invocations."""

from .service import FakeFunction, FakeTrigger, FcBackend

__all__ = ["FakeFunction", "FakeTrigger", "FcBackend"]
