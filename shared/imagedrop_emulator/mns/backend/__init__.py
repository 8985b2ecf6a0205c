"""MNS state and rules: queues, topics, subscriptions and EventBridge-style queue triggers. No HTTP."""

from .eventbridge import DeadEvent, EventBridgeTrigger
from .queues import FakeMessage, FakeQueue
from .service import MnsBackend
from .topics import FakeSubscription, FakeTopic, FakeTopicMessage

__all__ = ["DeadEvent", "EventBridgeTrigger", "FakeMessage", "FakeQueue", "FakeSubscription", "FakeTopic",
           "FakeTopicMessage", "MnsBackend"]
