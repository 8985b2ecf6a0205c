"""Bad input that could end in a crash loop (retried into the dead-letter queue with no record)
or in a wrong success: each ends in one status record and one notification naming where, which
rule and the fix, and nothing reaches ImportImage."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pipeline_harness import Harness
from typer.testing import CliRunner

from imagedrop_cli import app
from imagedrop.model.status import status_key

TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}


def _one_clear_refusal(h: Harness, manifest_key: str) -> str:
    """The record says rejected, once announced, no function failed, no image was made; returns
    the problems as one text."""
    assert not h.cloud.pump.errors, [e.error for e in h.cloud.pump.errors]
    record = h.status(manifest_key)
    assert record.state == "rejected", record.model_dump_json(indent=1)
    assert h.states(manifest_key) == ["rejected"], h.states(manifest_key)
    assert record.problems
    for problem in record.problems:
        assert problem.where.strip() and problem.rule.strip() and problem.fix.strip(), problem
    assert h.images() == []
    return " | ".join(p.line() for p in record.problems)


def _validate(manifest: dict[str, Any], tmp: Path, key: str) -> tuple[int, str]:
    path = tmp / key.rpartition("/")[2]
    path.write_text(json.dumps(manifest))
    result = CliRunner().invoke(app, ["validate", str(path), "--key", key])
    return result.exit_code, result.stderr


@pytest.mark.parametrize("data_object,what", [("web.qcow2.json", "this manifest"),
                                              ("web.qcow2", "the system disk")])
def test_a_data_disk_that_is_the_manifest_or_the_system_disk_is_refused(
        stack: Harness, data_object: str, what: str) -> None:
    disk, manifest = stack.sample()
    manifest["data_disks"] = [{"object": data_object}]
    key = stack.drop(disk, manifest)
    stack.run()
    text = _one_clear_refusal(stack, key)
    assert "data_disks[0].object" in text and what in text, text
    # the same file, named as it is in the bucket, is refused by validate, even without --key
    path = stack.tmp / "web.qcow2.json"
    path.write_text(json.dumps(manifest))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and what in result.stderr, result.stderr


def test_a_manifest_named_only_json_is_refused(stack: Harness) -> None:
    disk, manifest = stack.sample()
    stack.put("incoming/web.qcow2", disk)
    stack.put("incoming/.json", json.dumps(manifest))
    stack.run()
    text = _one_clear_refusal(stack, "incoming/.json")
    assert "names no disk image" in text and "web.qcow2.json" in text, text
    assert _validate(manifest, stack.tmp, "incoming/.json")[0] == 1


def test_a_manifest_key_too_long_for_its_record_is_refused_before_import(stack: Harness) -> None:
    disk, manifest = stack.sample()
    folder = "incoming/" + "/".join(["d" * 200] * 4) + "/"
    key = folder + "w" * (1015 - 6 - len(folder)) + ".qcow2"    # the manifest key: 1020 bytes
    manifest_key = stack.drop(disk, manifest, key=key)
    assert len(("imagedrop/status/" + manifest_key).encode()) > 1023
    stack.run()
    text = _one_clear_refusal(stack, manifest_key)
    assert "1020 bytes" in text and "at most 1006 bytes" in text, text
    # the record sits at a bounded key, found by the manifest's key
    assert status_key("imagedrop/", manifest_key).startswith("imagedrop/status-by-hash/")
    assert status_key("imagedrop/", manifest_key) in stack.keys("imagedrop/status-by-hash/")
    code, err = _validate(manifest, stack.tmp, manifest_key)
    assert code == 1 and "1020 bytes" in err, err


@pytest.mark.parametrize("key", ["incoming/disk.bin", "incoming/disk"], ids=["bin", "no-suffix"])
def test_a_disk_named_as_ecs_refuses_is_refused_with_the_rename(stack: Harness, key: str) -> None:
    disk, manifest = stack.sample()
    manifest_key = stack.drop(disk, manifest, key=key)
    stack.run()
    text = _one_clear_refusal(stack, manifest_key)
    assert "UnsupportedSuffix.OSSObject" in text and "rename the disk to 'disk." in text, text
    assert _validate(manifest, stack.tmp, manifest_key)[0] == 1


def test_a_data_disk_named_as_ecs_refuses_is_refused(stack: Harness) -> None:
    disk, manifest = stack.sample()
    manifest["data_disks"] = [{"object": "data.bin"}]
    stack.put("incoming/data.bin", stack.fixture("none.raw"))
    key = stack.drop(disk, manifest)
    stack.run()
    text = _one_clear_refusal(stack, key)
    assert "data_disks[0].object" in text and "'data.raw'" in text, text
    path = stack.tmp / "web.qcow2.json"
    path.write_text(json.dumps(manifest))
    assert CliRunner().invoke(app, ["validate", str(path)]).exit_code == 1


@pytest.mark.parametrize("case", ["random-bytes", "blank-qcow2"])
def test_a_disk_with_nothing_bootable_is_not_a_system_disk(stack: Harness, case: str) -> None:
    disk, manifest = stack.sample()
    if case == "random-bytes":
        disk = stack.tmp / "random.raw"
        disk.write_bytes(os.urandom(4 * 1024 * 1024))
        key = "incoming/random.raw"
    else:
        disk, key = stack.fixture("none.qcow2"), "incoming/blank.qcow2"
    manifest_key = stack.drop(disk, manifest, key=key)
    stack.run()
    text = _one_clear_refusal(stack, manifest_key)
    assert "GUESTOS.SystemImage" in text and "not a system disk" in text, text


def test_a_blank_data_disk_is_still_a_data_disk(stack: Harness) -> None:
    disk, manifest = stack.sample()
    manifest["data_disks"] = [{"object": "blank.qcow2"}]
    stack.put("incoming/blank.qcow2", stack.fixture("none.qcow2"))
    key = stack.drop(disk, manifest)
    stack.run()
    assert stack.status(key).state == "succeeded", stack.status(key).model_dump_json(indent=1)
