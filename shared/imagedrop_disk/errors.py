"""The disk readers' errors: the library stands alone, so its errors do too."""

from __future__ import annotations


class DiskError(Exception):
    """The bytes are not a disk image we understand; the message is one line for a person."""
