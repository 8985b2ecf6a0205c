"""The Packer post-processor and the CI job run exactly the command their files hold, against the
local stack with a real small image; the command exits 0 and the import succeeds."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from ops_harness import real_disk, start_stack

from imagedrop_cli.local import LocalStack

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    yield from start_stack(tmp_path, monkeypatch, speed=2000.0, background=True)


def _env(stack: LocalStack, **extra: str) -> dict[str, str]:
    assert stack.info
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMAGEDROP_", "ALIBABA_CLOUD_"))}
    # The examples call `imagedrop` from PATH: the project's own entry point (the venv's bin,
    # beside the interpreter running the tests), whether or not the venv was activated.
    path = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", os.defpath)])
    return {**env, "PATH": path, "IMAGEDROP_LOCAL": json.dumps(stack.info.as_json()), **extra}


def _record(stack: LocalStack, manifest_key: str) -> dict:  # type: ignore[type-arg]
    return json.loads(stack.cloud.oss.get_object("imagedrop-local", f"imagedrop/status/{manifest_key}").read())


def test_packer_post_processor_command(running: LocalStack, tmp_path: Path) -> None:
    template = (EXAMPLES / "packer" / "web.pkr.hcl").read_text()
    [command] = re.findall(r'"(imagedrop push [^"]+)"', template)
    # Packer runs it next to its output directory, with the manifest beside the template
    (tmp_path / "output-web").mkdir()
    real_disk("mbr-linux.qcow2", tmp_path / "output-web", "web.qcow2")
    shutil.copy(EXAMPLES / "packer" / "web.qcow2.json", tmp_path / "web.qcow2.json")
    done = subprocess.run(shlex.split(command), cwd=tmp_path, env=_env(running), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "succeeded" in done.stdout
    assert _record(running, "incoming/web.qcow2.json")["state"] == "succeeded"


def test_ci_script_and_workflow_step(running: LocalStack, tmp_path: Path) -> None:
    disk = real_disk("mbr-linux.qcow2", tmp_path, "ci.qcow2")
    (tmp_path / "ci.qcow2.json").write_text(json.dumps({"image_name": "web-ci", "os_type": "linux",
                                                        "platform": "Ubuntu", "architecture": "x86_64"}))
    script = subprocess.run(["sh", str(EXAMPLES / "ci" / "push-image.sh")], cwd=tmp_path,
                            env=_env(running, IMAGE=str(disk)), capture_output=True, text=True, timeout=120)
    assert script.returncode == 0, script.stderr
    assert json.loads((tmp_path / "imagedrop-result.json").read_text())["state"] == "succeeded"

    workflow = yaml.safe_load((EXAMPLES / "ci" / "github-actions.yml").read_text())
    [step] = [s for s in workflow["jobs"]["image"]["steps"] if s.get("name") == "push and wait for the import"]
    build = tmp_path / "build"
    build.mkdir()
    real_disk("mbr-linux.qcow2", build, "web.qcow2")
    (build / "web.qcow2.json").write_text(json.dumps({"image_name": "web-gha", "os_type": "linux",
                                                      "platform": "Ubuntu", "architecture": "x86_64"}))
    job = subprocess.run(["sh", "-c", step["run"]], cwd=tmp_path, env=_env(running, **step["env"]),
                         capture_output=True, text=True, timeout=120)
    assert job.returncode == 0, job.stderr
    assert json.loads((tmp_path / "imagedrop-result.json").read_text())["manifest"] == "incoming/web.qcow2.json"
    assert _record(running, "incoming/web.qcow2.json")["state"] == "succeeded"


def test_ci_script_fails_the_job_when_the_import_fails(running: LocalStack, tmp_path: Path) -> None:
    running.cloud.ecs.fail_next_import()
    disk = real_disk("mbr-linux.qcow2", tmp_path, "bad.qcow2")
    (tmp_path / "bad.qcow2.json").write_text(json.dumps({"image_name": "web-bad", "os_type": "linux",
                                                         "platform": "Ubuntu", "architecture": "x86_64"}))
    script = subprocess.run(["sh", str(EXAMPLES / "ci" / "push-image.sh")], cwd=tmp_path,
                            env=_env(running, IMAGE=str(disk)), capture_output=True, text=True, timeout=120)
    assert script.returncode == 1
    assert json.loads((tmp_path / "imagedrop-result.json").read_text())["state"] == "failed"
