"""What the fake does with an ImportImage request: find each object in the fake OSS, read it the
way ECS would (through `imagedrop_disk.inspect` over ranged reads) and decide, up front, what the
task will show later.

As with real ECS, what the API answer refuses is only what it can see at once (missing bucket or
object, zero size, a disk smaller than the image); problems inside the image (wrong or unsupported
format, unreadable or broken content) surface later as a Failed task.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...core import ServiceError
from .. import errors
from .models import GIB, FakeDisk
from .rules import DISK_GIB, DiskSpec, ImportRequest

IMPORTABLE = ("qcow2", "vmdk", "vhd", "raw")


@dataclass
class ImportPlan:
    disks: list[FakeDisk]
    total_bytes: int
    failure: tuple[str, str] | None     # (ErrorCode, ErrorMsg) the task will end with


ARCHIVED_CLASSES = ("Archive", "ColdArchive", "DeepColdArchive")


def _locate(oss: Any, spec: DiskSpec, region: str) -> int:
    """The object's size, or the error ImportImage answers at once."""
    if oss is None:
        raise errors.bucket_not_found(spec.bucket, region)
    try:
        bucket_region = oss.bucket_region(spec.bucket)
    except ServiceError:
        raise errors.bucket_not_found(spec.bucket, region) from None
    if bucket_region != region:
        raise errors.bucket_not_found(spec.bucket, region)
    try:
        found = oss.get_object(spec.bucket, spec.object)
    except ServiceError:
        raise errors.object_not_found(spec.bucket, spec.object) from None
    if getattr(found, "storage_class", "Standard") in ARCHIVED_CLASSES:
        try:
            oss.read_object(spec.bucket, spec.object)
        except ServiceError:
            raise ServiceError(400, "InvalidOSSObject.NeedRestore",
                               "The specified OSS object is a archive object, need restore first: "
                               f"oss://{spec.bucket}/{spec.object} is {found.storage_class}; "
                               "restore it (RestoreObject) and import once HEAD shows x-oss-restore "
                               'ongoing-request="false".') from None
    size = int(found.size)
    if size == 0:
        raise ServiceError(400, "InvalidOSSObject.Size",
                           f"The specified OSS object size is zero: oss://{spec.bucket}/{spec.object} is "
                           "empty. Upload the whole disk image.")
    return size


def _inspect(oss: Any, spec: DiskSpec) -> tuple[Any, str]:
    """(Inspection or None, why it could not be read)."""
    import imagedrop_disk as disk  # looked up at call time: the readers replace `disk.inspect`

    try:
        return disk.inspect(oss.open_source(spec.bucket, spec.object)), ""
    except Exception as exc:  # a broken image must fail the task, never the fake
        return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _too_small(spec: DiskSpec, size_gib: int, needed: int, what: str) -> ServiceError:
    advice = (f"Set DiskImageSize to at least {needed}." if needed <= DISK_GIB[1] else
              f"ECS imports disks of at most {DISK_GIB[1]} GiB: shrink the image first.")
    return ServiceError(400, "InvalidImageSize",
                        f"DiskDeviceMapping.{spec.index}.DiskImageSize is {size_gib} GiB, smaller than "
                        f"the {what} ({needed} GiB). {advice}")


def _size_gib(spec: DiskSpec, file_size: int, virtual_size: int | None) -> int:
    needed_file = max(1, math.ceil(file_size / GIB))
    needed_virtual = max(1, math.ceil(virtual_size / GIB)) if virtual_size else 0
    if spec.size_gib is None:   # not given: the image's own size (documented default here)
        size = max(needed_file, needed_virtual)
        if size > DISK_GIB[1]:
            raise ServiceError(400, "InvalidImageSize",
                               f"DiskDeviceMapping.{spec.index}: the image needs {size} GiB, more than "
                               f"the {DISK_GIB[1]} GiB ECS imports.")
        return size
    if spec.size_gib < needed_file:
        raise _too_small(spec, spec.size_gib, needed_file, "image file")
    if needed_virtual and spec.size_gib < needed_virtual:
        raise _too_small(spec, spec.size_gib, needed_virtual, "image's virtual size")
    return spec.size_gib


def _content_failure(spec: DiskSpec, inspection: Any, unreadable: str) -> tuple[str, str] | None:
    where = f"DiskDeviceMapping.{spec.index} (oss://{spec.bucket}/{spec.object})"
    if inspection is None:
        return ("ImportImageFailed", f"Importing image is failed: {where} could not be read as a disk "
                                     f"image ({unreadable}).")
    fmt = inspection.format
    if fmt not in IMPORTABLE:
        return ("InvalidImageFormat.Malformed",
                f"The specified Image Format is wrongly formed: {where} is a {fmt} image; ECS imports "
                "RAW, VHD, QCOW2 and VMDK only. Convert it with qemu-img first.")
    if spec.format and spec.format != fmt.upper():
        return ("InvalidImageFormat.Malformed",
                f"The specified Image Format is wrongly formed: {where} is declared {spec.format} but is "
                f"{fmt.upper()}. Fix DiskDeviceMapping.{spec.index}.Format or leave it empty.")
    if not inspection.importable:
        problems = "; ".join(inspection.problems) or "the image is not importable"
        return ("ImportImageFailed", f"Importing image is failed: {where}: {problems}.")
    return None


def plan_import(oss: Any, req: ImportRequest) -> ImportPlan:
    disks: list[FakeDisk] = []
    failure: tuple[str, str] | None = None
    total = 0
    for spec in req.disks:
        file_size = _locate(oss, spec, req.region)
        inspection, unreadable = _inspect(oss, spec)
        virtual = inspection.virtual_size if inspection is not None else None
        size_gib = _size_gib(spec, file_size, virtual)
        failure = failure or _content_failure(spec, inspection, unreadable)
        fmt = spec.format or (inspection.format.upper() if inspection is not None else "")
        disks.append(FakeDisk(spec.index, size_gib, fmt, spec.bucket, spec.object, file_size, inspection))
        total += file_size
    return ImportPlan(disks, total, failure)
