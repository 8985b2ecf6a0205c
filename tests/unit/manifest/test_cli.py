"""`imagedrop validate` and `imagedrop schema` as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imagedrop_cli import app
from imagedrop.manifest import render_schema_json
from manifest_helpers import varied

runner = CliRunner()


def write(tmp_path: Path, content: str | bytes, name: str = "m.json") -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def test_a_valid_manifest_is_silent_with_exit_0(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", write(tmp_path, json.dumps(varied()))])
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""


def test_problems_go_to_stderr_one_per_line_with_exit_1(tmp_path: Path) -> None:
    doc = varied(architecture="amd64", boot_mod="UEFI", data_disks=[{"object": "../x"}])
    result = runner.invoke(app, ["validate", write(tmp_path, json.dumps(doc))])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [
        "architecture: 'amd64' is not one of x86_64, i386, arm64; did you mean x86_64?",
        "data_disks[0].object: '../x' has a '..' segment; a data disk must lie in or below the "
        "manifest's folder",
        "boot_mod: unknown field; did you mean boot_mode?",
    ]


@pytest.mark.parametrize("content,fragment", [
    (b"", "empty"), (b"{oops", "not valid JSON"), (b"[]", "must be a JSON object"),
    (b"\xff", "not UTF-8"),
])
def test_a_file_that_is_not_a_manifest_gives_one_line(tmp_path: Path, content: bytes,
                                                      fragment: str) -> None:
    result = runner.invoke(app, ["validate", write(tmp_path, content)])
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1 and fragment in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_file_or_a_folder_gives_one_line(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["validate", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1
    assert missing.stderr == f"{tmp_path / 'nope.json'}: no such file; check the path\n"
    folder = runner.invoke(app, ["validate", str(tmp_path)])
    assert folder.exit_code == 1 and len(folder.stderr.splitlines()) == 1
    assert "is a folder" in folder.stderr


def test_standard_input_is_read_with_a_dash() -> None:
    result = runner.invoke(app, ["validate", "-"], input=json.dumps(varied(os_type="Linux")))
    assert result.exit_code == 1
    assert result.stderr.startswith("os_type: 'Linux' is not one of linux, windows; did you mean linux?")


def test_cjk_names_and_problems_print_as_text(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["validate", write(tmp_path, json.dumps(varied(image_name="画像-2026.11"),
                                                                    ensure_ascii=False))])
    assert ok.exit_code == 0
    bad = runner.invoke(app, ["validate", write(tmp_path, json.dumps(varied(image_name="画像 1")))])
    assert "' ' at position 3" in bad.stderr


def test_schema_prints_the_committed_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == render_schema_json()
    assert json.loads(result.stdout)["properties"]["image_name"]["maxLength"] == 128
