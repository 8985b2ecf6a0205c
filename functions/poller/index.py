"""Function Compute handler `index.handler` of imagedrop-poller (MNS queue trigger via EventBridge)."""

from imagedrop.handlers import poller_handler as handler

__all__ = ["handler"]
