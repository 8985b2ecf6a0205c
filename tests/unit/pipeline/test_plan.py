"""plan_import: manifest + object facts + inspection → an ImportImage request or a rejection
that names the field or object, the rule and the fix. Pure: tables of cases."""

from __future__ import annotations

from typing import Any

import pytest

from imagedrop.ports import ObjectInfo
from imagedrop_disk.model import Inspection
from imagedrop.manifest import parse_manifest
from imagedrop.decide.plan import DiskFacts, ImportPlan, Rejection, import_id, plan_import, wanted_disks

GIB = 1024**3
KEY = "incoming/web.qcow2.json"
BASE: dict[str, Any] = {"image_name": "web-1", "os_type": "linux", "platform": "Ubuntu",
                        "architecture": "x86_64"}


def inspection(**changes: Any) -> Inspection:
    base: dict[str, Any] = dict(format="qcow2", virtual_size=40 * GIB, file_size=2 * GIB,
                                partition_table="gpt", boot_mode="BIOS", os_type="linux",
                                importable=True)
    base.update(changes)
    return Inspection(**base)


def plan(manifest: dict[str, Any] | None = None, *, ins: Inspection | None = None,
         size: int = 2 * GIB, data: list[Inspection] | None = None, bucket_region: str = "cn-hangzhou",
         function_region: str = "cn-hangzhou", storage_class: str = "Standard",
         inspect_error: str | None = None) -> ImportPlan | Rejection:
    m = parse_manifest(__import__("json").dumps({**BASE, **(manifest or {})}))
    disks = []
    for i, wanted in enumerate(wanted_disks(m, KEY)):
        this = (ins or inspection()) if i == 0 else (data or [])[i - 1]
        disks.append(DiskFacts(key=wanted.key, role=wanted.role, size=size, etag=f"E{i}",
                               inspection=None if inspect_error and i == 0 else this,
                               inspect_error=inspect_error if i == 0 else None,
                               storage_class=storage_class, wanted_format=wanted.format,
                               wanted_gib=wanted.size_gib, field=wanted.field))
    return plan_import(m, manifest_key=KEY, bucket="bkt", bucket_region=bucket_region,
                       function_region=function_region, disks=disks,
                       import_role="AliyunECSImageImportDefaultRole", client_token="idp-token")


def problems(outcome: ImportPlan | Rejection) -> str:
    assert isinstance(outcome, Rejection), f"expected a rejection, got {outcome}"
    return " | ".join(p.line() for p in outcome.problems)


def request(outcome: ImportPlan | Rejection) -> dict[str, Any]:
    assert isinstance(outcome, ImportPlan), problems(outcome)  # type: ignore[arg-type]
    return outcome.request


def test_every_manifest_field_reaches_the_request() -> None:
    r = request(plan({"description": "web tier", "tags": {"team": "web"}, "resource_group_id": "rg-abc",
                      "nvme_support": "supported", "imds_support": "v2", "boot_mode": "BIOS",
                      "system_disk_gib": 50}))
    assert r["RegionId"] == "cn-hangzhou"
    assert (r["ImageName"], r["OSType"], r["Platform"], r["Architecture"]) == ("web-1", "linux", "Ubuntu", "x86_64")
    assert r["Description"] == "web tier"
    assert r["Tag"] == [{"Key": "team", "Value": "web"}]
    assert r["ResourceGroupId"] == "rg-abc"
    assert r["Features"] == {"NvmeSupport": "supported", "ImdsSupport": "v2"}
    assert r["BootMode"] == "BIOS"
    assert r["DetectionStrategy"] == "Standard"
    assert r["RoleName"] == "AliyunECSImageImportDefaultRole"
    assert r["ClientToken"] == "idp-token"
    assert r["DiskDeviceMapping"] == [{"OSSBucket": "bkt", "OSSObject": "incoming/web.qcow2",
                                       "Format": "QCOW2", "DiskImageSize": 50}]
    assert "LicenseType" not in r


def test_detected_facts_fill_what_the_manifest_leaves_out() -> None:
    r = request(plan(ins=inspection(virtual_size=int(39.5 * GIB), boot_mode="UEFI")))
    assert r["BootMode"] == "UEFI"
    assert r["DiskDeviceMapping"][0]["DiskImageSize"] == 40  # virtual size rounded up
    assert r["DiskDeviceMapping"][0]["Format"] == "QCOW2"
    assert r["Description"].startswith("Imported by imagedrop from oss://bkt/")


def test_the_file_size_counts_when_larger_than_the_virtual_size() -> None:
    r = request(plan(ins=inspection(format="vhd", virtual_size=1 * GIB), size=3 * GIB + 1))
    assert r["DiskDeviceMapping"][0]["DiskImageSize"] == 4


def test_a_disk_that_boots_both_ways_is_imported_as_bios_and_fixed_later() -> None:
    outcome = plan(ins=inspection(boot_mode="UEFI-Preferred"))
    assert request(outcome)["BootMode"] == "BIOS"
    assert isinstance(outcome, ImportPlan) and outcome.detected_boot_mode == "UEFI-Preferred"


