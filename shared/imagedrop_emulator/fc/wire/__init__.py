"""The FC 2023-03-30 OpenAPI on the wire: paths, ACS3 signatures, JSON in and out."""

from .service import FcWire

__all__ = ["FcWire"]
