"""Fake ECS: custom-image import, tasks, image check, copy and share over the real RPC wire."""

from .backend import EcsBackend, Scenario
from .wire import EcsWire

__all__ = ["EcsBackend", "EcsWire", "Scenario"]
