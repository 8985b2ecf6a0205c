"""The manifest against the disk's guest facts: contradictions, fields filled from the disk,
strict preflight, and the check side by side (pure decisions, table-tested)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from imagedrop.decide.check_compare import side_by_side
from imagedrop.decide.guest_match import Filled, contradictions, fill_from_disk, preflight_refusals
from imagedrop.manifest import parse_manifest
from imagedrop.decide.plan import DiskFacts, ImportPlan, Rejection, plan_import
from imagedrop.decide.ecs_answers import DetectionItem
from imagedrop_disk import BytesSource, inspect
from imagedrop_disk.facts.model import Finding, GuestFacts
from imagedrop_disk.model import Inspection

GUESTS = Path(__file__).resolve().parents[2] / "fixtures" / "guests"

UBUNTU = GuestFacts(os_type="linux", distro="ubuntu", version="22.04", name="Ubuntu 22.04.3 LTS",
                    architecture="x86_64", platform="Ubuntu")
CENTOS = GuestFacts(os_type="linux", distro="centos", version="7", name="CentOS Linux 7 (Core)",
                    architecture="x86_64", platform="CentOS")
ARM_ALMA = GuestFacts(os_type="linux", distro="almalinux", version="8.9", architecture="arm64",
                      platform="AlmaLinux")
ARCH = GuestFacts(os_type="linux", distro="arch", architecture="x86_64", platform="Others Linux")
WIN2019 = GuestFacts(os_type="windows", distro="windows", version="10.0.17763",
                     name="Windows Server 2019 Datacenter", architecture="x86_64",
                     platform="Windows Server 2019")
UNKNOWN = GuestFacts(os_type="linux", notes=["/etc/os-release: not found"])


def disk(guest: GuestFacts | None, *, boot_mode: str | None = "BIOS", os_type: str | None = None,
         findings: list[Finding] | None = None) -> Inspection:
    return Inspection(format="qcow2", virtual_size=1 << 30, file_size=1 << 20, importable=True,
                      boot_mode=boot_mode,  # type: ignore[arg-type]
                      os_type=os_type or (guest.os_type if guest else None),  # type: ignore[arg-type]
                      guest=guest, findings=findings or [])


def manifest(**fields: Any):  # type: ignore[no-untyped-def]
    body = {"image_name": "web-1", **{k: v for k, v in fields.items() if v is not None}}
    return parse_manifest(json.dumps(body))


LINUX = {"os_type": "linux", "platform": "Ubuntu", "architecture": "x86_64"}

CONTRADICTIONS = [
    # (case, manifest fields, guest, expected (field, words in the rule) or None)
    ("agrees", LINUX, UBUNTU, None),
    ("ubuntu on centos", LINUX, CENTOS,
     ("platform", "says Ubuntu but the system disk holds CentOS Linux 7 (Core) "
                  "(/etc/os-release ID=centos)")),
    ("x86_64 on arm64", {**LINUX, "platform": "AlmaLinux"}, ARM_ALMA,
     ("architecture", "says x86_64 but the system disk's programs are built for arm64")),
    ("linux on windows", LINUX, WIN2019,
     ("os_type", "says linux but the system disk holds Windows Server 2019 Datacenter")),
    ("linux platform on windows, os_type left out", {"platform": "Ubuntu"}, WIN2019,
     ("platform", "says Ubuntu, a Linux platform, but the system disk holds Windows Server 2019")),
    ("windows 2022 on 2019", {"os_type": "windows", "platform": "Windows Server 2022",
                              "license_type": "Auto"}, WIN2019,
     ("platform", "says Windows Server 2022 but the system disk holds Windows Server 2019")),
    ("Others Linux honoured", {**LINUX, "platform": "Others Linux"}, CENTOS, None),
    ("Customized Linux honoured", {**LINUX, "platform": "Customized Linux"}, CENTOS, None),
    ("Other Windows honoured", {"os_type": "windows", "platform": "Other Windows",
                                "license_type": "Auto"}, WIN2019, None),
    ("CentOS Stream on centos: near", {**LINUX, "platform": "CentOS Stream"}, CENTOS, None),
    ("a distribution ECS does not list is not contradicted", LINUX, ARCH, None),
    ("unknown facts never reject", LINUX, UNKNOWN, None),
    ("no guest read never rejects", LINUX, None, None),
    ("i386 on x86_64", {**LINUX, "architecture": "i386"}, UBUNTU,
     ("architecture", "says i386 but")),
]


@pytest.mark.parametrize("fields,guest,expected", [c[1:] for c in CONTRADICTIONS],
                         ids=[c[0] for c in CONTRADICTIONS])
def test_contradictions(fields: dict[str, Any], guest: GuestFacts | None,
                        expected: tuple[str, str] | None) -> None:
    problems = contradictions(manifest(**fields), disk(guest))
    if expected is None:
        assert problems == []
        return
    assert len(problems) == 1, problems
    field, words = expected
    assert problems[0].where == field
    assert words in problems[0].rule
    assert "leave it out" in problems[0].fix or "leave both out" in problems[0].fix


FILLS = [
    # (case, manifest fields, inspection, expected filled {field: value}, words in each "from")
    ("ubuntu", {}, disk(UBUNTU), {"os_type": "linux", "platform": "Ubuntu",
                                 "architecture": "x86_64", "boot_mode": "BIOS"},
     {"platform": "disk: /etc/os-release ID=ubuntu VERSION_ID=22.04",
      "architecture": "ELF header of /bin/sh", "boot_mode": "no EFI system partition"}),
    ("os_type from the platform", {"platform": "CentOS"}, disk(CENTOS),
     {"os_type": "linux", "architecture": "x86_64", "boot_mode": "BIOS"},
     {"os_type": "manifest: platform CentOS is a Linux platform"}),
    ("arm64 boots UEFI", {}, disk(ARM_ALMA, boot_mode="BIOS"),
     {"os_type": "linux", "platform": "AlmaLinux", "architecture": "arm64", "boot_mode": "UEFI"},
     {"boot_mode": "arm64 boots only with UEFI"}),
    ("windows", {"license_type": "BYOL"}, disk(WIN2019, boot_mode="UEFI"),
     {"os_type": "windows", "platform": "Windows Server 2019", "architecture": "x86_64",
      "boot_mode": "UEFI"}, {"platform": "Windows registry ProductName",
                             "architecture": "PROCESSOR_ARCHITECTURE"}),
    ("boot mode unknown is not refused", {**LINUX}, disk(UBUNTU, boot_mode=None),
     {"boot_mode": None}, {"boot_mode": "ECS imports it as BIOS"}),
    ("nothing left out", {**LINUX, "boot_mode": "BIOS"}, disk(UBUNTU), {}, {}),
]


@pytest.mark.parametrize("fields,inspection,values,sources", [c[1:] for c in FILLS],
                         ids=[c[0] for c in FILLS])
def test_fill_from_disk(fields: dict[str, Any], inspection: Inspection, values: dict[str, Any],
                        sources: dict[str, str]) -> None:
    outcome = fill_from_disk(manifest(**fields), inspection)
    assert isinstance(outcome, Filled), outcome
    assert {k: v["value"] for k, v in outcome.filled.items()} == values
    for name, words in sources.items():
        assert words in str(outcome.filled[name]["from"])
    for name in ("os_type", "platform", "architecture"):
        if name in values:
            assert getattr(outcome.manifest, name) == values[name]


REFUSALS = [
    ("platform unknown", {}, disk(UNKNOWN), ["platform", "architecture"]),
    ("nothing read", {}, disk(None, os_type=None), ["os_type", "platform", "architecture"]),
    ("partition types give only the OS", {}, disk(None, os_type="linux"),
     ["platform", "architecture"]),
    ("windows disk needs a licence", {}, disk(WIN2019), ["license_type"]),
    ("a licence on a linux disk", {"license_type": "BYOL"}, disk(UBUNTU), ["license_type"]),
]


@pytest.mark.parametrize("fields,inspection,wheres", [c[1:] for c in REFUSALS],
                         ids=[c[0] for c in REFUSALS])
def test_a_field_the_disk_cannot_tell_is_refused_naming_it(
        fields: dict[str, Any], inspection: Inspection, wheres: list[str]) -> None:
    outcome = fill_from_disk(manifest(**fields), inspection)
    assert isinstance(outcome, list)
    assert [p.where for p in outcome] == wheres
    for problem in outcome:
        if problem.where != "license_type":
            assert "write it in the manifest" in problem.fix


VIRTIO = Finding(item="GUESTOS.Virtio", risk="High", fact="kernel 6.1 has no virtio_blk",
                 fix="install a kernel with the virtio drivers")
CLOUD = Finding(item="GUESTOS.CloudInit", risk="Medium", fact="cloud-init is not installed",
                fix="install cloud-init")


def test_strict_preflight_refuses_each_high_finding_and_report_does_not() -> None:
    strict = preflight_refusals(manifest(**LINUX, preflight="strict"), [VIRTIO, CLOUD])
    assert [(p.where, p.rule) for p in strict] == [
        ("preflight: GUESTOS.Virtio",
         "kernel 6.1 has no virtio_blk (a High risk for the image check)")]
    assert strict[0].fix.startswith("install a kernel with the virtio drivers")
    assert preflight_refusals(manifest(**LINUX), [VIRTIO, CLOUD]) == []
    assert preflight_refusals(manifest(**LINUX, preflight="strict"), [CLOUD]) == []


def _plan(fields: dict[str, Any], inspection: Inspection) -> ImportPlan | Rejection:
    facts = DiskFacts(key="in/web.qcow2", role="system", size=1 << 20, etag="E",
                      inspection=inspection)
    return plan_import(manifest(**fields), manifest_key="in/web.qcow2.json", bucket="b",
                       bucket_region="cn-hangzhou", function_region="cn-hangzhou", disks=[facts],
                       import_role="R", client_token="t")


def test_plan_sends_the_filled_values_and_keeps_where_they_came_from() -> None:
    plan = _plan({}, disk(ARM_ALMA, boot_mode="UEFI"))
    assert isinstance(plan, ImportPlan)
    assert (plan.request["OSType"], plan.request["Platform"], plan.request["Architecture"],
            plan.request["BootMode"]) == ("linux", "AlmaLinux", "arm64", "UEFI")
    assert plan.manifest is not None and plan.manifest.platform == "AlmaLinux"
    assert plan.filled["platform"]["from"] == "disk: /etc/os-release ID=almalinux VERSION_ID=8.9"
    assert plan.guest == ARM_ALMA


def test_plan_rejects_a_contradiction_and_a_strict_high_finding_together_with_the_guest() -> None:
    outcome = _plan({**LINUX, "preflight": "strict"}, disk(CENTOS, findings=[VIRTIO]))
    assert isinstance(outcome, Rejection)
    assert [p.where for p in outcome.problems] == ["platform", "preflight: GUESTOS.Virtio"]
    assert outcome.guest == CENTOS and outcome.findings == [VIRTIO]


def test_the_partition_check_still_speaks_when_the_guest_was_not_read() -> None:
    outcome = _plan({**LINUX}, disk(None, os_type="windows"))
    assert isinstance(outcome, Rejection)
    assert outcome.problems[0].where == "os_type"
    assert "partitions are windows's" in outcome.problems[0].rule


@pytest.mark.parametrize("fixture,fields,refused", [
    ("facts-centos7.vhd.gz", {**LINUX}, "platform"),
    ("win2019.qcow2.gz", {**LINUX}, "os_type"),
    ("el8-arm64-mbr-boot.qcow2.gz", {**LINUX, "platform": "AlmaLinux"}, "architecture"),
    ("facts-ubuntu2204.qcow2.gz", {**LINUX}, None),
    ("facts-rocky9.vmdk.gz", {**LINUX, "platform": "Others Linux"}, None),
])
def test_real_disks(fixture: str, fields: dict[str, Any], refused: str | None) -> None:
    inspection = inspect(BytesSource(gzip.decompress((GUESTS / fixture).read_bytes())))
    problems = contradictions(manifest(**fields), inspection)
    assert [p.where for p in problems] == ([refused] if refused else [])


def test_side_by_side() -> None:
    guest = GuestFacts(os_type="linux", virtio=False, cloud_init=True, selinux=None)
    rows = side_by_side(guest, [VIRTIO], [
        DetectionItem("GUESTOS.Virtio", "NotSupported", "High", "Virtio.NotSupported"),
        DetectionItem("GUESTOS.CloudInit", "Installed"),
        DetectionItem("GUESTOS.Selinux", "Enforcing", "Medium"),
        DetectionItem("GUESTOS.Grub", "Normal"),
    ])
    assert [(r.item, r.predicted, r.actual, r.agree) for r in rows] == [
        ("GUESTOS.Virtio", "High", "High", True),
        ("GUESTOS.CloudInit", "none", "none", True),
        ("GUESTOS.Selinux", None, "Medium", None),   # selinux unknown: no prediction
        ("GUESTOS.Grub", None, "none", None),
    ]
    missing = side_by_side(guest, [VIRTIO], [DetectionItem("GUESTOS.Grub", "Normal")])
    assert (missing[-1].item, missing[-1].predicted, missing[-1].actual, missing[-1].agree) == (
        "GUESTOS.Virtio", "High", "none", False)


def test_an_event_cuts_a_hostile_disks_long_lists_and_the_record_keeps_them() -> None:
    from imagedrop.model.status import StatusRecord

    devices = [f"/dev/sd{i} on /m{i}" for i in range(2000)]
    guest = GuestFacts(os_type="linux", fstab_devices=devices, notes=["n"] * 3)
    record = StatusRecord(id="i", state="importing", bucket="b", manifest="k.json",
                          region="cn-hangzhou", guest=guest)
    data = record.summary()["guest"]
    assert isinstance(data, dict)
    assert data["fstab_devices"][:10] == devices[:10]
    assert data["fstab_devices"][10] == "… and 1990 more"
    assert data["notes"] == ["n"] * 3
    assert record.guest is not None and len(record.guest.fstab_devices or []) == 2000
    assert len(json.dumps(record.summary())) < 8 * 1024


def test_an_unknown_architecture_is_refused_with_its_own_reason_not_another_facts():
    guest = GuestFacts(os_type="linux", distro="debian", platform="Debian", notes=[
        "cloud_init: a read failed while looking, so 'absent' is not certain",
        "architecture: no ELF executable (/bin/sh, /usr/bin/bash, /sbin/init) or kernel module "
        "could be read (/bin/sh: cannot be read (over the budget))"])
    problems = fill_from_disk(manifest(), disk(guest))
    assert isinstance(problems, list) and [p.where for p in problems] == ["architecture"]
    assert "no ELF executable" in problems[0].rule and "cloud_init" not in problems[0].rule


def test_an_unknown_architecture_without_a_note_of_its_own_names_no_other_fact():
    guest = GuestFacts(os_type="linux", distro="debian", platform="Debian",
                       notes=["cloud_init: a read failed while looking"])
    problems = fill_from_disk(manifest(), disk(guest))
    assert isinstance(problems, list)
    assert "no architecture could be read" in problems[0].rule
    assert "cloud_init" not in problems[0].rule
