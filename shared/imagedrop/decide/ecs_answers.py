"""What ECS answers about an import, as the pipeline reads it: a task, an image, its check items.

Views over the wire names of DescribeTaskAttribute and DescribeImages (pure: no I/O, no SDK).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TASK_RUNNING = frozenset({"Processing", "Waiting", "Pending", "Paused"})
TASK_CANCELLED = frozenset({"Cancelled", "Canceled", "Cancelling", "Deleted"})


@dataclass(frozen=True)
class DetectionItem:
    name: str
    value: str | None = None
    risk_level: str | None = None        # present only when the item is at risk
    risk_code: str | None = None

    @property
    def at_risk(self) -> bool:
        return bool(self.risk_level)


@dataclass(frozen=True)
class TaskView:
    status: str                          # TaskStatus; unknown values are non-terminal
    progress: int | None = None          # TaskProcess "32%" -> 32
    error_code: str | None = None
    error_message: str | None = None

    @classmethod
    def from_wire(cls, answer: dict[str, Any]) -> "TaskView":
        """From a DescribeTaskAttribute answer (wire names)."""
        ops = (answer.get("OperationProgressSet") or {}).get("OperationProgress") or []
        failed = [op for op in ops if op.get("ErrorCode")]
        return cls(status=str(answer.get("TaskStatus") or ""), progress=percent(answer.get("TaskProcess")),
                   error_code=failed[0]["ErrorCode"] if failed else None,
                   error_message=(failed[0].get("ErrorMsg") or None) if failed else None)


@dataclass(frozen=True)
class ImageView:
    status: str                          # Creating|Waiting|Available|UnAvailable|CreateFailed|…
    progress: int | None = None
    detection_status: str | None = None  # Processing|Finished, None when no check was requested
    detection_items: list[DetectionItem] = field(default_factory=list)
    boot_mode: str | None = None
    nvme_support: str | None = None      # Features.NvmeSupport
    license_type: str | None = None
    family: str | None = None
    image_id: str | None = None
    os_type: str | None = None
    architecture: str | None = None

    @classmethod
    def from_wire(cls, image: dict[str, Any]) -> "ImageView":
        """From one `Images.Image[]` entry of a DescribeImages answer (wire names)."""
        detection = image.get("DetectionOptions") or {}
        items = ((detection.get("Items") or {}).get("Item")) or []
        return cls(
            status=str(image.get("Status") or ""), progress=percent(image.get("Progress")),
            detection_status=detection.get("Status") or None,
            detection_items=[DetectionItem(str(i.get("Name") or ""), i.get("Value"),
                                           i.get("RiskLevel") or None, i.get("RiskCode") or None)
                             for i in items],
            boot_mode=image.get("BootMode") or None,
            nvme_support=(image.get("Features") or {}).get("NvmeSupport") or None,
            license_type=image.get("LicenseType") or None, family=image.get("ImageFamily") or None,
            image_id=image.get("ImageId") or None, os_type=image.get("OSType") or None,
            architecture=image.get("Architecture") or None)


def percent(text: object) -> int | None:
    """"32%" / "32" / 32 → 32; anything else → None."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, (int, float)):
        return max(0, min(100, int(text)))
    try:
        return max(0, min(100, int(float(str(text).strip().rstrip("%")))))
    except ValueError:
        return None
