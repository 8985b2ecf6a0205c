"""`imagedrop push` against the local stack: multipart with resume, and `--wait` exit codes;
`imagedrop status` and `watch` on the imports that produced."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Iterator

import pytest
from typer.testing import CliRunner

from ops_harness import manifest_file, real_disk, start_stack

from imagedrop_cli import app
from imagedrop_cli.local import LocalStack
PART = 512 * 1024
runner = CliRunner()


@pytest.fixture
def frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """Deterministic: the pipeline only runs when the test pumps it."""
    yield from start_stack(tmp_path, monkeypatch, speed=0.0, background=False)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The pipeline running by itself, imports finishing in well under a second."""
    mp = pytest.MonkeyPatch()
    yield from start_stack(tmp_path_factory.mktemp("running"), mp, speed=2000.0, background=True)
    mp.undo()


def count_calls(stack: LocalStack, action: str) -> list[int]:
    """A live count of one OSS action as the emulator receives it."""
    seen = [0]
    decide = stack.cloud.faults.decide

    def counting(service: str, name: str):  # type: ignore[no-untyped-def]
        if (service, name) == ("oss", action):
            seen[0] += 1
        return decide(service, name)
    stack.cloud.faults.decide = counting  # type: ignore[method-assign]
    return seen


def quiet(stack: LocalStack, timeout: float = 30.0) -> None:
    """Until no invocation runs and none waits for the platform's retry. A case's import is over
    when its record ends, but the other event of its pair may still be running: it must not meet
    the next case's ECS settings (the role back, a failure queued for the next task)."""
    pump, deadline = stack.cloud.pump, time.monotonic() + timeout
    while time.monotonic() < deadline:
        pump.wait_idle()
        if pump.pending() == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"the stack still had {pump.pending()} deliveries after {timeout:g}s")


