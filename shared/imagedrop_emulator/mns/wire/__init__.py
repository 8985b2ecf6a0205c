"""The MNS HTTP API: routes, MNS signatures, XML in and out."""

from .service import MnsWire

__all__ = ["MnsWire"]
