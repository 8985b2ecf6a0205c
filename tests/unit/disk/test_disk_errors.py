"""Every exception the disk library defines sits in one tree under `DiskError`, in one module."""

from __future__ import annotations

import importlib
import pkgutil

import imagedrop_disk
from imagedrop_disk import errors
from imagedrop_disk.errors import DiskError


def _exceptions_defined_in_the_library() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(imagedrop_disk.__path__, prefix="imagedrop_disk."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseException) \
                    and value.__module__.startswith("imagedrop_disk"):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def test_every_exception_of_the_library_is_a_disk_error_defined_in_errors() -> None:
    # Given every module of the library, imported
    # When the exception classes they define or import are collected
    found = _exceptions_defined_in_the_library()
    # Then each is defined in imagedrop_disk.errors and is a DiskError
    assert len(found) >= 12, sorted(found)
    assert [name for name, cls in found.items() if cls.__module__ != errors.__name__] == []
    assert [name for name, cls in found.items() if not issubclass(cls, DiskError)] == []


def test_the_lzo_error_stays_a_value_error_for_the_readers_that_catch_one() -> None:
    assert issubclass(errors.LzoError, ValueError)
    assert issubclass(errors.NtfsUnsupported, errors.FsCorrupt)
    assert issubclass(errors.MissingCodec, errors.FsCorrupt)
