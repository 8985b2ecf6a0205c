"""Function Compute handler `index.handler` of imagedrop-ingest (OSS trigger)."""

from imagedrop.handlers import ingest_handler as handler

__all__ = ["handler"]
