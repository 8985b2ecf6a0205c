"""`imagedrop inspect`: one JSON object and exit 0 when understood, one stderr line and exit 2
when not."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from disk_helpers import write_image
from imagedrop_cli import app
from imagedrop_disk import BytesSource

REQUIRED = {"format", "virtual_size", "file_size", "partition_table", "boot_mode", "os_type",
            "importable", "problems", "bytes_read", "reads"}


@pytest.fixture
def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always separates stderr
        return CliRunner()


def test_json_of_an_importable_image(runner: CliRunner, tmp_path: Path) -> None:
    path = write_image("gpt-windows.vhd", tmp_path)
    result = runner.invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    obj = json.loads(result.stdout)
    assert REQUIRED <= set(obj)
    assert (obj["format"], obj["partition_table"], obj["boot_mode"], obj["os_type"]) == (
        "vhd", "gpt", None, "windows")
    assert obj["importable"] is True and obj["problems"] == []
    assert 0 < obj["reads"] <= 12


def test_understood_but_not_importable_still_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    path = write_image("gpt-esp.vhdx", tmp_path)
    result = runner.invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0
    obj = json.loads(result.stdout)
    assert obj["importable"] is False
    assert "qemu-img convert -O qcow2 in.vhdx out.qcow2" in obj["problems"][0]


def test_table_output_names_the_verdict(runner: CliRunner, tmp_path: Path) -> None:
    path = write_image("mbr-ntfs.qcow2", tmp_path)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0
    for word in ("qcow2", "mbr", "BIOS", "windows", "yes"):
        assert word in result.stdout


@pytest.mark.parametrize("content,words", [
    (None, "no such file"),
    (b"hello, world\n", "too small to be a raw disk"),
])
@pytest.mark.parametrize("as_json", [False, True])
def test_not_understood_exits_2_with_one_line(runner: CliRunner, tmp_path: Path,
                                              content: bytes | None, words: str, as_json: bool) -> None:
    path = tmp_path / "image.bin"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["inspect", str(path)] + (["--json"] if as_json else []))
    assert result.exit_code == 2
    if as_json:  # the same line, as JSON where a program reads
        assert json.loads(result.stdout) == {"error": result.stderr.strip(), "command": "inspect",
                                             "exit_code": 2}
    else:
        assert result.stdout == ""
    assert words in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_oss_url_uses_the_adapter_when_present(runner: CliRunner, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    data = (write_image("gpt-esp.stream.vmdk", tmp_path)).read_bytes()

    def open_oss_source(url: str, local: bool = False) -> BytesSource:
        opened.append(url)
        return BytesSource(data)

    fake = types.ModuleType("imagedrop_cli.ops.oss_source")
    fake.open_oss_source = open_oss_source  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "imagedrop_cli.ops.oss_source", fake)
    result = runner.invoke(app, ["inspect", "oss://bucket/incoming/a.vmdk", "--json"])
    assert result.exit_code == 0, result.stderr
    assert opened == ["oss://bucket/incoming/a.vmdk"]
    assert json.loads(result.stdout)["boot_mode"] == "UEFI"
