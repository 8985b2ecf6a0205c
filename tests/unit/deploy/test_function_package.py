"""The function package is resolved for the runtime's Python, and deploy/check_package.py proves it.

The checker is tried on small made-up packages first (it must fail where a runtime would), then
on both real builds. A build is cached outside the clone, keyed by everything that goes into it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
RUNTIME_PYTHON = "3.12"


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_package", ROOT / "deploy" / "check_package.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


def dist(site: Path, name: str, version: str, *requires: str) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")


def module(site: Path, dotted: str, source: str = "") -> None:
    *packages, last = dotted.split(".")
    folder = site.joinpath(*packages)
    folder.mkdir(parents=True, exist_ok=True)
    for depth in range(1, len(packages) + 1):
        init = site.joinpath(*packages[:depth]) / "__init__.py"
        if not init.exists():
            init.write_text("")
    (folder / f"{last}.py").write_text(source)


@pytest.fixture
def code(tmp_path: Path) -> Path:
    """A built function folder with one library that needs async-timeout below Python 3.11."""
    site = tmp_path / "python"
    dist(site, "aiohttp", "3.9.0", 'async-timeout<5.0,>=4.0; python_version < "3.11"',
         "multidict>=4.5", 'aiodns; extra == "speedups"')
    dist(site, "multidict", "6.0.4")
    module(site, "aiohttp.__init__", "import multidict\n")
    module(site, "multidict.__init__")
    (tmp_path / "index.py").write_text("import aiohttp\nimport json\n")
    return tmp_path


def test_a_dependency_required_only_below_3_11_is_missing_on_3_10(code: Path) -> None:
    problems = checker.check(code, "3.10")
    assert len(problems) == 1
    assert "aiohttp 3.9.0 requires 'async-timeout<5.0,>=4.0; python_version < \"3.11\"'" in problems[0]
    assert "async-timeout is not in the package" in problems[0]


def test_the_same_package_is_complete_for_3_12(code: Path) -> None:
    assert checker.check(code, "3.12") == []


def test_an_extra_asked_by_a_dependant_counts(code: Path) -> None:
    site = code / "python"
    dist(site, "app", "1.0", "aiohttp[speedups]>=3")
    problems = checker.check(code, "3.12")
    assert [p for p in problems if "aiodns" in p and "aiohttp 3.9.0" in p]


def test_a_version_the_requirement_refuses_is_named(code: Path) -> None:
    dist(code / "python", "yarl", "1.0", "multidict>=7")
    (problem,) = checker.check(code, "3.12")
    assert "yarl 1.0 requires 'multidict>=7', but the package has multidict 6.0.4" in problem


def test_an_import_the_package_cannot_satisfy_is_named(code: Path) -> None:
    module(code / "python", "imagedrop.__init__")
    module(code / "python", "imagedrop.services",
           "def build():\n    from .cloud import ecs_api\n    import oss2\n")
    (code / "index.py").write_text("from imagedrop.services import build as handler\n")
    problems = checker.check(code, "3.12")
    assert any("imagedrop.services (line 2) imports imagedrop.cloud" in p for p in problems)
    assert any("imports oss2, which is neither in the package nor in Python 3.12's" in p
               for p in problems)


def test_a_module_python_3_12_removed_is_missing_there_only(code: Path) -> None:
    module(code / "python", "legacy.__init__", "import imp\n")
    (code / "index.py").write_text("import legacy\n")
    assert checker.check(code, "3.11") == []
    (problem,) = checker.check(code, "3.12")
    assert "legacy (line 1) imports imp" in problem


def test_optional_and_dynamic_imports_are_not_required(code: Path) -> None:
    module(code / "python", "lib.__init__",
           "try:\n    import simplejson\nexcept ImportError:\n    simplejson = None\n"
           "from lib.six.moves.urllib.parse import quote\n"
           "def later():\n    import ujson\n")
    module(code / "python", "lib.six", "moves = object()\n")
    (code / "index.py").write_text("import lib\n")
    assert checker.check(code, "3.12") == []


def test_the_cli_exit_code_follows_the_check(code: Path) -> None:
    assert checker.main([str(code), "--python", "3.12"]) == 0
    assert checker.main([str(code), "--python", "3.10"]) == 1


# ---------------------------------------------------------------------------------- real builds

def _inputs_key() -> str:
    digest = hashlib.sha256()
    files = [ROOT / "pyproject.toml", ROOT / "s.yaml", ROOT / "deploy" / "build.sh",
             ROOT / "deploy" / "check_package.py"]
    for folder in ("functions", "shared/imagedrop", "shared/imagedrop_disk"):
        files += sorted(p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def builds() -> Path:
    if shutil.which("bash") is None:
        pytest.skip("deploy/build.sh needs bash")
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    out = base / "imagedrop" / "function-builds" / _inputs_key()
    for fn in ("ingest", "poller"):
        if (out / fn / ".built").exists():
            continue
        done = subprocess.run(["bash", str(ROOT / "deploy" / "build.sh"), fn], capture_output=True,
                              text=True, timeout=1200, env={**os.environ, "IMAGEDROP_BUILD_OUT": str(out)})
        assert done.returncode == 0, f"deploy/build.sh {fn} failed:\n{done.stderr[-4000:]}"
        assert f"built {out / fn} for python{RUNTIME_PYTHON}" in done.stdout
        (out / fn / ".built").write_text("")
    _forget_old_builds(out.parent, keep=4)
    return out


def _forget_old_builds(cache: Path, keep: int) -> None:
    """Each change of the sources is a new build (about 70 MB a function): keep the newest few,
    which other checkouts building at the same time may still be reading."""
    builds = sorted((p for p in cache.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in builds[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


@pytest.mark.parametrize("fn", ["ingest", "poller"])
def test_each_function_builds_complete_for_its_runtime(builds: Path, fn: str) -> None:
    code = builds / fn
    assert checker.check(code, RUNTIME_PYTHON) == []
    site = code / "python"
    assert (site / "imagedrop" / "handlers.py").is_file() and (site / "imagedrop_disk").is_dir()
    assert not (site / "imagedrop_cli").exists() and not (site / "typer").exists()
    natives = [p.name for p in site.rglob("*.so")]
    assert natives and all("cpython-312-x86_64-linux-gnu" in n or ".abi3." in n for n in natives), natives


def test_the_package_built_for_3_12_would_not_do_on_3_10(builds: Path) -> None:
    # aiohttp (under the ECS SDK) needs async-timeout below Python 3.11: a resolver that read the
    # markers for the building machine's Python would leave it out for a python3.10 runtime.
    problems = checker.check(builds / "ingest", "3.10")
    assert any("requires 'async-timeout" in p and "async-timeout is not in the package" in p
               for p in problems), problems
