"""decide_repair: one poll of a repair build → wait (maybe cancelling first), repaired, or ended.
Pure: tables of cases, no clock."""

from __future__ import annotations

from typing import Any

import pytest

from imagedrop.model.events import TrackMessage
from imagedrop.decide.repair_track import (ExecutionView, RepairEnded, Repaired, RepairWait, decide_repair,
                                    execution_token, name_prefix, pipeline_token, unrepaired_name)

T0 = 1_800_000_000.0
DEADLINE = 12 * 3600


def msg(**changes: Any) -> TrackMessage:
    base = dict(import_id="idp-1", bucket="b", manifest_key="k.qcow2.json", region="cn-hangzhou",
                task_id="t-1", image_id="m-1", started_at=T0 - 600, stage="repair",
                pipeline_id="ip-1", execution_id="exec-1", repair_started_at=T0)
    return TrackMessage(**{**base, **changes})


def ex(status: str, **changes: Any) -> ExecutionView:
    return ExecutionView(**{"execution_id": "exec-1", "pipeline_id": "ip-1", "status": status,
                            **changes})


def decide(m: TrackMessage, e: ExecutionView | None, now: float,
           cancel: bool = False):  # type: ignore[no-untyped-def]
    return decide_repair(m, e, now, cancel_requested=cancel, first_seconds=60, max_seconds=600,
                         deadline_seconds=DEADLINE)


@pytest.mark.parametrize("status", ["PREPARING", "REPAIRING", "BUILDING", "TESTING",
                                    "DISTRIBUTING", "RELEASING", "CANCELLING", "SOMETHING_NEW"])
def test_running_builds_are_waited_for_within_bounds(status: str) -> None:
    d = decide(msg(), ex(status, image_id="m-2"), T0 + 300)
    assert isinstance(d, RepairWait) and 1 <= d.delay <= 600 and d.cancel is None
    assert d.message.attempt == 1 and d.message.stage == "repair"


def test_success_with_an_image_is_repaired_and_an_image_id_before_the_end_is_not_trusted() -> None:
    assert decide(msg(), ex("SUCCESS", image_id="m-2"), T0 + 900) == Repaired(
        "m-2", "build exec-1 made m-2 (SUCCESS)")
    assert isinstance(decide(msg(), ex("PARTITION_SUCCESS", image_id="m-2"), T0), Repaired)
    assert ex("BUILDING", image_id="m-2").result_image is None
    assert ex("TEST_FAILED", image_id="m-2").result_image == "m-2"


@pytest.mark.parametrize("view, outcome, code", [
    (ex("FAILED", error_code="RepairFailed", error_info="no space"), "failed", "RepairFailed"),
    (ex("FAILED"), "failed", "RepairFailed"),
    (ex("TEST_FAILED", image_id="m-2"), "failed", "TestFailed"),
    (ex("CANCELLED"), "cancelled", "Cancelled"),
    (ex("SUCCESS"), "failed", "RepairFailed"),      # SUCCESS without an image: nothing to use
    (None, "failed", "RepairExecutionGone"),
])
def test_builds_that_end_without_a_usable_image(view: ExecutionView | None, outcome: str,
                                                code: str) -> None:
    d = decide(msg(), view, T0 + 900)
    assert isinstance(d, RepairEnded) and (d.outcome, d.code) == (outcome, code)


def test_a_cancel_marker_cancels_a_cancellable_build_then_ends_cancelled() -> None:
    d = decide(msg(), ex("REPAIRING"), T0 + 60, cancel=True)
    assert isinstance(d, RepairWait) and d.cancel == "marker" and d.delay <= 60
    assert d.message.repair_cancel == "marker"
    # past BUILDING it cannot be cancelled: wait for the end, and do not use what it made
    later = decide(d.message, ex("RELEASING"), T0 + 120)
    assert isinstance(later, RepairWait) and later.cancel is None
    done = decide(later.message, ex("SUCCESS", image_id="m-2"), T0 + 180)
    assert isinstance(done, RepairEnded) and done.outcome == "cancelled"


def test_a_cancel_first_seen_with_a_build_that_made_its_image_is_too_late() -> None:
    assert decide(msg(), ex("SUCCESS", image_id="m-2"), T0 + 900, cancel=True) == Repaired(
        "m-2", "build exec-1 made m-2 (SUCCESS)")
    # …and one first seen with a build that ended without an image ends the import cancelled
    end = decide(msg(), ex("FAILED"), T0 + 900, cancel=True)
    assert isinstance(end, RepairEnded) and end.outcome == "cancelled"


def test_the_deadline_cancels_then_ends_failed_timeout() -> None:
    d = decide(msg(), ex("REPAIRING"), T0 + DEADLINE)
    assert isinstance(d, RepairWait) and d.cancel == "deadline"
    end = decide(d.message, ex("CANCELLED"), T0 + DEADLINE + 60)
    assert isinstance(end, RepairEnded) and (end.outcome, end.code) == ("failed", "timeout")
    # a build that can no longer be cancelled and never ends is given up after a grace period
    stuck = decide(d.message, ex("CANCELLING"), T0 + DEADLINE + 3601)
    assert isinstance(stuck, RepairEnded) and "DeleteImagePipeline" in stuck.advice


def test_a_wait_never_passes_the_deadline() -> None:
    d = decide(msg(attempt=30), ex("REPAIRING"), T0 + DEADLINE - 5)
    assert isinstance(d, RepairWait) and d.delay <= 6


def test_tokens_and_names_fit_the_api() -> None:
    assert pipeline_token("idp-1") != execution_token("idp-1")
    assert len(pipeline_token("idp-" + "a" * 40)) <= 64
    assert 2 <= len(name_prefix("w" * 128)) <= 64 and name_prefix("web").endswith("-repaired")
    assert len(unrepaired_name("w" * 128, "idp-1")) <= 128
    assert unrepaired_name("web", "idp-1") == unrepaired_name("web", "idp-1")


@pytest.mark.parametrize("duration", [300, 720, 1800, 5400, 4 * 3600])
def test_the_end_of_a_build_is_seen_within_a_tenth_of_its_length(duration: int) -> None:
    phases = [("PREPARING", 2), ("REPAIRING", 5), ("BUILDING", 4), ("RELEASING", 1)]
    unit = duration / 12

    def status(t: float) -> str:
        end = 0.0
        for name, share in phases:
            end += share * unit
            if t < end:
                return name
        return "SUCCESS"

    m, now, polls = msg(), T0 + 60, 0
    while True:
        polls += 1
        d = decide(m, ex(status(now - T0), image_id="m-2"), now)
        if isinstance(d, Repaired):
            break
        assert isinstance(d, RepairWait)
        m, now = d.message, now + d.delay
    assert now - T0 - duration <= max(60, duration / 10)
    assert polls * 10 <= duration / 5 + 10    # far fewer calls than a fixed 5 s poll
