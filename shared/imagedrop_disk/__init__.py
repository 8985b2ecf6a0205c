"""Read-only virtual-disk readers: what format, how big, how it boots, which OS family."""

from .errors import DiskError
from .inspect import inspect, inspect_path
from .model import Inspection
from .source import ByteSource, BytesSource, CountingSource, FileSource

__all__ = ["ByteSource", "BytesSource", "CountingSource", "DiskError", "FileSource", "Inspection",
           "inspect", "inspect_path"]
