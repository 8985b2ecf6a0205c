"""Fake MNS: queues, topics and an EventBridge-style queue trigger behind the real MNS HTTP API."""

from .backend import MnsBackend
from .eventbridge import DeadEvent, EventBridgeTrigger
from .queues import FakeMessage, FakeQueue
from .topics import FakeSubscription, FakeTopic, FakeTopicMessage
from .wire import MnsWire

__all__ = ["DeadEvent", "EventBridgeTrigger", "FakeMessage", "FakeQueue", "FakeSubscription", "FakeTopic",
           "FakeTopicMessage", "MnsBackend", "MnsWire"]
