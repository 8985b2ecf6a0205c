"""ECS RPC on the wire: the action and signature of a request in, JSON answers and errors out."""

from .service import EcsWire

__all__ = ["EcsWire"]
