"""`imagedrop replay` (exactly one import per pair, even twice) and `imagedrop doctor` on a complete
and a broken emulated deployment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import pytest
from ops_harness import manifest_file, real_disk, start_stack
from typer.testing import CliRunner

from imagedrop_cli import app
from imagedrop_cli.local import LocalStack

runner = CliRunner()
BUCKET = "imagedrop-local"


@pytest.fixture
def frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    yield from start_stack(tmp_path, monkeypatch, speed=0.0, background=False)


def test_replay_twice_gives_exactly_one_import_per_pair(frozen: LocalStack, tmp_path: Path) -> None:
    # Given two pairs uploaded while no trigger existed (the bucket's notification rules removed)
    oss = frozen.cloud.oss
    oss.bucket(BUCKET).rules.clear()
    for name in ("web-a", "web-b"):
        disk = real_disk("mbr-linux.qcow2", tmp_path, f"{name}.qcow2")
        oss.put_object(BUCKET, f"incoming/{name}.qcow2", disk.read_bytes())
        oss.put_object(BUCKET, f"incoming/{name}.qcow2.json", manifest_file(tmp_path, name).read_bytes())
    frozen.cloud.pump.run_until_idle()
    assert frozen.invocations == []
    # When replay runs twice, through the Function Compute API
    for _ in range(2):
        result = runner.invoke(app, ["replay", "incoming/", "--local", "--json"])
        assert result.exit_code == 0, result.output
        assert [(r["role"], r["key"]) for r in json.loads(result.stdout)] == [
            ("disk", "incoming/web-a.qcow2"), ("manifest", "incoming/web-a.qcow2.json"),
            ("disk", "incoming/web-b.qcow2"), ("manifest", "incoming/web-b.qcow2.json")]
    assert [f for f, _ in frozen.invocations] == []  # asynchronous: accepted, not yet run
    frozen.cloud.pump.run_until_idle()
    # Then the ingest function ran for every event, and each pair became exactly one image
    assert sum(1 for f, _ in frozen.invocations if f == "imagedrop-ingest") == 8
    ecs = frozen.cloud.ecs
    assert sorted(i.name for i in ecs.images.values()) == ["web-a", "web-b"]
    assert len(ecs.tasks) == 2
    status = json.loads(runner.invoke(app, ["status", "--local", "--json"]).stdout)
    assert sorted((r["key"], r["state"]) for r in status) == [("incoming/web-a.qcow2.json", "succeeded"),
                                                               ("incoming/web-b.qcow2.json", "succeeded")]


def test_replay_dry_run_invokes_nothing(frozen: LocalStack, tmp_path: Path) -> None:
    frozen.cloud.oss.bucket(BUCKET).rules.clear()
    frozen.cloud.oss.put_object(BUCKET, "incoming/x.qcow2.json", b"{}")
    result = runner.invoke(app, ["replay", "incoming/", "--local", "--dry-run"])
    assert result.exit_code == 0 and "would invoke" in result.stdout
    frozen.cloud.pump.run_until_idle()
    assert frozen.invocations == []


def test_doctor_passes_on_a_complete_deployment(frozen: LocalStack) -> None:
    result = runner.invoke(app, ["doctor", "--local", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and all(c["ok"] for c in report["checks"])
    assert {c["check"] for c in report["checks"]} >= {
        "credentials work", "bucket region = functions' region", "watch and state prefixes are separate",
        "MNS queue imagedrop-track", "MNS topic imagedrop-events",
        "import role AliyunECSImageImportDefaultRole", "function imagedrop-ingest",
        "trigger of imagedrop-ingest", "function imagedrop-poller", "trigger of imagedrop-poller"}
    text = runner.invoke(app, ["doctor", "--local"])
    assert text.exit_code == 0 and "✗" not in text.stdout and text.stdout.count("✓") == 10


def test_doctor_names_a_function_that_runs_another_python_than_built_for(frozen: LocalStack) -> None:
    frozen.cloud.fc.function("imagedrop-ingest").runtime = "python3.10"
    result = runner.invoke(app, ["doctor", "--local"], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert ("✗ function imagedrop-ingest: runs python3.10, but deploy/build.sh builds its package "
            "for python3.12") in result.stdout
    assert "set `runtime: python3.12` for imagedrop-ingest in s.yaml" in result.stdout
    assert "✓ function imagedrop-poller: python3.12, the runtime its package is built for" in result.stdout


def test_doctor_names_what_is_broken_and_how_to_fix_it(frozen: LocalStack) -> None:
    # Given a deployment missing its queue, its import role and the poller, with overlapping prefixes
    cloud = frozen.cloud
    cloud.mns.delete_queue("imagedrop-track")
    cloud.ecs.import_role_exists = False
    cloud.fc.delete_function("imagedrop-poller")
    os.environ["IMAGEDROP_STATE_PREFIX"] = "incoming/state/"
    # When the operator runs doctor
    result = runner.invoke(app, ["doctor", "--local"], terminal_width=200)
    # Then it exits 1 and says what is missing and how to fix each
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "✗ MNS queue imagedrop-track" in out and "QueueNotExist" in out and "CreateQueue" in out
    assert "✗ import role AliyunECSImageImportDefaultRole: ECS answered NoSetRoletoECSServiceAcount" in out
    assert "trusted by ecs.aliyuncs.com" in out
    assert "✗ function imagedrop-poller: FC answered FunctionNotFound" in out
    assert "✗ watch and state prefixes are separate" in out
    assert "✓ MNS topic imagedrop-events" in out and "✓ function imagedrop-ingest" in out
    assert "5 of 9 checks passed" in out  # a missing function has no trigger to check
    report = json.loads(runner.invoke(app, ["doctor", "--local", "--json"]).stdout)
    assert sorted(c["check"] for c in report["checks"] if not c["ok"]) == [
        "MNS queue imagedrop-track", "function imagedrop-poller", "import role AliyunECSImageImportDefaultRole",
        "watch and state prefixes are separate"]


def _pair_without_trigger(stack: LocalStack, tmp_path: Path, name: str = "web-c") -> None:
    oss = stack.cloud.oss
    oss.bucket(BUCKET).rules.clear()
    disk = real_disk("mbr-linux.qcow2", tmp_path, f"{name}.qcow2")
    oss.put_object(BUCKET, f"incoming/{name}.qcow2", disk.read_bytes())
    manifest = manifest_file(tmp_path, name).read_bytes()
    oss.put_object(BUCKET, f"incoming/{name}.qcow2.json", manifest)


def test_replay_to_a_function_that_does_not_exist_stops_with_the_fix(frozen: LocalStack,
                                                                     tmp_path: Path) -> None:
    _pair_without_trigger(frozen, tmp_path)
    result = runner.invoke(app, ["replay", "incoming/", "--local",
                                 "--function", "imagedrop-ingest-v2"], terminal_width=300)
    assert result.exit_code == 3, result.output
    assert "FC answered FunctionNotFound" in result.output
    assert "function 'imagedrop-ingest-v2' does not exist in cn-hangzhou" in result.output
    assert "s deploy" in result.output
    assert result.output.count("FunctionNotFound") == 1   # one line, not one per object
    frozen.cloud.pump.run_until_idle()
    assert frozen.invocations == []


def test_replay_rides_out_fc_throttling(frozen: LocalStack, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from imagedrop_cli.ops import fc_invoke

    monkeypatch.setattr(fc_invoke, "FIRST_BACKOFF_SECONDS", 0.01)
    _pair_without_trigger(frozen, tmp_path)
    frozen.cloud.faults.add("fc", "InvokeFunction", "throttle", times=3)
    result = runner.invoke(app, ["replay", "incoming/", "--local", "--json"])
    assert result.exit_code == 0, result.output
    assert [r["error"] for r in json.loads(result.stdout)] == ["", ""]
    assert [k for _, _, k in frozen.cloud.faults.injected] == ["throttle"] * 3
    frozen.cloud.pump.run_until_idle()
    assert sum(1 for f, _ in frozen.invocations if f == "imagedrop-ingest") == 2


def test_replay_throttled_for_good_says_to_run_again_later(frozen: LocalStack, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from imagedrop_cli.ops import fc_invoke

    monkeypatch.setattr(fc_invoke, "FIRST_BACKOFF_SECONDS", 0.0)
    _pair_without_trigger(frozen, tmp_path)
    frozen.cloud.faults.add("fc", "InvokeFunction", "throttle")
    result = runner.invoke(app, ["replay", "incoming/", "--local", "--json"])
    assert result.exit_code == 3, result.output
    errors = [r["error"] for r in json.loads(result.stdout)]
    assert len(errors) == 2 and all(e.startswith("ResourceThrottled: ") for e in errors)
    assert all("run the command again later" in e for e in errors)


def test_the_fc_2_0_service_option_is_gone(frozen: LocalStack) -> None:
    result = runner.invoke(app, ["replay", "incoming/", "--local", "--service", "imagedrop"])
    assert result.exit_code == 2 and "No such option" in result.output
