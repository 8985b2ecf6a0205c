"""The ImportImage request rules ECS applies before it starts a task (pure).

`parse_import` turns decoded query parameters into an `ImportRequest` or raises the
`ServiceError` real ECS answers. State-dependent checks (OSS, duplicates, role) live in the backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from ...core import ServiceError
from .. import errors
from . import params as p

ARCHITECTURES = ("i386", "x86_64", "arm64")
OS_TYPES = ("windows", "linux")
PLATFORMS = ("Aliyun", "Anolis", "CentOS", "Ubuntu", "CoreOS", "SUSE", "Debian", "OpenSUSE", "FreeBSD",
             "RedHat", "Kylin", "UOS", "Fedora", "Fedora CoreOS", "CentOS Stream", "AlmaLinux",
             "Rocky Linux", "Gentoo", "Customized Linux", "Others Linux", "Windows Server 2022",
             "Windows Server 2019", "Windows Server 2016", "Windows Server 2012",
             "Windows Server 2008", "Windows Server 2003", "Other Windows")
# Platforms without a license ECS can sell: only bring-your-own works (a modelled rule).
BYOL_ONLY_PLATFORMS = ("Others Linux", "Customized Linux", "Other Windows", "Gentoo", "FreeBSD")
# Windows versions the image check does not support.
CHECK_UNSUPPORTED_WINDOWS = ("Windows Server 2003", "Windows Server 2008")
FORMATS = ("RAW", "VHD", "QCOW2", "VMDK")
BOOT_MODES = ("BIOS", "UEFI")
LICENSE_TYPES = ("Auto", "Aliyun", "BYOL")
MAX_DISKS = 17
DISK_GIB = (1, 2048)
_NAME_CHARS = re.compile(r"^[\w.:\-]+$")     # \w covers letters of any script, digits and _
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def check_name(value: str, code: str = "InvalidImageName.Malformed", what: str = "Image name") -> None:
    rule = ("2-128 characters, starting with a letter, made of letters, digits, '.', ':', '_' "
            "and '-', not starting with 'aliyun', 'acs:', 'http://' or 'https://'")
    lowered = value.lower()
    if (not 2 <= len(value) <= 128 or not value[0].isalpha() or not _NAME_CHARS.match(value)
            or lowered.startswith(("aliyun", "acs:", "http://", "https://"))):
        raise errors.malformed(code, what, f"{value!r} breaks the rule ({rule})")


def check_description(value: str) -> None:
    if not 2 <= len(value) <= 256 or value.lower().startswith(("http://", "https://")):
        raise errors.malformed("InvalidDescription.Malformed", "Image description",
                   "2-256 characters, not starting with http:// or https://")


def check_choice(value: str, choices: tuple[str, ...], code: str, what: str) -> None:
    if value not in choices:
        raise errors.malformed(code, what, f"{value!r} is not one of {', '.join(choices)}")


@dataclass
class DiskSpec:
    index: int
    bucket: str
    object: str
    format: str          # "" = detect
    size_gib: int | None


@dataclass
class ImportRequest:
    region: str
    name: str
    disks: list[DiskSpec]
    description: str = ""
    architecture: str = "x86_64"
    os_type: str = "linux"
    platform: str = "Others Linux"
    boot_mode: str = "BIOS"
    license_type: str = "Auto"
    detection: bool = False
    role_name: str = ""
    client_token: str = ""
    nvme_support: str = "unsupported"
    imds_support: str = "v1"
    tags: list[tuple[str, str]] = field(default_factory=list)
    resource_group_id: str = ""
    dry_run: bool = False


def check_client_token(token: str) -> None:
    if len(token) > 64 or not token.isascii():
        raise ServiceError(400, "InvalidClientToken.Malformed",
                           "The specified ClientToken is wrongly formed: at most 64 ASCII characters.")


def _disks(params: Mapping[str, str]) -> list[DiskSpec]:
    entries = {n: e for n, e in p.indexed(params, "DiskDeviceMapping").items() if 1 <= n <= MAX_DISKS}
    if not entries:
        raise ServiceError(403, "MissingParameter.DiskDeviceMapping",
                           'An input parameter "DiskDeviceMapping" that is mandatory for processing '
                           "the request is not supplied: give at least DiskDeviceMapping.1 (the system disk).")
    if 1 not in entries:
        raise errors.missing("DiskDeviceMapping.1.OSSBucket")
    disks: list[DiskSpec] = []
    for n, entry in entries.items():
        for sub in ("OSSBucket", "OSSObject"):
            if not entry.get(sub):
                raise errors.missing(f"DiskDeviceMapping.{n}.{sub}")
        if not _BUCKET.match(entry["OSSBucket"]):
            raise errors.malformed("InvalidOSSBucket.Malformed", "OSS bucket",
                       f"{entry['OSSBucket']!r} in DiskDeviceMapping.{n}.OSSBucket is not a bucket name")
        if entry["OSSObject"].startswith(("/", "\\")) or len(entry["OSSObject"].encode()) > 1023:
            raise errors.malformed("InvalidOSSObject.Malformed", "OSS object",
                       f"DiskDeviceMapping.{n}.OSSObject must be a key of 1-1023 bytes not starting with '/'")
        fmt = entry.get("Format", "").upper()
        if fmt and fmt not in FORMATS:
            raise errors.malformed("InvalidImageFormat.Malformed", "Image Format",
                       f"DiskDeviceMapping.{n}.Format {entry['Format']!r} is not one of {', '.join(FORMATS)}")
        raw_size = entry.get("DiskImageSize") or entry.get("DiskImSize") or ""
        size = _disk_size(n, raw_size)
        disks.append(DiskSpec(n, entry["OSSBucket"], entry["OSSObject"], fmt, size))
    return disks


def _disk_size(n: int, raw: str) -> int | None:
    if not raw:
        return None
    low, high = DISK_GIB
    ok = raw.isdigit() and low <= int(raw) <= high
    if ok:
        return int(raw)
    if n == 1:
        raise ServiceError(400, "InvalidImageSize",
                           f"The specified DiskDeviceMapping.1.DiskImageSize {raw!r} should be in the "
                           f"range {low}-{high} (GiB).")
    raise ServiceError(400, "InvalidDataDiskSize",
                       f"The specified DiskDeviceMapping.{n}.DiskImSize should be in the specified range: "
                       f"{raw!r} is not {low}-{high} (GiB).")


def parse_import(params: Mapping[str, str]) -> ImportRequest:
    region = p.required(params, "RegionId")
    req = ImportRequest(region=region, name=params.get("ImageName", ""), disks=[])
    if req.name:
        check_name(req.name)
    req.description = params.get("Description", "")
    if req.description:
        check_description(req.description)
    req.architecture = params.get("Architecture") or "x86_64"
    check_choice(req.architecture, ARCHITECTURES, "InvalidArchitecture.Malformed", "Architecture")
    req.os_type = params.get("OSType") or "linux"
    check_choice(req.os_type, OS_TYPES, "InvalidOSType.Malformed", "OSType")
    req.platform = params.get("Platform") or "Others Linux"
    check_choice(req.platform, PLATFORMS, "InvalidPlatform.Malformed", "Platform")
    req.boot_mode = params.get("BootMode") or ("UEFI" if req.architecture == "arm64" else "BIOS")
    check_choice(req.boot_mode, BOOT_MODES, "InvalidBootMode.Malformed", "BootMode")
    if req.architecture == "arm64" and req.boot_mode != "UEFI":
        raise ServiceError(400, "InvalidBootMode.NotSupport",
                           "The specified BootMode is not supported: arm64 images boot in UEFI mode only; "
                           "set BootMode=UEFI.")
    req.license_type = params.get("LicenseType") or "Auto"
    if req.license_type not in LICENSE_TYPES:
        raise ServiceError(400, "InvalidLicenseType.NotSupported",
                           f"The specified LicenseType {req.license_type!r} is not supported: use "
                           f"{', '.join(LICENSE_TYPES)}.")
    if req.license_type == "Aliyun" and req.platform in BYOL_ONLY_PLATFORMS:
        raise ServiceError(400, "InvalidLicenseType.BYOLOnly",
                           f"Platform {req.platform!r} only supports LicenseType BYOL (or Auto).")
    strategy = params.get("DetectionStrategy", "")
    if strategy and strategy != "Standard":
        raise ServiceError(400, "InvalidParameter.DetectionStrategy",
                           f"The specified DetectionStrategy {strategy!r} is not valid: only Standard is supported.")
    req.detection = strategy == "Standard"
    if req.detection and req.platform in CHECK_UNSUPPORTED_WINDOWS:
        # Modelled: ECS does not check these Windows versions, and this is the ImportImage error
        # for it. The Linux platforms the check does not support get no error.
        raise ServiceError(403, "ImageCheckUnsupported.WindowsImage",
                           f"Image check is unsupported for windows image: {req.platform} cannot be "
                           "checked; import it without DetectionStrategy.")
    req.nvme_support = params.get("Features.NvmeSupport") or "unsupported"
    check_choice(req.nvme_support, ("supported", "unsupported"), "InvalidParameter.FeaturesNvmeSupport",
                 "Features.NvmeSupport")
    req.imds_support = params.get("Features.ImdsSupport") or "v1"
    if req.imds_support not in ("v1", "v2"):
        raise ServiceError(400, "InvalidParameter.FeaturesImdsSupport",
                           f"The specified Features.ImdsSupport {req.imds_support!r} is not valid: use v1 or v2.")
    req.client_token = params.get("ClientToken", "")
    check_client_token(req.client_token)
    req.role_name = params.get("RoleName", "")
    req.resource_group_id = params.get("ResourceGroupId", "")
    req.tags = p.tags(params)
    req.dry_run = p.boolean(params, "DryRun")
    req.disks = _disks(params)
    return req
