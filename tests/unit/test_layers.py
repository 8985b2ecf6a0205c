"""The layers of docs/architecture.md, checked by import-linter: a violation fails CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("imagedrop", "imagedrop_disk", "imagedrop_cli", "imagedrop_emulator")


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else [shutil.which("lint-imports") or "lint-imports"]
    return subprocess.run(command + ["--no-cache"], cwd=root, capture_output=True, text=True,
                          env={"PATH": str(Path(sys.executable).parent),
                               "PYTHONPATH": str(root / "shared")})


def _lint_copy_with(tmp_path: Path, changes: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """import-linter over a copy of the code, `changes` ({path under shared/: text}) appended."""
    (tmp_path / "shared").mkdir()
    for package in PACKAGES:
        shutil.copytree(ROOT / "shared" / package, tmp_path / "shared" / package,
                        ignore=shutil.ignore_patterns("__pycache__", "samples"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for name, text in changes.items():
        with open(tmp_path / "shared" / name, "a") as module:
            module.write(text)
    return _lint_imports(tmp_path)


def test_every_import_contract_is_kept() -> None:
    # Given the contracts in pyproject.toml, when import-linter reads the whole code base
    result = _lint_imports(ROOT)
    # Then every contract is kept
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in result.stdout, result.stdout


@pytest.mark.parametrize("changes, named", [
    # the function package importing the emulator
    ({"imagedrop/leak.py": "from imagedrop_emulator import FakeCloud\n"},
     ["imagedrop.leak -> imagedrop_emulator"]),
    # a pure decision importing a flow
    ({"imagedrop/decide/leak.py": "from imagedrop.flows import poll\n"},
     ["imagedrop.decide.leak -> imagedrop.flows.poll"]),
    # a flow importing an SDK itself
    ({"imagedrop/flows/finish_leak.py": "import oss2\n"},
     ["imagedrop.flows.finish_leak -> oss2"]),
    # a new module of the function package that no layer names
    ({"imagedrop/stray.py": "X = 1\n"}, ["imagedrop.stray"]),
    # a file-system reader importing the inspection that reads through it
    ({"imagedrop_disk/fs/leak.py": "from imagedrop_disk.inspect import inspect\n"},
     ["imagedrop_disk.fs is not allowed to import imagedrop_disk.inspect",
      "imagedrop_disk.fs.leak -> imagedrop_disk.inspect"]),
    # an emulated service's backend importing the cloud that builds it
    ({"imagedrop_emulator/ecs/backend/leak.py": "from ...cloud import FakeCloud\n"},
     ["The emulator in layers", "BROKEN",
      "imagedrop_emulator.ecs.backend.leak -> imagedrop_emulator.cloud"]),
    # fs/api.py importing fs/mount.py, which imports fs/api.py
    ({"imagedrop_disk/fs/api.py": "\nfrom .mount import mount_guest\n"},
     ["No cycles are allowed in imagedrop_disk.fs.", "- .api -> .mount (1 import)"]),
])
def test_a_forbidden_import_is_caught(tmp_path: Path, changes: dict[str, str],
                                      named: list[str]) -> None:
    # Given a copy of the code with one change that breaks a contract
    # When import-linter checks that copy
    result = _lint_copy_with(tmp_path, changes)
    # Then it fails, naming the contract's words and the offending import
    assert result.returncode != 0
    for words in named:
        assert words in result.stdout, result.stdout
