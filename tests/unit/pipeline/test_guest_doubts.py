"""The disk contradicting itself is never filled silently: with several systems on the disk, or
programs and a kernel built for different architectures, the left-out fields are refused naming
both answers; a manifest that names one of them is taken as written."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from imagedrop.decide.guest_match import Filled, contradictions, fill_from_disk
from imagedrop.manifest import parse_manifest
from imagedrop.decide.plan import DiskFacts, Rejection, plan_import
from imagedrop_disk import BytesSource, inspect
from imagedrop_disk.facts.model import GuestFacts, OtherRoot
from imagedrop_disk.model import Inspection

GUESTS = Path(__file__).resolve().parents[2] / "fixtures" / "guests"
CENTOS_TOO = OtherRoot(volume="partition 1", os_type="linux", distro="centos",
                       name="CentOS Linux 7 (Core)", platform="CentOS")
TWO_SYSTEMS = GuestFacts(os_type="linux", distro="ubuntu", version="22.04",
                         name="Ubuntu 22.04.3 LTS", architecture="x86_64", platform="Ubuntu",
                         other_roots=[CENTOS_TOO])
ARM_KERNEL = GuestFacts(os_type="linux", distro="debian", version="12", architecture="x86_64",
                        kernel="6.1.0-18-arm64", kernel_architecture="arm64", platform="Debian")


def disk(guest: GuestFacts) -> Inspection:
    return Inspection(format="qcow2", virtual_size=1 << 30, file_size=1 << 20, importable=True,
                      boot_mode="BIOS", os_type="linux", guest=guest)


def manifest(**fields: Any):  # type: ignore[no-untyped-def]
    return parse_manifest(json.dumps({"image_name": "web-1", **fields}))


def test_two_systems_refuse_platform_and_architecture_naming_both() -> None:
    problems = fill_from_disk(manifest(), disk(TWO_SYSTEMS))
    assert isinstance(problems, list)
    assert [p.where for p in problems] == ["platform", "architecture"]
    for problem in problems:
        assert "holds more than one system" in problem.rule
        assert "Ubuntu 22.04.3 LTS" in problem.rule
        assert "CentOS Linux 7 (Core) on partition 1" in problem.rule
        assert problem.fix.startswith(f"write {problem.where} in the manifest")


def test_a_manifest_naming_one_of_the_systems_is_taken_as_written() -> None:
    chosen = manifest(platform="CentOS", architecture="x86_64")
    assert contradictions(chosen, disk(TWO_SYSTEMS)) == []
    filled = fill_from_disk(chosen, disk(TWO_SYSTEMS))
    assert isinstance(filled, Filled) and filled.manifest.platform == "CentOS"
    assert [p.where for p in contradictions(manifest(platform="Debian"), disk(TWO_SYSTEMS))] \
        == ["platform"]


def test_programs_and_kernel_of_different_architectures_refuse_architecture() -> None:
    problems = fill_from_disk(manifest(), disk(ARM_KERNEL))
    assert isinstance(problems, list)
    problem, = problems
    assert problem.where == "architecture"
    assert "programs are built for x86_64 (the ELF header of /bin/sh)" in problem.rule
    assert "kernel 6.1.0-18-arm64 is built for arm64" in problem.rule
    assert '"architecture": "arm64"' in problem.fix
    written = manifest(architecture="arm64")
    assert contradictions(written, disk(ARM_KERNEL)) == []
    filled = fill_from_disk(written, disk(ARM_KERNEL))
    assert isinstance(filled, Filled) and filled.manifest.architecture == "arm64"
    assert [p.where for p in contradictions(manifest(architecture="i386"), disk(ARM_KERNEL))] \
        == ["architecture"]


def test_a_real_two_root_disk_is_refused_through_the_plan() -> None:
    """two-roots.qcow2 (tests/fixtures/guests/make_hostile_work.sh): a CentOS root and a larger
    Ubuntu root. A manifest of only image_name is refused, naming both systems."""
    inspection = inspect(BytesSource(gzip.decompress((GUESTS / "two-roots.qcow2.gz")
                                                     .read_bytes())))
    guest = inspection.guest
    assert guest is not None and guest.distro == "ubuntu"
    assert [(o.volume, o.platform) for o in guest.other_roots] == [("partition 1", "CentOS")]
    assert any(n.startswith("more than one volume holds a system: the facts are those of "
                            "partition 2 (the largest); partition 1 holds CentOS Linux 7")
               for n in guest.notes)
    facts = DiskFacts(key="in/web.qcow2", role="system", size=1 << 20, etag="E",
                      inspection=inspection)
    outcome = plan_import(manifest(), manifest_key="in/web.qcow2.json", bucket="b",
                          bucket_region="cn-hangzhou", function_region="cn-hangzhou",
                          disks=[facts], import_role="R", client_token="t")
    assert isinstance(outcome, Rejection)
    assert [p.where for p in outcome.problems] == ["platform", "architecture"]
    assert "CentOS Linux 7 (Core) on partition 1" in outcome.problems[0].rule