def test_an_interrupted_push_resumes_with_only_the_missing_parts(frozen: LocalStack, tmp_path: Path) -> None:
    # Given an 8 MiB raw disk, 16 parts of 512 KiB, and a connection reset on the third part
    disk = real_disk("gpt-bios.raw", tmp_path, "web.raw")
    parts = -(-disk.stat().st_size // PART)
    uploads = count_calls(frozen, "UploadPart")
    frozen.cloud.faults.script("oss", "UploadPart", [None, None, "reset"])
    args = ["push", str(disk), "--manifest", str(manifest_file(tmp_path, "web")), "--local",
            "--part-size", str(PART), "--threads", "1", "--retries", "0"]
    # When the push is interrupted
    first = runner.invoke(app, args)
    # Then it says how to resume, exits 3, and neither the disk nor the manifest exists
    assert first.exit_code == 3, first.output
    assert "interrupted" in first.stderr and "run the same command again to resume" in first.stderr
    bucket = frozen.cloud.oss.bucket("imagedrop-local")
    assert "incoming/web.raw" not in bucket.objects and "incoming/web.raw.json" not in bucket.objects
    assert uploads[0] == 3
    # When it runs again, it sends only the parts that were not stored
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert uploads[0] == 3 + parts - 2
    stored = bucket.objects["incoming/web.raw"]
    assert stored.object_type == "Multipart"
    assert hashlib.md5(stored.read()).hexdigest() == hashlib.md5(disk.read_bytes()).hexdigest()
    assert "incoming/web.raw.json" in bucket.objects
    # And the pipeline imports it once
    frozen.cloud.pump.run_until_idle()
    result = runner.invoke(app, ["status", "--local", "--json"])
    assert [(r["key"], r["state"]) for r in json.loads(result.stdout)] == [("incoming/web.raw.json", "succeeded")]


def test_a_refused_push_uploads_nothing(frozen: LocalStack, tmp_path: Path) -> None:
    disk = real_disk("gpt-windows.qcow2", tmp_path)
    result = runner.invoke(app, ["push", str(disk), "--manifest", str(manifest_file(tmp_path, "win")), "--local"])
    assert result.exit_code == 2
    assert "imagedrop push: os_type: says linux but the system disk's partitions are windows's" in result.stderr
    assert "Traceback" not in result.output
    assert frozen.cloud.oss.bucket("imagedrop-local").objects == {}


@pytest.mark.parametrize("case, code, state", [("ok", 0, "succeeded"), ("broken-role", 2, "rejected"),
                                              ("task-fails", 1, "failed")])
def test_wait_exit_codes(running: LocalStack, tmp_path: Path, case: str, code: int, state: str) -> None:
    # Given the stack, shaped so the import ends as this case needs
    ecs = running.cloud.ecs
    ecs.import_role_exists = case != "broken-role"
    if case == "task-fails":
        ecs.fail_next_import("ImportImageFailed", "Importing image is failed: the disk has no bootable partition.")
    disk = real_disk("mbr-linux.qcow2", tmp_path, f"{case}.qcow2")
    try:
        # When a build pushes and waits
        result = runner.invoke(app, ["push", str(disk), "--manifest", str(manifest_file(tmp_path, case)),
                                     "--local", "--wait", "--interval", "0.05", "--timeout", "60", "--json"])
        quiet(running)
    finally:
        ecs.import_role_exists = True
    # Then the exit code says how the import ended, and the record says why
    assert result.exit_code == code, result.output
    record = json.loads(result.stdout)
    assert record["state"] == state and record["manifest"] == f"incoming/{case}.qcow2.json"
    if case == "broken-role":
        assert record["problems"][0]["code"] == "NoSetRoletoECSServiceAcount"
    if case == "task-fails":
        assert "ImportImageFailed" in json.dumps(record["problems"])
    # And `watch` on the ended import gives the same code
    watched = runner.invoke(app, ["watch", f"incoming/{case}.qcow2", "--local", "--interval", "0.05"])
    assert watched.exit_code == code and state in watched.stdout


def test_status_lists_every_import_with_its_problem(running: LocalStack) -> None:
    # (after the three --wait imports above, run in the same module-scoped stack)
    result = runner.invoke(app, ["status", "incoming/", "--local", "--json"])
    assert result.exit_code == 0
    rows = {r["key"]: r for r in json.loads(result.stdout)}
    assert {k: r["state"] for k, r in rows.items()} == {
        "incoming/ok.qcow2.json": "succeeded", "incoming/broken-role.qcow2.json": "rejected",
        "incoming/task-fails.qcow2.json": "failed"}
    assert rows["incoming/ok.qcow2.json"]["image_id"].startswith("m-")
    assert "AliyunECSImageImportDefaultRole" in rows["incoming/broken-role.qcow2.json"]["problem"]
    table = runner.invoke(app, ["status", "--local"], terminal_width=250)
    assert table.exit_code == 0
    for key in rows:
        assert key in table.stdout
    assert "succeeded" in table.stdout and "rejected" in table.stdout and "failed" in table.stdout
    only = runner.invoke(app, ["status", "incoming/ok", "--local", "--json"])
    assert [r["key"] for r in json.loads(only.stdout)] == ["incoming/ok.qcow2.json"]


def test_cancel_marks_a_running_import(frozen: LocalStack, tmp_path: Path) -> None:
    disk = real_disk("mbr-linux.qcow2", tmp_path, "slow.qcow2")
    pushed = runner.invoke(app, ["push", str(disk), "--manifest", str(manifest_file(tmp_path, "slow")), "--local"])
    assert pushed.exit_code == 0, pushed.output
    frozen.cloud.pump.pump()  # the ingest runs; the import is now in progress
    cancel = runner.invoke(app, ["cancel", "incoming/slow.qcow2", "--local"])
    assert cancel.exit_code == 0, cancel.output
    assert "it was importing" in cancel.stdout
    assert "incoming/slow.qcow2.json.cancel" in frozen.cloud.oss.bucket("imagedrop-local").objects
    frozen.cloud.pump.run_until_idle()
    watched = runner.invoke(app, ["watch", "incoming/slow.qcow2.json", "--local", "--json"])
    assert watched.exit_code == 1 and json.loads(watched.stdout)["state"] == "cancelled"
    again = runner.invoke(app, ["cancel", "incoming/slow.qcow2", "--local"])
    assert again.exit_code == 2 and "already ended cancelled; nothing to cancel" in again.stderr
