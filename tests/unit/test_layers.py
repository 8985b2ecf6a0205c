"""The layers of docs/architecture.md, checked by import-linter: a violation fails CI."""

from __future__ import annotations

import pkgutil
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


def test_every_import_contract_is_kept() -> None:
    # Given the contracts in pyproject.toml, when import-linter reads the whole code base
    result = _lint_imports(ROOT)
    # Then every contract is kept
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in result.stdout, result.stdout


def test_every_part_of_the_function_package_sits_in_a_layer() -> None:
    # Given the layers contract of the function package
    (layers,) = [c for c in _contracts() if c["type"] == "layers"
                 and any("imagedrop.handlers" in layer for layer in c["layers"])]
    named = {part.strip().removeprefix("imagedrop.") for layer in layers["layers"]
             for part in layer.split("|")}
    # When the package's modules and folders are listed
    present = {m.name for m in pkgutil.iter_modules([str(ROOT / "shared" / "imagedrop")])}
    # Then each is in a layer: a new module cannot slip past the rule
    assert present == named


@pytest.mark.parametrize("where, text, broken", [
    ("imagedrop/leak.py", "from imagedrop_emulator import FakeCloud\n",
     "imagedrop.leak -> imagedrop_emulator"),
    ("imagedrop/decide/leak.py", "from imagedrop.flows import poll\n",
     "imagedrop.decide.leak -> imagedrop.flows.poll"),
    ("imagedrop/flows/finish_leak.py", "import oss2\n",
     "imagedrop.flows.finish_leak -> oss2"),
])
def test_a_forbidden_import_is_caught(tmp_path: Path, where: str, text: str, broken: str) -> None:
    # Given a copy of the code with one import that breaks a contract
    (tmp_path / "shared").mkdir()
    for package in PACKAGES:
        shutil.copytree(ROOT / "shared" / package, tmp_path / "shared" / package,
                        ignore=shutil.ignore_patterns("__pycache__", "samples"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "shared" / where).write_text(text)
    # When import-linter checks that copy
    result = _lint_imports(tmp_path)
    # Then it fails, naming the offending import
    assert result.returncode != 0
    assert broken in result.stdout, result.stdout
