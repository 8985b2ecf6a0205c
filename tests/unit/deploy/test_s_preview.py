"""The real Serverless Devs CLI (`s`, from npm) renders s.yaml with none of the optional settings.

`s` is installed once into a cache outside the clone (keyed by the install command), and runs
with a throwaway HOME: `s preview` needs no credentials and does not reach the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
S_PACKAGE = "@serverless-devs/s@3"
INSTALL = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", S_PACKAGE]
OPTIONAL = ("IMAGEDROP_WEBHOOK_URLS", "IMAGEDROP_WEBHOOK_SECRET", "IMAGEDROP_DINGTALK_URL",
            "IMAGEDROP_DINGTALK_SECRET", "IMAGEDROP_SLACK_URL", "IMAGEDROP_LARK_URL",
            "IMAGEDROP_LARK_SECRET", "IMAGEDROP_TEAMS_URL")
FUNCTIONS = ("imagedrop-ingest", "imagedrop-poller")


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "imagedrop" / "s-cli"


@pytest.fixture(scope="module")
def s_cli() -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the real Serverless Devs CLI (`s`) comes from npm, so "
                    "s.yaml was not rendered by it")
    key = hashlib.sha256(" ".join(INSTALL).encode()).hexdigest()[:16]
    folder = _cache_root() / key
    binary = folder / "node_modules" / ".bin" / "s"
    if not binary.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=folder.parent))
        done = subprocess.run(INSTALL, cwd=staging, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"npm install {S_PACKAGE} failed:\n{done.stderr[-2000:]}"
        try:
            staging.rename(folder)  # another run may have installed it meanwhile: keep theirs
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return binary


def preview(s_cli: Path, tmp_path: Path, extra_env: dict[str, str]) -> dict[str, Any]:
    """`s preview -o json` of s.yaml, with nothing of the caller's environment but PATH."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **extra_env}
    done = subprocess.run([str(s_cli), "preview", "-t", "s.yaml", "-o", "json", "--silent"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    # `s` exits 0 even when rendering fails: the JSON document is the proof it rendered.
    try:
        return json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"s preview did not render s.yaml (exit {done.returncode}):\n"
                    f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def test_s_renders_s_yaml_with_no_optional_setting(s_cli: Path, tmp_path: Path) -> None:
    rendered = preview(s_cli, tmp_path, {})
    for function in FUNCTIONS:
        props = rendered["resources"][function]["props"]
        env = props["environmentVariables"]
        assert {name: env[name] for name in OPTIONAL} == {name: "" for name in OPTIONAL}
        assert env["IMAGEDROP_QUEUE"] == "imagedrop-track"
        assert props["runtime"] == "python3.12"
        assert props["role"] == "acs:ram::1234567890123456:role/imagedrop-fc-role"


def test_s_passes_an_exported_setting_through(s_cli: Path, tmp_path: Path) -> None:
    rendered = preview(s_cli, tmp_path, {"IMAGEDROP_WEBHOOK_URLS": "https://ci.example.com/hook",
                                         "IMAGEDROP_SLACK_URL": "https://hooks.slack.com/services/T/B/x"})
    env = rendered["resources"]["imagedrop-poller"]["props"]["environmentVariables"]
    assert env["IMAGEDROP_WEBHOOK_URLS"] == "https://ci.example.com/hook"
    assert env["IMAGEDROP_SLACK_URL"] == "https://hooks.slack.com/services/T/B/x"
    assert env["IMAGEDROP_DINGTALK_URL"] == ""


def test_a_required_env_reference_fails_to_render(s_cli: Path, tmp_path: Path) -> None:
    # The form without a default is refused when the variable is unset: what the file must avoid.
    broken = (ROOT / "s.yaml").read_text().replace("${env('IMAGEDROP_SLACK_URL', '')}",
                                                    "${env(IMAGEDROP_SLACK_URL)}")
    target = tmp_path / "s.yaml"
    target.write_text(broken)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    done = subprocess.run([str(s_cli), "preview", "-t", str(target), "-o", "json", "--silent"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert "env('IMAGEDROP_SLACK_URL') not found" in done.stdout + done.stderr
