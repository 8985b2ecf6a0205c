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
from dataclasses import dataclass
from typing import Any, Literal, Union

from .ecs_answers import TASK_CANCELLED, TASK_RUNNING, ImageView, TaskView
from .error_advice import error_advice
from ..model.events import TrackMessage

__all__ = ["Wait", "Failed", "Cancelled", "Imported", "Decision", "next_poll", "decide",
           "wants_image"]

MNS_MAX_DELAY = 604800          # DelaySeconds upper bound of an MNS message
GIB = 1024 ** 3
SIZE_UNIT = 10 * GIB            # disks up to this size get the plain first delay
MARGIN_FRACTION = 0.05          # wake this much after the predicted end...
MARGIN_SECONDS = 5              # ...plus this
IMAGE_GRACE_SECONDS = 1800      # task Finished but image not Available: give up after this
CHECK_LIMIT_SECONDS = 3600      # image check still Processing after this: go on without it

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
