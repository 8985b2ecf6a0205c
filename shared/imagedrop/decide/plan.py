"""From a manifest, the objects' facts and their inspection to an ImportImage request, or a
rejection that says exactly why (pure: no I/O, no SDK).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from imagedrop_disk.facts.model import Finding, GuestFacts
from imagedrop_disk.model import Inspection
from .archived import ReadState, read_state, restore_problem
from .guest_match import Filled, contradictions, fill_from_disk, preflight_refusals
from ..manifest import Manifest
from ..model.status import DiskRecord, Problem

GIB = 1024**3
MAX_DISK_GIB = 2048


@dataclass(frozen=True)
class DiskFacts:
    key: str
    role: Literal["system", "data"]
    size: int
    etag: str
    inspection: Inspection | None = None
    inspect_error: str | None = None
    storage_class: str = ""
    read_state: ReadState | None = None   # None: from the storage class alone (archived: frozen)
    wanted_format: str | None = None
    wanted_gib: int | None = None
    field: str = "system_disk_gib"  # the manifest field that sizes this disk


@dataclass(frozen=True)
class ImportPlan:
    request: dict[str, Any]          # ImportImage parameters, wire names, nested as the SDK maps them
    disks: list[DiskRecord]
    detection: bool
    detected_boot_mode: str | None
    notes: list[str] = field(default_factory=list)
    manifest: Manifest | None = None   # as imported: the left-out fields filled from the disk
    filled: dict[str, dict[str, str | None]] = field(default_factory=dict)
    guest: GuestFacts | None = None
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Rejection:
    problems: list[Problem]
    guest: GuestFacts | None = None
    findings: list[Finding] = field(default_factory=list)


def import_id(bucket: str, manifest_key: str, manifest_version: str,
              disks: list[tuple[str, str]]) -> str:
    """Stable id of one import: the same upload of the manifest (ETag and Last-Modified) over the
    same disks (key, ETag) always gives the same id (ClientToken ≤ 64)."""
    material = json.dumps([bucket, manifest_key, manifest_version, sorted(disks)], separators=(",", ":"))
    return "idp-" + hashlib.sha256(material.encode()).hexdigest()[:40]


def gib_needed(disk: DiskFacts) -> int:
    virtual = disk.inspection.virtual_size if disk.inspection else 0
    return max(1, math.ceil(max(virtual, disk.size) / GIB))


def _disk_problems(disk: DiskFacts, manifest: Manifest, bucket: str) -> list[Problem]:
    where = f"oss object {disk.key}"
    state = disk.read_state or read_state(disk.storage_class, "")
    if state != "readable":
        return [restore_problem(bucket, disk.key, disk.storage_class, state)]
    if disk.size == 0:
        return [Problem(where=where, code="InvalidOSSObject.Size", rule="is empty (0 bytes)",
                        fix="upload the disk image again; the upload probably failed")]
    if disk.inspect_error or disk.inspection is None:
        return [Problem(where=where, rule=disk.inspect_error or "could not be read as a disk image",
                        fix="check that this is the disk image you meant to upload (qemu-img info)")]
    ins = disk.inspection
    problems = [Problem.from_text(where, p, "check it with qemu-img info, convert or rebuild it, then upload "
                                            "it and the manifest again") for p in ins.problems] if not ins.importable else []
    if not ins.importable and not problems:
        problems.append(Problem(where=where, rule=f"a {ins.format} image cannot be imported",
                                fix="convert it with qemu-img convert -O qcow2"))
    if problems:
        return problems
    if disk.role == "system" and ins.partition_table == "none" and ins.os_type is None:
        # ECS imports it and its image check then says GUESTOS.SystemImage (nothing to boot).
        return [Problem(where=where, code="GUESTOS.SystemImage",
                        rule=f"is a {ins.format} image with no partition table and no file system "
                             "imagedrop recognises, so nothing on it can boot: it is not a "
                             "system disk",
                        fix="upload the disk of an installed system (check it with qemu-img info "
                            "and virt-filesystems), or list this disk under data_disks of a "
                            "manifest whose system disk is one")]
    if disk.wanted_format and disk.wanted_format != ins.format:
        field_name = "format" if disk.role == "system" else f"{disk.field.rsplit('.', 1)[0]}.format"
        problems.append(Problem(where=field_name,
                                rule=f"says {disk.wanted_format} but {disk.key} is a {ins.format} image",
                                fix=f"set it to {ins.format} or remove it to let imagedrop detect the format"))
    needed = gib_needed(disk)
    if needed > MAX_DISK_GIB:
        problems.append(Problem(where=where, code="InvalidImageSize",
                                rule=f"needs {needed} GiB but ECS imports disks of at most {MAX_DISK_GIB} GiB",
                                fix="shrink the disk (virt-resize, or a smaller virtual size) before importing"))
    elif disk.wanted_gib is not None and disk.wanted_gib < needed:
        virtual = ins.virtual_size / GIB
        problems.append(Problem(where=disk.field, code="InvalidImageSize",
                                rule=(f"{disk.wanted_gib} GiB is smaller than {disk.key} needs: virtual size "
                                      f"{virtual:.2f} GiB, file size {disk.size / GIB:.2f} GiB"),
                                fix=f"set it to at least {needed}, or leave it out to use {needed}"))
    return problems


def _guest_problems(manifest: Manifest, system: Inspection, *, os_type_written: bool) -> list[Problem]:
    problems: list[Problem] = []
    read = system.guest.os_type if system.guest else None
    if os_type_written and not read and system.os_type and system.os_type != manifest.os_type:
        problems.append(Problem(where="os_type",
                                rule=f"says {manifest.os_type} but the system disk's partitions are {system.os_type}'s",
                                fix=f"set os_type to {system.os_type} (and a matching platform), or upload the right disk"))
    detected = system.boot_mode
    wanted = manifest.boot_mode
    if wanted == "BIOS" and detected == "UEFI":
        problems.append(Problem(where="boot_mode", rule="says BIOS but the disk only boots with UEFI (an EFI "
                                "system partition and no BIOS boot partition)",
                                fix="set boot_mode to UEFI or remove it"))
    if wanted == "UEFI" and detected == "BIOS":
        problems.append(Problem(where="boot_mode", rule="says UEFI but the disk has no EFI system partition",
                                fix="set boot_mode to BIOS or remove it"))
    if manifest.architecture == "arm64" and detected == "BIOS":
        problems.append(Problem(where="architecture", rule="arm64 images boot only with UEFI but this disk "
                                "has no EFI system partition", fix="rebuild the disk with an EFI system partition"))
    return problems


def _boot_mode(manifest: Manifest, detected: str | None) -> str | None:
    """What ImportImage is told. UEFI-Preferred is not an import value: import as BIOS (the API's
    default) and let the poller set UEFI-Preferred with ModifyImageAttribute."""
    if manifest.effective_boot_mode:
        return manifest.effective_boot_mode
    if detected in ("UEFI", "BIOS"):
        return detected
    if detected == "UEFI-Preferred":
        return "BIOS"
    return None


def plan_import(manifest: Manifest, *, manifest_key: str, bucket: str, bucket_region: str,
                function_region: str, disks: list[DiskFacts], import_role: str,
                client_token: str, repair_policy: str = "off") -> ImportPlan | Rejection:
    problems: list[Problem] = []
    if repair_policy == "forbid" and manifest.repair not in (None, "off"):
        problems.append(Problem(
            where="repair", rule=f"asks for {json.dumps(manifest.repair)} but this deployment "
            "forbids repairs (IMAGEDROP_REPAIR=forbid: a repair bills a temporary instance)",
            fix="remove repair or set it to \"off\", or ask the operator to allow repairs, then "
                "upload the manifest again"))
    if bucket_region != function_region:
        problems.append(Problem(where=f"bucket {bucket}", code="InvalidOSSBucket.NotFound",
                                rule=f"is in {bucket_region} but imagedrop imports into {function_region}; "
                                     "ECS reads images only from a bucket in its own region",
                                fix=f"use the imagedrop deployment of {bucket_region}, or copy the objects to a "
                                    f"bucket in {function_region}"))
    if manifest.region and manifest.region != bucket_region:
        problems.append(Problem(where="region", rule=f"says {manifest.region} but the bucket is in {bucket_region}",
                                fix=f"set region to {bucket_region} or remove it; to have the image in "
                                    f"{manifest.region} too, list it in copy_to_regions"))
    for disk in disks:
        problems += _disk_problems(disk, manifest, bucket)
    system = disks[0].inspection if disks else None
    guest, findings = (system.guest, list(system.findings)) if system else (None, [])
    filled = Filled(manifest)
    if system and not problems:
        written = manifest
        problems += contradictions(written, system)
        outcome = fill_from_disk(written, system)
        if isinstance(outcome, list):
            problems += outcome
        else:
            filled = outcome
            manifest = outcome.manifest
        problems += _guest_problems(manifest, system, os_type_written=written.os_type is not None)
        problems += preflight_refusals(manifest, findings)
    if problems or system is None:
        return Rejection(problems or [Problem(where=manifest_key, rule="no system disk")],
                         guest=guest, findings=findings)

    detected = system.boot_mode
    detection = manifest.wants_image_check
    notes = []
    if manifest.image_check and not detection:
        notes.append(f"image check skipped: ECS does not check {manifest.platform} images")
    mappings = []
    records = []
    for disk in disks:
        assert disk.inspection is not None
        gib = disk.wanted_gib or gib_needed(disk)
        mappings.append({"OSSBucket": bucket, "OSSObject": disk.key,
                         "Format": disk.inspection.format.upper(), "DiskImageSize": gib})
        records.append(DiskRecord(key=disk.key, role=disk.role, etag=disk.etag, size=disk.size,
                                  format=disk.inspection.format, virtual_size=disk.inspection.virtual_size,
                                  disk_gib=gib))
    request: dict[str, Any] = {
        "RegionId": function_region,
        "ImageName": manifest.image_name,
        "Description": manifest.description or f"Imported by imagedrop from oss://{bucket}/{manifest_key}"[:256],
        "Architecture": manifest.architecture,
        "OSType": manifest.os_type,
        "Platform": manifest.platform,
        "RoleName": import_role,
        "ClientToken": client_token,
        "DiskDeviceMapping": mappings,
    }
    boot = _boot_mode(manifest, detected)
    if boot:
        request["BootMode"] = boot
    if manifest.os_type == "windows" and manifest.license_type:
        request["LicenseType"] = manifest.license_type
    if detection:
        request["DetectionStrategy"] = "Standard"
    if manifest.resource_group_id:
        request["ResourceGroupId"] = manifest.resource_group_id
    features = {k: v for k, v in (("NvmeSupport", manifest.nvme_feature),
                                  ("ImdsSupport", manifest.imds_support)) if v}
    if features:
        request["Features"] = features
    if manifest.tags:
        request["Tag"] = [{"Key": k, "Value": v} for k, v in manifest.tag_pairs]
    return ImportPlan(request=request, disks=records, detection=detection,
                      detected_boot_mode=detected, notes=notes, manifest=manifest,
                      filled=filled.filled, guest=guest, findings=findings)


@dataclass(frozen=True)
class WantedDisk:
    """A disk the manifest names, and what the manifest says about it."""

    key: str
    role: Literal["system", "data"]
    format: str | None      # the format the manifest states, if any
    size_gib: int | None    # the size the manifest asks for, if any
    field: str              # the manifest field that sizes this disk


def wanted_disks(manifest: Manifest, manifest_key: str) -> list[WantedDisk]:
    """Every disk the manifest names, the system disk first."""
    keys = manifest.disk_keys(manifest_key)
    out = [WantedDisk(keys[0], "system", manifest.format, manifest.system_disk_gib,
                      "system_disk_gib")]
    for i, (key, disk) in enumerate(zip(keys[1:], manifest.data_disks, strict=True)):
        out.append(WantedDisk(key, "data", disk.format, disk.size_gib, f"data_disks[{i}].size_gib"))
    return out
