"""JSON shapes of ECS answers (images, tasks, task attributes), built from the backend's state."""

from __future__ import annotations

from typing import Any

from ..backend.models import AVAILABLE, FakeImage, FakeImportTask, minute_time, percent, second_time


def task_attribute(task: FakeImportTask, now: float) -> dict[str, Any]:
    failed = task.status == "Failed"
    operation = {
        "OperationStatus": {"Finished": "Success", "Failed": "Failed"}.get(task.status, task.status),
        "ErrorCode": task.error_code if failed else "",
        "ErrorMsg": task.error_msg if failed else "",
        "RelatedItemSet": {"RelatedItem": [{"Name": "OSSObject", "Value": key} for key in task.objects]},
    }
    return {
        "TaskId": task.task_id, "TaskAction": task.action, "TaskStatus": task.status,
        "TaskProcess": percent(task.done_fraction(now)),
        "SupportCancel": "true" if task.support_cancel else "false",
        "CreationTime": minute_time(task.created_at),
        "FinishedTime": minute_time(task.finished_at) if task.finished_at is not None else "",
        "RegionId": task.region,
        "TotalCount": 1,
        "SuccessCount": 1 if task.status == "Finished" else 0,
        "FailedCount": 1 if failed else 0,
        "OperationProgressSet": {"OperationProgress": [operation]},
    }


def task_summary(task: FakeImportTask) -> dict[str, Any]:
    return {
        "TaskId": task.task_id, "TaskAction": task.action, "TaskStatus": task.status,
        "SupportCancel": "true" if task.support_cancel else "false",
        "CreationTime": minute_time(task.created_at),
        "FinishedTime": minute_time(task.finished_at) if task.finished_at is not None else "",
        "ResourceId": task.image_id,
    }


def _image_progress(image: FakeImage, task: FakeImportTask | None, now: float) -> tuple[float, int]:
    """(fraction done, seconds left) of the image being made."""
    if image.status == AVAILABLE:
        return 1.0, 0
    if task is not None:
        return task.done_fraction(now), task.remaining_seconds(now)
    if image.ready_at is not None:
        return min(image.progress(now), 0.99), max(0, int(image.ready_at - now))
    return 0.0, 0


def _detection(image: FakeImage, now: float) -> dict[str, Any]:
    if not image.detection:
        return {}
    status = image.detection_status(now)
    items = image.detection_items if status == "Finished" and image.detection_items is not None else []
    return {"Status": status, "Items": {"Item": [dict(i) for i in items]}}


def image_shape(image: FakeImage, task: FakeImportTask | None, now: float,
                account_id: str) -> dict[str, Any]:
    done, remain = _image_progress(image, task, now)
    disks = [{
        "Device": d.device, "Type": "system" if d.index == 1 else "data", "Format": d.format,
        "Size": str(d.size_gib), "SnapshotId": d.snapshot_id,
        "ImportOSSBucket": d.bucket, "ImportOSSObject": d.object,
        "Progress": percent(done), "RemainTime": remain, "Encrypted": d.encrypted,
    } for d in image.disks]
    shape: dict[str, Any] = {
        "ImageId": image.image_id, "ImageName": image.name, "Description": image.description,
        "CreationTime": second_time(image.created_at), "Status": image.status,
        "Progress": percent(done), "Size": image.size_gib,
        "Architecture": image.architecture, "OSType": image.os_type, "Platform": image.platform,
        "OSName": image.platform, "OSNameEn": image.platform,
        "BootMode": image.boot_mode, "LicenseType": image.license_type,
        "ImageFamily": image.family, "ImageVersion": "", "ImageOwnerAlias": "self",
        "ImageOwnerId": int(account_id) if account_id.isdigit() else 0,
        "IsCopied": bool(image.source_image_id), "IsPublic": False, "IsSupportCloudinit": True,
        "IsSupportIoOptimized": True, "IsSubscribed": False, "LoginAsNonRootSupported": False,
        "IsSelfShared": "true" if image.shared_with else "false",
        "Usage": "none", "ProductCode": "", "ResourceGroupId": image.resource_group_id,
        "SupplierName": "", "Usable": image.status == AVAILABLE,
        "Tags": {"Tag": [{"TagKey": k, "TagValue": v} for k, v in image.tags.items()]},
        "Features": {"NvmeSupport": image.nvme_support, "ImdsSupport": image.imds_support},
        "DiskDeviceMappings": {"DiskDeviceMapping": disks},
    }
    detection = _detection(image, now)
    if detection:
        shape["DetectionOptions"] = detection
    return shape
