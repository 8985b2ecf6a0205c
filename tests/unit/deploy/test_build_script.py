"""deploy/build.sh refuses what it cannot build, with a message that says what to do."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BUILD = ROOT / "deploy" / "build.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="deploy/build.sh needs bash")


@pytest.mark.parametrize("args", [[], ["web"], ["../ingest"]])
def test_an_unknown_function_is_refused_before_anything_is_built(args: list[str], tmp_path: Path) -> None:
    done = subprocess.run(["bash", str(BUILD), *args], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert "usage: deploy/build.sh ingest|poller" in done.stderr
    assert not (ROOT / "build" / "web").exists()


def test_a_missing_handler_is_named(tmp_path: Path) -> None:
    # Given a copy of the script in a project that has no functions/poller/index.py
    (tmp_path / "deploy").mkdir()
    shutil.copy(BUILD, tmp_path / "deploy" / "build.sh")
    # When the poller is built
    done = subprocess.run(["bash", "deploy/build.sh", "poller"], capture_output=True, text=True, cwd=tmp_path)
    # Then it stops, naming the file it needs, and leaves no build folder behind
    assert done.returncode == 1
    assert "functions/poller/index.py is missing" in done.stderr
    assert not (tmp_path / "build").exists()
