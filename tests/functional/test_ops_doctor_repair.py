"""`imagedrop doctor` on a deployment that repairs images: each Image Builder action is probed on a
template that does not exist, and a policy without one is named with the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from ops_harness import start_stack
from typer.testing import CliRunner

from imagedrop_cli import app
from imagedrop_cli.local import LocalStack
from imagedrop_cli.ops.doctor_repair import builder_check

runner = CliRunner()
PROBED = ["DescribeImagePipelineExecutions", "StartImagePipelineExecution",
          "CancelImagePipelineExecution", "DeleteImagePipeline"]


@pytest.fixture
def frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    yield from start_stack(tmp_path, monkeypatch, speed=0.0, background=False)


def test_doctor_checks_image_builder_only_when_the_deployment_repairs(
        frozen: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    names = {c["check"] for c in json.loads(runner.invoke(app, ["doctor", "--local",
                                                                "--json"]).stdout)["checks"]}
    assert not [n for n in names if n.startswith("repair:")]
    monkeypatch.setenv("IMAGEDROP_REPAIR", "auto")
    result = runner.invoke(app, ["doctor", "--local", "--json"])
    assert result.exit_code == 0, result.output
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    for action in PROBED:
        assert checks[f"repair: ecs:{action} allowed"]["ok"]
    unprobed = checks["repair: ecs:CreateImagePipeline, ram:CreateServiceLinkedRole"]
    assert "not probed" in unprobed["detail"]
    # read-only: nothing was created
    assert frozen.cloud.ecs.pipelines == {} and frozen.cloud.ecs.executions == {}


def test_doctor_names_a_missing_image_builder_action(frozen: LocalStack,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEDROP_REPAIR", "auto")
    frozen.cloud.ecs.denied_actions.add("CancelImagePipelineExecution")
    result = runner.invoke(app, ["doctor", "--local"], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert ("✗ repair: ecs:CancelImagePipelineExecution allowed: ECS answered Forbidden.RAM"
            in result.stdout)
    assert "deploy/ram-policy.json" in result.stdout
    assert "✓ repair: ecs:DeleteImagePipeline allowed" in result.stdout


@pytest.mark.parametrize("code, ok", [("InvalidImagePipeline.NotFound", True),
                                      ("InvalidImagePipelineExecution.NotFound", True),
                                      ("Forbidden.RAM", False), ("InternalError", False), (None,
                                                                                           True)])
def test_builder_verdicts(code: str | None, ok: bool) -> None:
    assert builder_check("DeleteImagePipeline", code, "m").ok is ok
