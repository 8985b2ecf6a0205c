"""Fake MNS: queues, topics and an EventBridge-style queue trigger behind the real MNS HTTP API."""

from .backend import (DeadEvent, EventBridgeTrigger, FakeMessage, FakeQueue, FakeSubscription, FakeTopic,
                      FakeTopicMessage, MnsBackend)
from .wire import MnsWire

__all__ = ["DeadEvent", "EventBridgeTrigger", "FakeMessage", "FakeQueue", "FakeSubscription", "FakeTopic",
           "FakeTopicMessage", "MnsBackend", "MnsWire"]
