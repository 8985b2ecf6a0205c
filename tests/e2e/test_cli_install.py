"""`pip install .` and `pip install '.[cli]'` into a fresh virtual environment, as a user installs.

Slow (about a minute: every dependency is installed; pip's own cache keeps downloads). The
source is copied first, so building leaves nothing in the clone.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pip(python: Path, *args: str, cwd: Path) -> None:
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"pip install {' '.join(args)} failed:\n{done.stderr[-3000:]}"


def test_the_cli_extra_gives_a_working_command_and_its_absence_is_named(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "shared", source / "shared",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv.create(tmp_path / "venv", with_pip=True)
    bin_dir = tmp_path / "venv" / ("Scripts" if sys.platform == "win32" else "bin")
    python, imagedrop = bin_dir / "python", bin_dir / "imagedrop"

    _pip(python, ".", cwd=source)
    bare = subprocess.run([str(imagedrop), "--version"], capture_output=True, text=True, timeout=60)
    assert bare.returncode == 2
    assert bare.stderr.count("\n") == 1 and "pip install 'imagedrop[cli]'" in bare.stderr

    _pip(python, ".[cli]", cwd=source)
    done = subprocess.run([str(imagedrop), "--version"], capture_output=True, text=True, timeout=60)
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert (done.returncode, done.stdout) == (0, f"imagedrop {declared}\n"), done.stderr
    help_text = subprocess.run([str(imagedrop), "-h"], capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "push" in help_text.stdout
    # the local emulator is an extra of its own, and says so
    local = subprocess.run([str(imagedrop), "local", "demo"], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path)
    assert local.returncode == 2
    assert local.stderr.count("\n") == 1 and "pip install 'imagedrop[cli,emulator]'" in local.stderr
