"""Polling decisions for one import (pure: no I/O, no SDK, no clock).

The poller calls `decide` once per delivered `TrackMessage` with what DescribeTaskAttribute (and,
when `wants_image` says so, DescribeImages) answered, and does what the decision says:

- `Wait(delay, progress, note, state, message)`: write `state` ("importing" or "checking") if it
  changed, then send `message.to_body()` with `DelaySeconds=delay` *before* returning.
- `Imported(note)`: the image is Available and its check is finished (or not wanted, or gave up):
  move to "finishing" and apply fixes, family, copies, shares.
- `Failed(code, message, advice, cancel_task)`: call CancelTask first when `cancel_task`, then
  move to "failed" carrying `code` and `advice`.
- `Cancelled(note)`: move to "cancelled".

Messages of `stage == "finish"` (copies being followed) are the orchestrator's own business;
`decide` is about the import task and its image.

`next_poll` is the schedule: short at first, scaled by disk size, backing off while progress is
unknown, then aimed just after the predicted end of the task, never more than `max_seconds` ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from .errors import CloudError
from .events import TrackMessage
from .repair_advice import REPAIR_ADVICE
from .status import Problem

__all__ = ["TaskView", "ImageView", "DetectionItem", "Wait", "Failed", "Cancelled", "Imported",
           "Decision", "next_poll", "decide", "wants_image", "percent", "error_advice"]

MNS_MAX_DELAY = 604800          # DelaySeconds upper bound of an MNS message
GIB = 1024 ** 3
SIZE_UNIT = 10 * GIB            # disks up to this size get the plain first delay
MARGIN_FRACTION = 0.05          # wake this much after the predicted end...
MARGIN_SECONDS = 5              # ...plus this
IMAGE_GRACE_SECONDS = 1800      # task Finished but image not Available: give up after this
CHECK_LIMIT_SECONDS = 3600      # image check still Processing after this: go on without it

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


@dataclass(frozen=True)
class Wait:
    delay: int
    progress: int | None
    note: str
    state: Literal["importing", "checking"] = "importing"
    message: TrackMessage | None = None  # the next message to send with DelaySeconds=delay


@dataclass(frozen=True)
class Failed:
    code: str
    message: str
    advice: str
    cancel_task: bool = False


@dataclass(frozen=True)
class Cancelled:
    note: str


@dataclass(frozen=True)
class Imported:
    note: str


Decision = Union[Wait, Failed, Cancelled, Imported]


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


def _clamp(seconds: float, high: int) -> int:
    return int(max(1, min(high, MNS_MAX_DELAY, math.ceil(seconds))))


def _remaining(elapsed: float, progress: int, last: tuple[float, int] | None) -> float | None:
    """Seconds left, predicted from the progress curve; None when progress stalled."""
    if last is not None:
        then, seen = last
        if elapsed - then >= 1:
            if progress <= seen:
                return None
            if seen <= 0:                                    # started after the last poll
                return (100 - progress) * (elapsed - then) / progress
            if progress - seen >= 2 and then > 0:
                # progress ≈ a·t^b through both points: b = 1 is linear, < 1 slows down, > 1 speeds up
                b = math.log(progress / seen) / math.log(elapsed / then)
                b = min(4.0, max(0.25, b))
                return elapsed * ((100 / progress) ** (1 / b) - 1)
    return elapsed * (100 - progress) / progress


def next_poll(*, attempt: int, elapsed: float, total_bytes: int, progress: int | None,
              first_seconds: int, max_seconds: int,
              last: tuple[float, int] | None = None) -> int:
    """Seconds until the next poll (1 ≤ result ≤ min(max_seconds, 604800)).

    - Progress unknown or 0: `first_seconds`, scaled by √(size / 10 GiB) for disks over 10 GiB,
      doubling with each attempt.
    - Progress known: the predicted remaining time plus 5 % and 5 s, so the poll lands just after
      the end. The prediction fits progress ≈ a·t^b through this poll and the previous one
      (`last = (elapsed, progress)`, when it moved by ≥ 2 points): exact for linear progress, and
      it follows progress that slows down or speeds up. With one point it assumes linear.
    - Never more than twice the time elapsed so far (a wrong early guess costs one poll, not a late
      notification), never more than `max_seconds`. Stalled progress backs off instead.
    """
    high = max(1, max_seconds)
    if not progress or progress <= 0 or elapsed <= 0:
        scale = max(1.0, math.sqrt(total_bytes / SIZE_UNIT)) if total_bytes > 0 else 1.0
        return _clamp(first_seconds * scale * 2 ** min(max(attempt, 0), 20), high)
    if progress >= 100:
        return _clamp(MARGIN_SECONDS, high)
    remaining = _remaining(elapsed, progress, last)
    if remaining is None:
        then = last[0] if last is not None else 0.0
        return _clamp(max(first_seconds, 2 * (elapsed - then)), high)
    delay = remaining * (1 + MARGIN_FRACTION) + MARGIN_SECONDS
    return _clamp(min(delay, max(first_seconds, 2 * elapsed)), high)


def wants_image(task: TaskView, msg: TrackMessage | None = None) -> bool:
    """Whether this poll needs DescribeImages too (with `Status` given, or it is invisible):
    when the task is done, in an unknown state, or the import is already past the task."""
    if msg is not None and msg.task_done_at is not None:
        return True
    return task.status not in TASK_RUNNING


def _task_failed(task: TaskView) -> Failed:
    code = task.error_code or "ImportImageFailed"
    message = task.error_message or "the import task failed without giving a reason"
    return Failed(code, message, error_advice(code))


def _follow_up(msg: TrackMessage, now: float, progress: int | None, **changes: Any) -> TrackMessage:
    update: dict[str, Any] = {"attempt": msg.attempt + 1, "seen_at": now,
                              "seen_progress": progress}
    update.update(changes)
    return msg.model_copy(update=update)


def decide(msg: TrackMessage, task: TaskView, image: ImageView | None, now: float, *,
           first_seconds: int, max_seconds: int, deadline_seconds: float,
           detection_requested: bool,
           image_grace_seconds: float = IMAGE_GRACE_SECONDS,
           check_limit_seconds: float = CHECK_LIMIT_SECONDS) -> Decision:
    """What to do after one poll of the import `msg` describes (see the module docstring).

    Order of precedence: a failed image or task, a cancelled task, then a finished task (image
    Available → check → Imported), then the deadline (→ Failed("timeout", cancel_task=True)),
    then wait. An unknown TaskStatus counts as running unless the image says otherwise.
    The image check never fails an import: when it does not finish within
    `check_limit_seconds` of the task, the import goes on without fixes.
    """
    elapsed = max(0.0, now - msg.started_at)
    progress = task.progress
    if image is not None and image.status == "CreateFailed":
        code = task.error_code or "CreateFailed"
        return Failed(code, task.error_message or f"image {msg.image_id} ended in CreateFailed",
                      error_advice(code))
    if task.status == "Failed":
        return _task_failed(task)
    if task.status in TASK_CANCELLED:
        return Cancelled(f"task {msg.task_id} is {task.status}; image {msg.image_id} was not created")

    finished = task.status == "Finished" or (task.status not in TASK_RUNNING
                                             and image is not None and image.status == "Available")
    if finished:
        done_at = msg.task_done_at if msg.task_done_at is not None else now
        since_done = now - done_at
        short = _clamp(max(10, min(first_seconds, 60)), max_seconds)
        if image is None or image.status != "Available":
            seen = image.status if image is not None else "not found"
            if since_done >= image_grace_seconds:
                return Failed("ImageNotAvailable",
                              f"task {msg.task_id} finished {int(since_done)} s ago but image "
                              f"{msg.image_id} is {seen}",
                              error_advice("ImageNotAvailable"))
            return Wait(short, 100, f"task finished; image {msg.image_id} is {seen}", "importing",
                        _follow_up(msg, now, 100, task_done_at=done_at))
        if detection_requested and image.detection_status != "Finished":
            if since_done >= check_limit_seconds:
                return Imported(f"image {msg.image_id} is Available; the image check did not finish "
                                f"within {int(check_limit_seconds)} s, so no fixes were applied")
            status = image.detection_status or "not started"
            return Wait(short, 100, f"image {msg.image_id} is Available; image check {status}",
                        "checking", _follow_up(msg, now, 100, task_done_at=done_at))
        checked = " and checked" if detection_requested else ""
        return Imported(f"image {msg.image_id} is Available{checked}")

    if elapsed >= deadline_seconds:
        at = f" at {progress}%" if progress is not None else ""
        return Failed("timeout",
                      f"task {msg.task_id} was still {task.status or 'running'}{at} after "
                      f"{elapsed / 3600:.1f} h (deadline {deadline_seconds / 3600:.1f} h)",
                      error_advice("timeout"), cancel_task=True)

    last = None
    if msg.seen_at is not None and msg.seen_progress is not None:
        last = (msg.seen_at - msg.started_at, msg.seen_progress)
    delay = next_poll(attempt=msg.attempt, elapsed=elapsed, total_bytes=msg.total_bytes,
                      progress=progress, first_seconds=first_seconds, max_seconds=max_seconds,
                      last=last)
    delay = min(delay, _clamp(deadline_seconds - elapsed + 1, max_seconds))  # wake for the deadline
    shown = f"{progress}%" if progress is not None else "progress unknown"
    return Wait(delay, progress, f"task {task.status or 'running'} ({shown}); next poll in {delay} s",
                "importing", _follow_up(msg, now, progress))


# ---------------------------------------------------------------- what to do about an error code

_ROLE_TRUST = ('{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow",'
               '"Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}')
_NO_ROLE = (
    "ECS may not read your OSS bucket. Create the RAM role AliyunECSImageImportDefaultRole with "
    f"the trust policy {_ROLE_TRUST} and attach the system policy AliyunECSImageImportRolePolicy "
    "(`aliyun ram CreateRole --RoleName AliyunECSImageImportDefaultRole --AssumeRolePolicyDocument "
    "'<trust policy>'`, then `aliyun ram AttachPolicyToRole --PolicyType System --PolicyName "
    "AliyunECSImageImportRolePolicy --RoleName AliyunECSImageImportDefaultRole`), or use the "
    "console's one-click authorization on the Import Image page; then upload the manifest again.")

ERROR_ADVICE: dict[str, str] = {
    "NoSetRoletoECSServiceAcount": _NO_ROLE,     # sic: the code as ECS spells it
    "NoSetRoletoECSServiceAccount": _NO_ROLE,
    "InvalidOSS.NotAuthorized": "The import role may not read this object: check that "
        "AliyunECSImageImportRolePolicy is attached to the role and that no bucket policy denies "
        "it, then upload the manifest again.",
    "InvalidOSSObject.NotFound": "The disk object was not found in the bucket in this region: "
        "check the key (case, folder) and that the upload finished, then upload the manifest again.",
    "InvalidOSSObject.Size": "The disk object is empty (0 bytes): upload the disk image again, "
        "then the manifest.",
    "UnsupportedSuffix.OSSObject": "Rename the disk object to end in .qcow2, .vhd, .raw, .img or "
        ".vmdk and update the manifest.",
    "InvalidImageName.Duplicated": "An image with this name already exists in the region: change "
        "image_name in the manifest (or delete the old image) and upload the manifest again.",
    "InvalidImageSize": "The disk size is out of range or smaller than the image: set "
        "system_disk_gib to at least the image's virtual size (1–2048 GiB) and upload again.",
    "InvalidDataDiskSize": "A data disk size is out of range: give each data disk 1–2048 GiB, at "
        "least its virtual size.",
    "QuotaExceed.Image": "The region's custom image quota is full: delete unused custom images or "
        "raise the quota in the Quota Center, then upload the manifest again.",
    "ImageIsImporting": "This image is already being imported: wait for that import to finish "
        "(`imagedrop status`) instead of starting another.",
    "InvalidOSSBucket.NotFound": "The bucket is not in the import's region: ImportImage reads only "
        "from a bucket in the same region. Copy the disk to a bucket in that region (or set region "
        "to the bucket's region) and upload again.",
    "InvalidOSSBucket.NotMatched": "The bucket does not match the region or account of the import: "
        "use a bucket of this account in the import's region.",
    "InvalidImageFormat.Malformed": "ECS could not read the disk format: convert it with "
        "`qemu-img convert -O qcow2 in out.qcow2` (or raw/vhd), check it with `qemu-img check`, and "
        "set format in the manifest to match.",
    "InvalidImageFormat.RegionNotSupported": "This format is not importable in this region: "
        "convert the disk to qcow2 or raw with qemu-img and upload again.",
    "InvalidOSSBucket.EncryptUnsupported": "ImportImage cannot read a bucket with server-side "
        "encryption: copy the disk to a bucket without default encryption and upload there.",
    "InvalidOSSObject.NeedRestore": "The disk is an Archive/Cold Archive object: restore it "
        "(`ossutil restore oss://bucket/key`), wait until it is readable, then upload the manifest "
        "again.",
    "InvalidOSSBucket.FlowLimit": "OSS limited the bucket's bandwidth: retry later or raise the "
        "bucket's flow limit.",
    "InvalidAccountStatus.OSSDisabled": "OSS is not active or is suspended for this account: "
        "activate it or settle the account, then upload again.",
    "Account.Arrearage": "The account has an overdue payment: top up the account in Billing "
        "Management, then upload the manifest again.",
    "Throttling": "ECS throttled the request: imagedrop retries with backoff; if it persists, "
        "lower the number of imports started at once.",
    "InvalidVHDImage.IncorrectSize": "The VHD is not a valid fixed-size VHD (header size and "
        "block table disagree): convert it with `qemu-img convert -O vpc -o subformat=fixed` or "
        "to qcow2, and upload again.",
    "ImageCheckUnsupported.WindowsImage": "The image check does not support this Windows image: "
        "set image_check to false in the manifest and upload it again.",
    "InvalidBootMode.NotSupport": "This boot mode is not supported for the image: arm64 boots "
        "only with UEFI; set boot_mode to match the disk (UEFI needs an EFI system partition).",
    "InvalidLicenseType.NotSupported": "This license type is not allowed for the platform: use "
        "Auto, or BYOL for your own Windows license.",
    "InvalidLicenseType.BYOLOnly": "This platform accepts only BYOL: set license_type to BYOL.",
    "InvalidArchitecture.PlatformUnsupported": "The platform does not exist for this "
        "architecture: pick a platform that supports it (or Others Linux).",
    "Forbidden.RAM": "The function's role lacks an ECS permission: add the action named in the "
        "error to the function's RAM policy.",
    "ImportImageFailed": "ECS could not import the disk: run `imagedrop inspect` on it, make sure "
        "it boots in a local VM (qemu), and if it does, open a ticket with the task id.",
    "CreateFailed": "ECS could not create the image from the disk: run `imagedrop inspect` on it, "
        "check it boots locally, and retry; open a ticket with the task id if it fails again.",
    "ImageNotAvailable": "The task finished but the image never became Available: look at the "
        "image in the ECS console (Images) and open a ticket with the task id if it is stuck.",
    "timeout": "The import passed the deadline and was cancelled: large disks take longer; raise "
        "IMAGEDROP_DEADLINE_HOURS, or compress the image (qcow2) and upload the manifest again.",
}

ERROR_ADVICE.update(REPAIR_ADVICE)


def cloud_problem(err: CloudError, where: str | None = None) -> Problem:
    """A refusal or an error of an Alibaba Cloud API as a problem: where (the call, or the object
    its message names first), the message, the code, and what to do about it."""
    return Problem(where=where or err.message.split(":", 1)[0], rule=err.message, code=err.code,
                   fix=error_advice(err.code))


def error_advice(code: str | None) -> str:
    """A concrete next step for an ImportImage or task error code (or a generic one)."""
    if code:
        if code in ERROR_ADVICE:
            return ERROR_ADVICE[code]
        family = code.split(".")[0]
        if family in ERROR_ADVICE:                       # Throttling.User, Throttling.Api
            return ERROR_ADVICE[family]
    return (f"Look the error code {code or '(none)'} up at "
            "https://api.alibabacloud.com/document/Ecs/2014-05-26/errorCode, fix the manifest or "
            "the disk, and upload the manifest again.")
