"""The layers of docs/architecture.md, checked by import-linter: a violation fails CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports() -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else [shutil.which("lint-imports") or "lint-imports"]
    return subprocess.run(command + ["--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(ROOT / "shared")})


def test_every_import_contract_is_kept() -> None:
    # Given the contracts in pyproject.toml, when import-linter reads the whole code base
    result = _lint_imports()
    # Then every contract is kept
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout, result.stdout


def _lint_copy_with(tmp_path: Path, changes: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """import-linter over a copy of the code, `changes` ({path under shared/: text}) appended."""
    (tmp_path / "shared").mkdir()
    for package in ("imagedrop", "imagedrop_disk", "imagedrop_cli", "imagedrop_emulator"):
        shutil.copytree(ROOT / "shared" / package, tmp_path / "shared" / package,
                        ignore=shutil.ignore_patterns("__pycache__", "samples"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for name, text in changes.items():
        with open(tmp_path / "shared" / name, "a") as module:
            module.write(text)
    script = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(script), "--no-cache"], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": str(Path(sys.executable).parent),
                                          "PYTHONPATH": str(tmp_path / "shared")})


def test_a_layer_violation_is_caught(tmp_path: Path) -> None:
    # Given a copy of the code in which the core imports the emulator
    # When import-linter checks that copy
    result = _lint_copy_with(tmp_path, {"imagedrop/leak.py":
                                        "from imagedrop_emulator import FakeCloud\n"})
    # Then the broken contract and the offending import are named
    assert result.returncode != 0
    assert "imagedrop.leak -> imagedrop_emulator" in result.stdout, result.stdout


def test_a_disk_reader_importing_back_up_is_caught(tmp_path: Path) -> None:
    # Given a copy in which a file-system module imports the inspection that reads through it
    # When import-linter checks that copy
    result = _lint_copy_with(tmp_path, {"imagedrop_disk/fs/leak.py":
                                        "from imagedrop_disk.inspect import inspect\n"})
    # Then the disk library's layers contract names the import that runs back up
    assert result.returncode != 0
    assert "imagedrop_disk.fs is not allowed to import imagedrop_disk.inspect" in result.stdout, \
        result.stdout
    assert "imagedrop_disk.fs.leak -> imagedrop_disk.inspect" in result.stdout, result.stdout


def test_an_import_circle_inside_a_disk_package_is_caught(tmp_path: Path) -> None:
    # Given a copy in which fs/api.py imports fs/mount.py, which imports fs/api.py
    # When import-linter checks that copy
    result = _lint_copy_with(tmp_path, {"imagedrop_disk/fs/api.py":
                                        "\nfrom .mount import mount_guest\n"})
    # Then the circle is named, with the import that would break it
    assert result.returncode != 0
    assert "No cycles are allowed in imagedrop_disk.fs." in result.stdout, result.stdout
    assert "- .api -> .mount (1 import)" in result.stdout, result.stdout
