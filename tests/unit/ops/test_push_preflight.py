"""`imagedrop push` refuses before uploading: real images, the ingest function's own rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from imagedrop_cli.ops.push_preflight import inspect_local, manifest_from_options, preflight

LINUX = {"image_name": "web-2026.11", "os_type": "linux", "platform": "Ubuntu", "architecture": "x86_64"}


def _plan(disk: Path, manifest: dict | bytes, data: list[Path] | None = None):  # type: ignore[no-untyped-def]
    raw = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    data = data or []
    return preflight(disk=disk, data_disks=data, manifest_bytes=raw, prefix="incoming/", bucket="b",
                     region="cn-hangzhou", inspections=inspect_local([disk, *data]))


def test_a_good_push_uploads_data_disks_first_and_names_the_manifest(fixture_disk: Callable[[str], Path]) -> None:
    # Given a Linux system disk and a data disk listed by file name
    disk, data = fixture_disk("mbr-linux.qcow2"), fixture_disk("ext4-bare.raw")
    manifest = manifest_from_options(LINUX, [data])
    # When the push is planned
    plan = _plan(disk, manifest, [data])
    # Then nothing is wrong, the data disk goes first and the manifest is the disk's sidecar
    assert plan.problems == []
    assert [(u.role, u.key) for u in plan.uploads] == [("data", "incoming/ext4-bare.raw"),
                                                        ("system", "incoming/mbr-linux.qcow2")]
    assert plan.manifest_key == "incoming/mbr-linux.qcow2.json"
    assert json.loads(plan.manifest_bytes)["data_disks"] == [{"object": "ext4-bare.raw"}]


def test_a_windows_disk_under_a_linux_manifest_is_refused(fixture_disk: Callable[[str], Path]) -> None:
    plan = _plan(fixture_disk("gpt-windows.qcow2"), LINUX)
    assert not plan.ok
    assert any(p.startswith("os_type: says linux") and "set os_type to windows" in p for p in plan.problems)


def test_problems_name_the_local_file_not_an_oss_object(fixture_disk: Callable[[str], Path]) -> None:
    iso = fixture_disk("install.iso")
    plan = _plan(iso, LINUX)
    assert not plan.ok
    assert all(str(iso) in p for p in plan.problems), plan.problems
    assert not any("oss object" in p for p in plan.problems)


def test_data_disks_must_match_the_manifest(fixture_disk: Callable[[str], Path]) -> None:
    disk, data = fixture_disk("mbr-linux.qcow2"), fixture_disk("ext4-bare.raw")
    listed_but_missing = _plan(disk, {**LINUX, "data_disks": [{"object": "logs.raw"}]})
    assert listed_but_missing.problems == [
        "data_disks[0].object: 'logs.raw' has no local file; pass it with --data-disk PATH/logs.raw"]
    given_but_unlisted = _plan(disk, LINUX, [data])
    assert len(given_but_unlisted.problems) == 1
    assert given_but_unlisted.problems[0].startswith(f"--data-disk {data}: not listed")


def test_a_broken_manifest_and_a_missing_file_are_reported_together(tmp_path: Path) -> None:
    plan = _plan(tmp_path / "nope.qcow2", {"image_name": "x", "os_type": "linux"})
    assert any(p.startswith("manifest: image_name:") for p in plan.problems)
    assert any(p.startswith("manifest: platform:") for p in plan.problems)
    assert any(str(tmp_path / "nope.qcow2") in p and "no such file" in p for p in plan.problems)
    assert plan.uploads == []
