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


def _lint_a_copy_with(tmp_path: Path, module: str, source: str) -> subprocess.CompletedProcess[str]:
    """import-linter's verdict on a copy of the code with one module added."""
    (tmp_path / "shared").mkdir()
    for package in ("imagedrop", "imagedrop_disk", "imagedrop_cli", "imagedrop_emulator"):
        shutil.copytree(ROOT / "shared" / package, tmp_path / "shared" / package,
                        ignore=shutil.ignore_patterns("__pycache__", "samples"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "shared" / module).write_text(source)
    script = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(script), "--no-cache"], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": str(Path(sys.executable).parent),
                                          "PYTHONPATH": str(tmp_path / "shared")})


def test_a_layer_violation_is_caught(tmp_path: Path) -> None:
    # Given a copy of the code in which the core imports the emulator
    # When import-linter checks that copy
    result = _lint_a_copy_with(tmp_path, "imagedrop/leak.py", "from imagedrop_emulator import FakeCloud\n")
    # Then the broken contract and the offending import are named
    assert result.returncode != 0
    assert "imagedrop.leak -> imagedrop_emulator" in result.stdout, result.stdout


def test_an_emulated_service_reaching_up_to_the_cloud_is_caught(tmp_path: Path) -> None:
    # Given a copy of the code in which an ECS backend module imports the cloud that builds it
    # When import-linter checks that copy
    result = _lint_a_copy_with(tmp_path, "imagedrop_emulator/ecs/backend/leak.py",
                               "from ...cloud import FakeCloud\n")
    # Then the emulator's layer contract is broken, naming the offending import
    assert result.returncode != 0
    assert "The emulator in layers" in result.stdout and "BROKEN" in result.stdout, result.stdout
    assert "imagedrop_emulator.ecs.backend.leak -> imagedrop_emulator.cloud" in result.stdout, result.stdout
