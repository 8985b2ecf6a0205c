"""The Packer post-processor and the CI job run exactly the command their files hold, against the
local stack with a real small image; the command exits 0 and the import succeeds."""

from __future__ import annotations

import json
import os
import re
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


def _hcl_list(block: str, name: str) -> list[str]:
    """A list of strings in an HCL block (`name = ["…", …]`); HCL's string escapes are JSON's."""
    match = re.search(rf"{name}\s*=\s*\[([^\n]*)\]", block) or \
        re.search(rf"{name}\s*=\s*\[(.*?)\n\s*\]", block, re.S)
    assert match, f"no {name} in the block"
    return [json.loads(item) for item in re.findall(r'"(?:[^"\\]|\\.)*"', match.group(1))]


def _post_processor(template: str) -> str:
    start = template.index('post-processor "shell-local" {')
    depth = 0
    for end, char in enumerate(template[start:], start):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "}" and depth == 0:
            return template[start:end + 1]
    raise AssertionError("the shell-local post-processor block does not end")


def test_the_packer_template_ships_everything_it_names() -> None:
    template = (EXAMPLES / "packer" / "web.pkr.hcl").read_text()
    assert "http_directory" not in template and "boot_command" not in template
    assert 'source  = "github.com/hashicorp/qemu"' in template
    json.loads((EXAMPLES / "packer" / "web.qcow2.json").read_text())
    for variable in set(re.findall(r"var\.(\w+)", template)):
        assert f'variable "{variable}"' in template


def test_packer_post_processor_command(running: LocalStack, tmp_path: Path) -> None:
    block = _post_processor((EXAMPLES / "packer" / "web.pkr.hcl").read_text())
    variables = {"bucket": "imagedrop-local", "region": "cn-hangzhou"}

    def fill(line: str) -> str:
        return re.sub(r"\$\{var\.(\w+)\}", lambda m: variables[m.group(1)], line)
    settings = dict(item.split("=", 1) for item in map(fill, _hcl_list(block, "environment_vars")))
    # Packer runs it next to its output directory, with the manifest beside the template
    (tmp_path / "output-web").mkdir()
    real_disk("mbr-linux.qcow2", tmp_path / "output-web", "web.qcow2")
    shutil.copy(EXAMPLES / "packer" / "web.qcow2.json", tmp_path / "web.qcow2.json")
    # shell-local runs the inline lines as one script with `/bin/sh -e`
    script = "\n".join(map(fill, _hcl_list(block, "inline")))
    done = subprocess.run(["/bin/sh", "-e", "-c", script], cwd=tmp_path, env=_env(running, **settings),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "imagedrop-result.json").read_text())
    assert record["state"] == "succeeded"
    assert _record(running, "incoming/web.qcow2.json")["state"] == "succeeded"
    # the image id, where the next step reads it, and in Packer's own output
    assert (tmp_path / "image-id").read_text() == f"{record['image_id']}\n"
    assert f"imagedrop: ECS image {record['image_id']} in cn-hangzhou" in done.stdout


def test_ci_script_and_workflow_step(running: LocalStack, tmp_path: Path) -> None:
    disk = real_disk("mbr-linux.qcow2", tmp_path, "ci.qcow2")
    (tmp_path / "ci.qcow2.json").write_text(json.dumps({"image_name": "web-ci", "os_type": "linux",
                                                        "platform": "Ubuntu", "architecture": "x86_64"}))
    outputs = tmp_path / "github-output"
    script = subprocess.run(["sh", str(EXAMPLES / "ci" / "push-image.sh")], cwd=tmp_path,
                            env=_env(running, IMAGE=str(disk), GITHUB_OUTPUT=str(outputs)),
                            capture_output=True, text=True, timeout=120)
    assert script.returncode == 0, script.stderr
    result = json.loads((tmp_path / "imagedrop-result.json").read_text())
    assert result["state"] == "succeeded"
    assert outputs.read_text() == f"image-id={result['image_id']}\n"

    workflow = yaml.safe_load((EXAMPLES / "ci" / "github-actions.yml").read_text())
    steps = workflow["jobs"]["image"]["steps"]
    assert "pip install './.imagedrop-src[cli]'" in [s.get("run") for s in steps]  # with the CLI
    assert workflow["jobs"]["image"]["outputs"]["image-id"] == "${{ steps.push.outputs.image-id }}"
    [step] = [s for s in steps if s.get("name") == "push and wait for the import"]
    # the step runs the script from the checked-out copy of imagedrop
    (tmp_path / ".imagedrop-src" / "examples" / "ci").mkdir(parents=True)
    shutil.copy(EXAMPLES / "ci" / "push-image.sh", tmp_path / ".imagedrop-src" / "examples" / "ci")
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
