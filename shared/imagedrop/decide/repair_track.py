"""Following an Image Builder repair build (pure: no I/O, no SDK, no clock).

The poller calls `decide_repair` once per delivered `stage == "repair"` message with what
DescribeImagePipelineExecutions answered (None: the build is not visible) and does what it says:

- `RepairWait(delay, note, message, cancel)`: call CancelImagePipelineExecution first when
  `cancel` (a cancel marker, or the deadline), then send `message` with `DelaySeconds=delay`.
- `Repaired(image_id, note)`: the build made `image_id`: swap the names, go on finishing.
- `RepairEnded(outcome, code, message, advice)`: the build ended without a usable image
  (`failed` or `cancelled`): delete what it left, keep the original, end the import.

Polls follow the import's schedule (`track.next_poll`, the phase read as a share of the build
done), never further apart than a tenth of the build's age, so the end is seen within
max(first poll, 10 %) of it. Statuses not listed in `RUNNING`/`FINAL` count as running (ECS
adds states over time); a deadline cancels a build that can be cancelled and, past a grace
period, gives up on one that cannot.
`ImageId` is trusted only in SUCCESS, PARTITION_SUCCESS and TEST_FAILED (when ECS fills it is not
documented), and ErrorCode/ErrorInfo only when non-empty.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal, Union

from ..model.events import TrackMessage
from .poll_decisions import next_poll

RUNNING = frozenset({"PREPARING", "REPAIRING", "BUILDING", "TESTING", "DISTRIBUTING",
                     "RELEASING", "CANCELLING"})
CANCELLABLE = frozenset({"PREPARING", "REPAIRING", "BUILDING"})
MADE_IMAGE = frozenset({"SUCCESS", "PARTITION_SUCCESS"})
FINAL = frozenset({"SUCCESS", "PARTITION_SUCCESS", "FAILED", "TEST_FAILED", "CANCELLED"})
# A rough share of the build done in each phase, so the schedule can aim at the end.
PHASE_PROGRESS = {"PREPARING": 5, "REPAIRING": 25, "BUILDING": 55, "TESTING": 75,
                  "DISTRIBUTING": 85, "RELEASING": 95, "CANCELLING": 95}
CANCEL_GRACE_SECONDS = 3600
LATENCY_FRACTION = 0.1


@dataclass(frozen=True)
class ExecutionView:
    execution_id: str
    pipeline_id: str
    status: str
    image_id: str | None = None
    message: str | None = None
    error_code: str | None = None
    error_info: str | None = None
    created: str | None = None          # CreationTime, ISO 8601 UTC
    modified: str | None = None         # ModifiedTime

    @classmethod
    def from_wire(cls, entry: dict[str, Any]) -> "ExecutionView":
        """From one `ImagePipelineExecution.ImagePipelineExecutionSet[]` entry (wire names)."""
        return cls(execution_id=str(entry.get("ExecutionId") or ""),
                   pipeline_id=str(entry.get("ImagePipelineId") or ""),
                   status=str(entry.get("Status") or ""), image_id=entry.get("ImageId") or None,
                   message=entry.get("Message") or None, error_code=entry.get("ErrorCode") or None,
                   error_info=entry.get("ErrorInfo") or None,
                   created=entry.get("CreationTime") or None,
                   modified=entry.get("ModifiedTime") or None)

    @property
    def result_image(self) -> str | None:
        return self.image_id if self.status in MADE_IMAGE | {"TEST_FAILED"} else None


@dataclass(frozen=True)
class RepairWait:
    delay: int
    note: str
    message: TrackMessage
    cancel: Literal["marker", "deadline", None] = None


@dataclass(frozen=True)
class Repaired:
    image_id: str
    note: str


@dataclass(frozen=True)
class RepairEnded:
    outcome: Literal["failed", "cancelled"]
    code: str
    message: str
    advice: str


RepairDecision = Union[RepairWait, Repaired, RepairEnded]


def pipeline_token(import_id: str) -> str:
    return "ip-" + hashlib.sha256(f"{import_id}:pipeline".encode()).hexdigest()[:40]


def execution_token(import_id: str) -> str:
    return "ex-" + hashlib.sha256(f"{import_id}:execution".encode()).hexdigest()[:40]


def name_prefix(image_name: str) -> str:
    """ImageOptions.ImageName: 2–64 characters; ECS appends `_{ExecutionId}` to it."""
    return image_name[:55].rstrip("._:-") + "-repaired"


def unrepaired_name(image_name: str, import_id: str) -> str:
    """The name the original moves to, out of the way of the repaired image (≤ 128)."""
    return f"{image_name[:100]}-unrepaired-{hashlib.sha256(import_id.encode()).hexdigest()[:8]}"


def _follow(msg: TrackMessage, now: float, progress: int | None, **changes: Any) -> TrackMessage:
    return msg.model_copy(update={"attempt": msg.attempt + 1, "seen_at": now,
                                  "seen_progress": progress, **changes})


def decide_repair(msg: TrackMessage, execution: ExecutionView | None, now: float, *,
                  cancel_requested: bool, first_seconds: int, max_seconds: int,
                  deadline_seconds: float) -> RepairDecision:
    started = msg.repair_started_at if msg.repair_started_at is not None else msg.started_at
    elapsed = max(0.0, now - started)
    why = msg.repair_cancel or ("marker" if cancel_requested else None)
    if execution is None:
        return RepairEnded("cancelled" if why == "marker" else "failed", "RepairExecutionGone",
                           f"build {msg.execution_id} of template {msg.pipeline_id} is no longer "
                           "visible: the template was deleted outside imagedrop",
                           "upload the manifest again to repair anew")
    status = execution.status
    # A cancel first seen with a build that made its image came past the point of no return
    # (the build ran to its end untouched): the import is completed, and its end says so. One
    # seen earlier, while the build could still be stopped, ends it cancelled.
    if status in MADE_IMAGE and execution.image_id and msg.repair_cancel is None:
        return Repaired(execution.image_id, f"build {execution.execution_id} made "
                        f"{execution.image_id} ({status})")
    if status in FINAL:
        return _ended(execution, why)
    if why is None and elapsed >= deadline_seconds:
        why = "deadline"
    if why is not None and elapsed >= deadline_seconds + CANCEL_GRACE_SECONDS \
            and status not in CANCELLABLE:
        return RepairEnded("failed", "timeout", f"build {execution.execution_id} was still "
                           f"{status} {int(elapsed)} s after it started",
                           f"delete it by hand once it ends: aliyun ecs DeleteImagePipeline "
                           f"--ImagePipelineId {execution.pipeline_id}")
    progress = PHASE_PROGRESS.get(status)
    last = None
    if msg.seen_at is not None and msg.seen_progress is not None:
        last = (msg.seen_at - started, msg.seen_progress)
    short = max(10, min(first_seconds, 60))
    delay = short if why is not None else next_poll(
        attempt=msg.attempt, elapsed=elapsed, total_bytes=msg.total_bytes, progress=progress,
        first_seconds=first_seconds, max_seconds=max_seconds, last=last)
    if why is None:
        # Phase durations are undocumented, so the phase's share is a rough guess: never sleep
        # more than a tenth of the time the build has run, which bounds the latency to that.
        delay = min(delay, max(first_seconds, int(elapsed * LATENCY_FRACTION)))
        delay = min(delay, max(1, int(deadline_seconds - elapsed) + 1))
    delay = max(1, min(delay, max_seconds))
    cancel = why if why is not None and status in CANCELLABLE else None
    note = f"repair build {status}; next poll in {delay} s"
    return RepairWait(delay, note, _follow(msg, now, progress, repair_cancel=why), cancel)


def _ended(execution: ExecutionView, why: str | None) -> RepairEnded:
    status, code = execution.status, execution.error_code
    detail = execution.error_info or execution.message or ""
    if why == "marker":
        return RepairEnded("cancelled", "Cancelled", f"the repair was cancelled on request "
                           f"(build {execution.execution_id} ended {status})", "")
    if why == "deadline":
        return RepairEnded("failed", "timeout", f"the repair passed the deadline and was "
                           f"cancelled (build {execution.execution_id} ended {status})",
                           "raise IMAGEDROP_DEADLINE_HOURS, or repair the image by hand")
    if status == "CANCELLED":
        return RepairEnded("cancelled", "Cancelled", f"build {execution.execution_id} was "
                           "cancelled outside imagedrop", "")
    code = code or ("TestFailed" if status == "TEST_FAILED" else "RepairFailed")
    return RepairEnded("failed", code, f"build {execution.execution_id} ended {status}"
                       + (f": {detail}" if detail else ""),
                       "fix the items inside the guest by hand (see the advice), or upload the "
                       "manifest again to retry the repair")
