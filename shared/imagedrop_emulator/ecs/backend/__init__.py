"""ECS state and rules: custom images, import tasks, image check, copies, shares and Image
Builder pipelines of one account in every region. No HTTP."""

from .service import EcsBackend, Scenario

__all__ = ["EcsBackend", "Scenario"]
