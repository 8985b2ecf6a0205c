"""`imagedrop inspect oss://bucket/key` reads the object with ranged GETs, as ingest does."""

from __future__ import annotations

import gzip
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
    assert seen["reads"] <= 40 and seen["bytes_read"] <= 4 * 1024**2  # container and guest
    assert "guest" in seen and isinstance(seen["findings"], list)


def test_a_missing_oss_object_is_one_line_and_exit_2(local_env: LocalStack) -> None:
    result = CliRunner().invoke(app, ["inspect", "oss://imagedrop-local/incoming/nope.qcow2", "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.qcow2" in lines[0]


def test_inspect_an_oss_object_reads_the_guest(local_env: LocalStack) -> None:
    image = Path(__file__).resolve().parents[1] / "fixtures" / "guests" / "facts-rocky9.vmdk.gz"
    local_env.cloud.oss.put_object("imagedrop-local", "incoming/rocky.vmdk",
                                   gzip.decompress(image.read_bytes()))
    result = CliRunner().invoke(app, ["inspect", "oss://imagedrop-local/incoming/rocky.vmdk",
                                      "--json"])
    assert result.exit_code == 0, result.output
    seen = json.loads(result.stdout)
    assert (seen["guest"]["distro"], seen["guest"]["kernel"]) == \
        ("rocky", "5.14.0-362.8.1.el9_3.x86_64")
    assert {f["item"] for f in seen["findings"]} == {"GUESTOS.Dhcp", "GUESTOS.Selinux",
                                                     "GUESTOS.CloudInit",
                                                     "GUESTOS.OnlineResizeFS"}
    assert seen["reads"] <= 40 and seen["bytes_read"] <= 4 * 1024**2


def test_an_archived_oss_object_says_to_restore_it_first(local_env: LocalStack) -> None:
    disk, _ = sample_files()
    local_env.cloud.oss.put_object("imagedrop-local", "incoming/cold.qcow2",
                                   Path(disk).read_bytes(),
                                   headers={"x-oss-storage-class": "ColdArchive"})
    result = CliRunner().invoke(app, ["inspect", "oss://imagedrop-local/incoming/cold.qcow2"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "ColdArchive" in lines[0]
    assert "ossutil restore oss://imagedrop-local/incoming/cold.qcow2" in lines[0]
