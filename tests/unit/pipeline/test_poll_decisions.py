"""Polling decisions: the schedule and the state function, as tables of cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagedrop.model.events import TrackMessage
from imagedrop.decide.ecs_answers import DetectionItem, ImageView, TaskView, percent
from imagedrop.decide.error_advice import ERROR_ADVICE, error_advice
from imagedrop.decide.poll_decisions import Cancelled, Failed, Imported, Wait, decide, next_poll, wants_image

GIB = 1024 ** 3
T0 = 1_000_000.0
POLICY = dict(first_seconds=60, max_seconds=600, deadline_seconds=12 * 3600)


def msg(**changes: object) -> TrackMessage:
    base = dict(import_id="id-1", bucket="b", manifest_key="incoming/a.qcow2.json",
                region="cn-hangzhou", task_id="t-1", image_id="m-1", attempt=0,
                started_at=T0, total_bytes=5 * GIB)
    base.update(changes)
    return TrackMessage.model_validate(base)


def poll(*, attempt: int = 0, elapsed: float = 0, size: int = 5 * GIB, progress: int | None = None,
         last: tuple[float, int] | None = None, first: int = 60, cap: int = 600) -> int:
    return next_poll(attempt=attempt, elapsed=elapsed, total_bytes=size, progress=progress,
                     first_seconds=first, max_seconds=cap, last=last)


# ------------------------------------------------------------------------- next_poll

@pytest.mark.parametrize("case, kwargs, expected", [
    ("first poll, small disk", dict(attempt=0), 60),
    ("no progress yet doubles", dict(attempt=1, elapsed=60, progress=0), 120),
    ("no progress, third try", dict(attempt=2, elapsed=180, progress=None), 240),
    ("no progress is capped", dict(attempt=6, elapsed=3000, progress=0), 600),
    ("40 GiB disk waits twice as long", dict(attempt=0, size=40 * GIB), 120),
    ("160 GiB disk waits four times", dict(attempt=0, size=160 * GIB), 240),
    ("empty disk size is not zero delay", dict(attempt=0, size=0), 60),
    # 60 % after 300 s → 200 s left → +5 % +5 s = 215
    ("linear prediction", dict(attempt=1, elapsed=300, progress=60), 215),
    # 20 % after 60 s predicts 240 s more, but one point is a guess: at most twice the time so far
    ("early guess is capped at twice the elapsed", dict(attempt=1, elapsed=60, progress=20), 120),
    ("prediction capped", dict(attempt=1, elapsed=600, progress=10), 600),
    # two points on a line: 20 % at 100 s, 40 % at 200 s → 300 s left → 320
    ("two points, linear", dict(attempt=2, elapsed=200, progress=40, last=(100, 20)), 320),
    # slowing down: 30 % at 100 s, 60 % at 400 s → p ∝ √t → ends at 1111 s → 711 s left → 752
    ("slowing down", dict(attempt=2, elapsed=400, progress=60, last=(100, 30), cap=1000), 752),
    # speeding up: 16 % at 200 s, 64 % at 400 s → p ∝ t² → ends at 500 s → 100 s left → 110
    ("speeding up", dict(attempt=2, elapsed=400, progress=64, last=(200, 16)), 110),
    # started after the last poll: 0 % at 60 s, 50 % at 180 s → 120 s left → 131
    ("started since the last poll", dict(attempt=2, elapsed=180, progress=50, last=(60, 0)), 131),
    # a move of 1 point is noise: average rate 50 %/300 s → 300 s → 320
    ("tiny move uses the average", dict(attempt=3, elapsed=300, progress=50, last=(250, 49)), 320),
    ("stalled backs off", dict(attempt=3, elapsed=400, progress=50, last=(300, 50)), 200),
    ("done: look again soon", dict(attempt=3, elapsed=400, progress=100), 5),
])
def test_next_poll_table(case: str, kwargs: dict[str, object], expected: int) -> None:
    assert poll(**kwargs) == expected, case  # type: ignore[arg-type]


def test_first_seconds_and_cap_are_the_settings() -> None:
    assert poll(first=10, cap=30, attempt=0) == 10
    assert poll(first=10, cap=30, attempt=5) == 30


@given(attempt=st.integers(0, 10_000), elapsed=st.floats(0, 1e7), size=st.integers(0, 2 ** 50),
       progress=st.one_of(st.none(), st.integers(0, 100)), first=st.integers(1, 3600),
       cap=st.integers(1, 10 ** 7),
       last=st.one_of(st.none(), st.tuples(st.floats(0, 1e7), st.integers(0, 100))))
def test_next_poll_is_always_a_valid_mns_delay(attempt: int, elapsed: float, size: int,
                                               progress: int | None, first: int, cap: int,
                                               last: tuple[float, int] | None) -> None:
    delay = poll(attempt=attempt, elapsed=elapsed, size=size, progress=progress, first=first,
                 cap=cap, last=last)
    assert isinstance(delay, int)
    assert 1 <= delay <= min(cap, 604800)


# ------------------------------------------------------------------------- decide

AVAILABLE = ImageView(status="Available", progress=100)
CHECKING = ImageView(status="Available", progress=100, detection_status="Processing")
CHECKED = ImageView(status="Available", progress=100, detection_status="Finished",
                    detection_items=[DetectionItem("GUESTOS.Nvme", "Supported")])


@pytest.mark.parametrize("case, task, image, elapsed, detection, expected", [
    ("running, early", TaskView("Processing", 0), None, 60, True, Wait),
    ("waiting status", TaskView("Waiting", None), None, 60, True, Wait),
    ("unknown status is not terminal", TaskView("Paused", 30), None, 600, True, Wait),
    ("finished, image available, no check", TaskView("Finished", 100), AVAILABLE, 300, False, Imported),
    ("finished, check running", TaskView("Finished", 100), CHECKING, 300, True, Wait),
    ("finished, check not started", TaskView("Finished", 100), AVAILABLE, 300, True, Wait),
    ("finished, check finished", TaskView("Finished", 100), CHECKED, 300, True, Imported),
    ("finished, image still creating", TaskView("Finished", 100), ImageView("Creating", 99), 300, True, Wait),
    ("finished, image not visible yet", TaskView("Finished", 100), None, 300, True, Wait),
    ("unknown status but image available", TaskView("Deleting", None), AVAILABLE, 300, False, Imported),
    ("task failed", TaskView("Failed", 40, "InvalidImageFormat.Malformed", "bad"), None, 300, True, Failed),
    ("image create failed", TaskView("Processing", 90), ImageView("CreateFailed"), 300, True, Failed),
    ("task cancelled", TaskView("Cancelled", 40), None, 300, True, Cancelled),
    ("deadline passed", TaskView("Processing", 80), None, 12 * 3600 + 1, True, Failed),
    ("finished past the deadline still counts", TaskView("Finished", 100), AVAILABLE, 13 * 3600, False, Imported),
])
def test_decide_table(case: str, task: TaskView, image: ImageView | None, elapsed: float,
                      detection: bool, expected: type) -> None:
    decision = decide(msg(), task, image, T0 + elapsed, detection_requested=detection, **POLICY)
    assert type(decision) is expected, f"{case}: {decision}"


def test_wait_carries_the_next_message_and_moves_to_checking() -> None:
    # Given an import whose task is done and whose image check is running
    decision = decide(msg(attempt=4), TaskView("Finished", 100), CHECKING, T0 + 900,
                      detection_requested=True, **POLICY)
    # Then: wait a short while in "checking", with the next attempt remembering when the task ended
    assert isinstance(decision, Wait)
    assert decision.state == "checking"
    assert decision.delay == 60
    assert decision.message is not None
    assert decision.message.attempt == 5 and decision.message.task_done_at == T0 + 900
    # And a later poll keeps the first time the task was seen done
    again = decide(decision.message, TaskView("Finished", 100), CHECKING, T0 + 960,
                   detection_requested=True, **POLICY)
    assert isinstance(again, Wait) and again.message is not None
    assert again.message.task_done_at == T0 + 900 and again.message.attempt == 6


def test_running_wait_uses_the_schedule_and_records_what_it_saw() -> None:
    decision = decide(msg(), TaskView("Processing", 20), None, T0 + 60, detection_requested=True, **POLICY)
    assert isinstance(decision, Wait)
    assert (decision.delay, decision.progress, decision.state) == (120, 20, "importing")
    assert decision.message is not None
    assert (decision.message.seen_progress, decision.message.seen_at) == (20, T0 + 60)
    assert "20%" in decision.note


def test_the_last_wait_before_the_deadline_wakes_at_the_deadline() -> None:
    decision = decide(msg(), TaskView("Processing", 10), None, T0 + 3600 - 30,
                      first_seconds=60, max_seconds=600, deadline_seconds=3600,
                      detection_requested=False)
    assert isinstance(decision, Wait) and decision.delay == 31


def test_deadline_cancels_the_task_and_says_why() -> None:
    decision = decide(msg(), TaskView("Processing", 80), None, T0 + 7 * 3600,
                      first_seconds=60, max_seconds=600, deadline_seconds=6 * 3600,
                      detection_requested=True)
    assert isinstance(decision, Failed)
    assert decision.code == "timeout" and decision.cancel_task is True
    assert "80%" in decision.message and "t-1" in decision.message
    assert "IMAGEDROP_DEADLINE_HOURS" in decision.advice


def test_task_failure_carries_the_error_code_and_advice() -> None:
    decision = decide(msg(), TaskView("Failed", 5, "NoSetRoletoECSServiceAcount", "no right"), None,
                      T0 + 60, detection_requested=True, **POLICY)
    assert isinstance(decision, Failed) and decision.cancel_task is False
    assert decision.code == "NoSetRoletoECSServiceAcount" and decision.message == "no right"
    assert "AliyunECSImageImportDefaultRole" in decision.advice


def test_task_failure_without_a_code_still_says_something() -> None:
    decision = decide(msg(), TaskView("Failed", 5), None, T0 + 60, detection_requested=True, **POLICY)
    assert isinstance(decision, Failed)
    assert decision.code == "ImportImageFailed" and decision.message and decision.advice


def test_image_check_that_never_finishes_does_not_block_the_import() -> None:
    late = msg(task_done_at=T0 + 100)
    decision = decide(late, TaskView("Finished", 100), CHECKING, T0 + 100 + 3600,
                      detection_requested=True, **POLICY)
    assert isinstance(decision, Imported) and "no fixes" in decision.note


def test_image_that_never_becomes_available_fails_after_the_grace() -> None:
    late = msg(task_done_at=T0 + 100)
    decision = decide(late, TaskView("Finished", 100), ImageView("UnAvailable"), T0 + 100 + 1800,
                      detection_requested=False, **POLICY)
    assert isinstance(decision, Failed) and decision.code == "ImageNotAvailable"
    assert "UnAvailable" in decision.message


@pytest.mark.parametrize("status, wanted", [
    ("Processing", False), ("Waiting", False), ("Finished", True), ("Failed", True),
    ("SomethingNew", True),
])
def test_wants_image(status: str, wanted: bool) -> None:
    assert wants_image(TaskView(status)) is wanted
    assert wants_image(TaskView("Processing"), msg(task_done_at=T0)) is True


# ------------------------------------------------------------------------- wire views

def test_views_from_wire_answers() -> None:
    task = TaskView.from_wire({
        "TaskId": "t-1", "TaskStatus": "Failed", "TaskProcess": "32%",
        "OperationProgressSet": {"OperationProgress": [
            {"OperationStatus": "Failed", "ErrorCode": "InvalidOSSObject.NotFound", "ErrorMsg": "gone"}]}})
    assert task == TaskView("Failed", 32, "InvalidOSSObject.NotFound", "gone")
    ok = TaskView.from_wire({"TaskStatus": "Finished", "TaskProcess": "100%", "OperationProgressSet": {
        "OperationProgress": [{"OperationStatus": "Success", "ErrorCode": "", "ErrorMsg": ""}]}})
    assert ok == TaskView("Finished", 100, None, None)
    image = ImageView.from_wire({
        "ImageId": "m-1", "Status": "Available", "Progress": "100%", "BootMode": "BIOS",
        "LicenseType": "Auto", "OSType": "linux", "Architecture": "x86_64",
        "Features": {"NvmeSupport": "unsupported"},
        "DetectionOptions": {"Status": "Finished", "Items": {"Item": [
            {"Name": "GUESTOS.Nvme", "Value": "Unsupported", "RiskLevel": "High", "RiskCode": "NVMe.NotInstallded"},
            {"Name": "GUESTOS.Dhcp", "Value": "Supported"}]}}})
    assert image.status == "Available" and image.nvme_support == "unsupported"
    assert image.detection_items[0] == DetectionItem("GUESTOS.Nvme", "Unsupported", "High", "NVMe.NotInstallded")
    assert image.detection_items[0].at_risk and not image.detection_items[1].at_risk
    assert ImageView.from_wire({"Status": "Creating"}).detection_status is None


@pytest.mark.parametrize("text, value", [("32%", 32), ("100%", 100), (" 7 % ", 7), (45, 45),
                                         ("", None), (None, None), ("n/a", None), ("140%", 100)])
def test_percent(text: object, value: int | None) -> None:
    assert percent(text) == value


# ------------------------------------------------------------------------- error advice

@pytest.mark.parametrize("code, words", [
    ("NoSetRoletoECSServiceAcount", ["AliyunECSImageImportDefaultRole", "ecs.aliyuncs.com",
                                     "AliyunECSImageImportRolePolicy"]),
    ("NoSetRoletoECSServiceAccount", ["AliyunECSImageImportDefaultRole"]),
    ("InvalidOSSObject.NotFound", ["key"]),
    ("InvalidImageName.Duplicated", ["image_name"]),
    ("InvalidImageSize", ["system_disk_gib"]),
    ("QuotaExceed.Image", ["delete unused"]),
    ("ImageIsImporting", ["wait"]),
    ("InvalidOSSBucket.NotFound", ["same region"]),
    ("InvalidImageFormat.Malformed", ["qemu-img"]),
    ("InvalidOSSBucket.EncryptUnsupported", ["encryption"]),
    ("InvalidOSSObject.NeedRestore", ["restore"]),
    ("Account.Arrearage", ["top up"]),
    ("Throttling.User", ["throttled"]),
    ("InvalidVHDImage.IncorrectSize", ["fixed"]),
    ("ImageCheckUnsupported.WindowsImage", ["image_check"]),
])
def test_error_advice_is_a_concrete_action(code: str, words: list[str]) -> None:
    advice = error_advice(code)
    for word in words:
        assert word in advice, (code, word)


def test_unknown_code_points_at_the_error_center() -> None:
    assert "Some.New" in error_advice("Some.New") and "errorCode" in error_advice("Some.New")
    assert error_advice(None) and len(set(ERROR_ADVICE.values())) > 25
