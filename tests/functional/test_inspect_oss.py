"""`imagedrop inspect oss://bucket/key` reads the object with ranged GETs, as ingest does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from typer.testing import CliRunner

from imagedrop_cli import app
from imagedrop_cli.local import LocalStack
from imagedrop_cli.demo import sample_files


@pytest.fixture
def local_env(clean_env: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    stack = LocalStack(speed=0.0, faults="", with_functions=False, background=False)
    info = stack.start()
    clean_env.setenv("IMAGEDROP_LOCAL", json.dumps(info.as_json()))
    try:
        yield stack
    finally:
        stack.stop()


def test_inspect_an_oss_object(local_env: LocalStack) -> None:
    disk, _ = sample_files()
    local_env.cloud.oss.put_object("imagedrop-local", "incoming/web.qcow2", Path(disk).read_bytes())
    result = CliRunner().invoke(app, ["inspect", "oss://imagedrop-local/incoming/web.qcow2", "--json"])
    assert result.exit_code == 0, result.output
    seen = json.loads(result.stdout)
    assert (seen["format"], seen["partition_table"], seen["boot_mode"]) == ("qcow2", "gpt", "UEFI-Preferred")
    assert seen["virtual_size"] == 64 * 1024**2
    assert seen["reads"] <= 12 and seen["bytes_read"] <= 128 * 1024


def test_a_missing_oss_object_is_one_line_and_exit_2(local_env: LocalStack) -> None:
    result = CliRunner().invoke(app, ["inspect", "oss://imagedrop-local/incoming/nope.qcow2", "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.qcow2" in lines[0]
