"""Read-only virtual-disk readers: what format, how big, how it boots, which OS family."""

from .model import Inspection
from .source import ByteSource, BytesSource, CountingSource, FileSource

__all__ = ["ByteSource", "BytesSource", "CountingSource", "FileSource", "Inspection", "inspect"]


def inspect(source: ByteSource) -> Inspection:  # replaced by the readers
    raise NotImplementedError
