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


def test_the_function_package_holds_only_the_pipeline_and_its_runtime_dependencies() -> None:
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {re.split(r"[<>=\[ ]", dep, maxsplit=1)[0] for dep in project["dependencies"]}
    # The CLI's, the emulator's and the tests' libraries are extras, never runtime dependencies
    assert not runtime & {"typer", "rich", "responses", "pytest", "import-linter"}
    assert {"typer", "rich"} <= {d.split(">")[0] for d in project["optional-dependencies"]["cli"]}
    # and build.sh packs the function's two packages, not the CLI, the emulator or the samples
    copies = re.findall(r'^cp -r (.+) "\$src/shared/"$', BUILD.read_text(), re.M)
    assert copies == ['"$root/shared/imagedrop" "$root/shared/imagedrop_disk"']
