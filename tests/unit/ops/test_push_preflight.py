"""`imagedrop push` refuses before uploading: real images, the ingest function's own rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from imagedrop_cli.ops.push_preflight import filled_lines, inspect_local, manifest_from_options, preflight

GUESTS = Path(__file__).resolve().parents[2] / "fixtures" / "guests"

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
    # (platform may be left out: it is read from the disk; so architecture is the broken field)
    plan = _plan(tmp_path / "nope.qcow2", {"image_name": "x", "os_type": "linux",
                                           "architecture": "sparc"})
    assert any(p.startswith("manifest: image_name:") for p in plan.problems)
    assert any(p.startswith("manifest: architecture:") for p in plan.problems)
    assert any(str(tmp_path / "nope.qcow2") in p and "no such file" in p for p in plan.problems)
    assert plan.uploads == []


def _guest(tmp_path: Path, name: str) -> Path:
    import gzip

    target = tmp_path / name.removesuffix(".gz")
    target.write_bytes(gzip.decompress((GUESTS / name).read_bytes()))
    return target


def test_left_out_fields_are_read_from_the_local_disk(tmp_path: Path) -> None:
    disk = _guest(tmp_path, "facts-rocky9.vmdk.gz")
    plan = _plan(disk, {"image_name": "rocky-9"})
    assert plan.problems == []
    assert {k: v["value"] for k, v in plan.filled.items()} == {
        "os_type": "linux", "platform": "Rocky Linux", "architecture": "x86_64", "boot_mode": None}
    assert "platform: Rocky Linux (disk: /etc/os-release ID=rocky VERSION_ID=9.3)" in filled_lines(plan)
    # the manifest goes up as written: the ingest reads the same disk again
    assert json.loads(plan.manifest_bytes) == {"image_name": "rocky-9"}


def test_a_manifest_that_contradicts_the_local_disk_is_refused(tmp_path: Path) -> None:
    disk = _guest(tmp_path, "el8-arm64-mbr-boot.qcow2.gz")
    plan = _plan(disk, {**LINUX, "platform": "AlmaLinux"})
    assert [p.split(":")[0] for p in plan.problems] == ["architecture"]
    assert "says x86_64 but the system disk's programs are built for arm64" in plan.problems[0]


def test_names_the_ingest_refuses_are_refused_before_uploading(
        fixture_disk: Callable[[str], Path], tmp_path: Path) -> None:
    disk = tmp_path / "disk.bin"
    disk.write_bytes(fixture_disk("mbr-linux.raw").read_bytes())
    plan = _plan(disk, LINUX)
    assert not plan.ok
    assert any(p.startswith(f"{disk}: ") and "UnsupportedSuffix.OSSObject" in p
               for p in plan.problems), plan.problems
    itself = _plan(fixture_disk("mbr-linux.qcow2"),
                   {**LINUX, "data_disks": [{"object": "mbr-linux.qcow2"}]})
    assert any(p.startswith("data_disks[0].object: ") and "the system disk" in p
               for p in itself.problems), itself.problems