def test_arm64_imports_with_uefi() -> None:
    r = request(plan({"architecture": "arm64"}, ins=inspection(boot_mode="UEFI")))
    assert r["BootMode"] == "UEFI"


def test_windows_sends_its_license_type() -> None:
    r = request(plan({"os_type": "windows", "platform": "Windows Server 2022", "license_type": "BYOL"},
                     ins=inspection(os_type="windows", boot_mode="UEFI")))
    assert r["LicenseType"] == "BYOL"


def test_image_check_is_not_requested_where_ecs_cannot_check() -> None:
    outcome = plan({"platform": "Customized Linux"})
    assert "DetectionStrategy" not in request(outcome)
    assert isinstance(outcome, ImportPlan) and any("image check skipped" in n for n in outcome.notes)


def test_data_disks_are_mapped_after_the_system_disk() -> None:
    r = request(plan({"data_disks": [{"object": "data.raw", "size_gib": 100}]},
                     data=[inspection(format="raw", virtual_size=10 * GIB, partition_table="none",
                                      boot_mode=None, os_type=None)]))
    assert [d["OSSObject"] for d in r["DiskDeviceMapping"]] == ["incoming/web.qcow2", "incoming/data.raw"]
    assert r["DiskDeviceMapping"][1] == {"OSSBucket": "bkt", "OSSObject": "incoming/data.raw",
                                         "Format": "RAW", "DiskImageSize": 100}


@pytest.mark.parametrize("case, kwargs, expect", [
    ("bucket in another region", dict(bucket_region="eu-central-1"), "bucket bkt: is in eu-central-1"),
    ("manifest region differs", dict(manifest={"region": "cn-shanghai"}), "region: says cn-shanghai"),
    ("iso", dict(ins=inspection(format="iso", importable=False,
                                problems=["an ISO 9660 installer image; install it onto a disk first"])), "ISO"),
    ("unreadable", dict(inspect_error="not a disk image: first bytes match no known format"), "not a disk image"),
    ("archived object", dict(storage_class="Archive"), "NeedRestore"),
    ("empty object", dict(size=0), "empty"),
    ("format differs", dict(manifest={"format": "vhd"}), "format: says vhd but incoming/web.qcow2 is a qcow2"),
    ("system disk too small for the virtual size", dict(manifest={"system_disk_gib": 20}),
     "system_disk_gib: 20 GiB is smaller"),
    ("system disk smaller than the file", dict(manifest={"system_disk_gib": 2}, ins=inspection(virtual_size=GIB),
                                               size=3 * GIB), "set it to at least 3"),
    ("over 2048 GiB", dict(ins=inspection(virtual_size=3000 * GIB)), "at most 2048 GiB"),
    ("windows disk declared linux", dict(ins=inspection(os_type="windows")), "os_type: says linux"),
    ("uefi-only disk declared bios", dict(manifest={"boot_mode": "BIOS"}, ins=inspection(boot_mode="UEFI")),
     "boot_mode: says BIOS"),
    ("bios-only disk declared uefi", dict(manifest={"boot_mode": "UEFI"}), "boot_mode: says UEFI"),
    ("arm64 disk without an EFI partition", dict(manifest={"architecture": "arm64"}), "arm64"),
])
def test_rejections_name_the_field_the_rule_and_the_fix(case: str, kwargs: dict[str, Any], expect: str) -> None:
    manifest = kwargs.pop("manifest", None)
    text = problems(plan(manifest, **kwargs))
    assert expect in text, f"{case}: {text}"
    assert ";" in text, f"{case}: no fix given: {text}"


def test_a_data_disk_too_small_names_its_own_field() -> None:
    text = problems(plan({"data_disks": [{"object": "data.raw", "size_gib": 5}]},
                         data=[inspection(format="raw", virtual_size=10 * GIB)]))
    assert "data_disks[0].size_gib: 5 GiB is smaller" in text


def test_import_id_depends_on_every_object_version_and_fits_a_client_token() -> None:
    a = import_id("b", KEY, "E1", [("incoming/web.qcow2", "D1")])
    assert a == import_id("b", KEY, "E1", [("incoming/web.qcow2", "D1")])
    assert len(a) <= 64 and a.isascii()
    others = {import_id("b2", KEY, "E1", [("incoming/web.qcow2", "D1")]),
              import_id("b", KEY, "E2", [("incoming/web.qcow2", "D1")]),
              import_id("b", KEY, "E1", [("incoming/web.qcow2", "D2")])}
    assert a not in others and len(others) == 3


def test_the_same_manifest_bytes_uploaded_again_are_another_version() -> None:
    first = ObjectInfo(KEY, 10, "E1", last_modified=1_790_000_000)
    redelivered = ObjectInfo(KEY, 10, "E1", last_modified=1_790_000_000)
    again = ObjectInfo(KEY, 10, "E1", last_modified=1_790_000_060)
    ids = [import_id("b", KEY, o.version, []) for o in (first, redelivered, again)]
    assert ids[0] == ids[1] != ids[2]
    assert ObjectInfo(KEY, 10, "E1").version == "E1"  # no Last-Modified known: the ETag alone
