"""What a person meets first: -h, --version, completion, flags that take no value, JSON errors,
and one clear line when the command line's extra is not installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from imagedrop_cli.app import version


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`imagedrop ARGS` through its entry point, as the installed script runs it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEDROP_")}
    return subprocess.run([sys.executable, "-c", "from imagedrop_cli import main; main()", *args],
                          capture_output=True, text=True, env={**base, **(env or {})}, timeout=60)


def test_version_names_the_installed_distribution() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"imagedrop {version()}"
    assert version()[0].isdigit()


@pytest.mark.parametrize("args", [["-h"], ["--help"], ["status", "-h"], ["local", "demo", "-h"]])
def test_short_and_long_help(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 0 and "Usage: imagedrop" in done.stdout


def test_flags_are_shown_without_a_value_and_refuse_one() -> None:
    help_text = run("status", "-h").stdout
    assert "--json" in help_text and "<bool>" not in help_text
    assert "<bool>" not in run("-h").stdout
    refused = run("inspect", "disk.qcow2", "--json", "true")
    assert refused.returncode == 2 and "unexpected extra argument(s) (true)" in refused.stderr


def test_shell_completion_is_offered() -> None:
    assert "--install-completion" in run("-h").stdout
    # typer's switch to take the shell as a value instead of looking at the parent process
    done = run("--show-completion", "bash", env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert done.returncode == 0 and "_imagedrop_completion" in done.stdout


def test_an_error_under_json_is_json_on_stdout() -> None:
    done = run("status", "--json")
    assert done.returncode == 2
    error = json.loads(done.stdout)
    assert error["command"] == "status" and error["exit_code"] == 2
    assert error["error"].startswith("--bucket: which OSS bucket?")


def test_inspect_error_under_json_is_json_on_stdout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = run("inspect", str(tmp_path / "nope.qcow2"), "--json")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"].endswith("no such file: check the path")


def test_without_the_cli_extra_one_line_names_it() -> None:
    # typer hidden as if not installed: `imagedrop` must still start and say what to install
    code = ("import sys; sys.modules['typer'] = None\n"
            "import imagedrop_cli; imagedrop_cli.main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "needs the `cli` extra (typer not installed)" in line
    assert "pip install 'imagedrop[cli]'" in line
