"""The OSS wire protocol: addressing, V1/V4 signatures, headers in, XML out."""

from .service import OssWire

__all__ = ["OssWire"]
