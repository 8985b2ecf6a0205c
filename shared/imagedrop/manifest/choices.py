"""The closed sets of values a manifest may use, with the misspellings people actually write."""

from __future__ import annotations

# ECS ImportImage `Platform`, exact spelling (ECS API 2014-05-26).
LINUX_PLATFORMS: tuple[str, ...] = (
    "Aliyun", "Anolis", "CentOS", "Ubuntu", "CoreOS", "SUSE", "Debian", "OpenSUSE", "FreeBSD",
    "RedHat", "Kylin", "UOS", "Fedora", "Fedora CoreOS", "CentOS Stream", "AlmaLinux",
    "Rocky Linux", "Gentoo", "Customized Linux", "Others Linux",
)
WINDOWS_PLATFORMS: tuple[str, ...] = (
    "Windows Server 2022", "Windows Server 2019", "Windows Server 2016", "Windows Server 2012",
    "Windows Server 2008", "Windows Server 2003", "Other Windows",
)
PLATFORMS: tuple[str, ...] = LINUX_PLATFORMS + WINDOWS_PLATFORMS

# Platforms the ECS image check does not support: an import of these skips the check.
IMAGE_CHECK_UNSUPPORTED: frozenset[str] = frozenset({
    "Gentoo", "FreeBSD", "CoreOS", "Fedora CoreOS", "Customized Linux",
    "Windows Server 2003", "Windows Server 2008",
})

PLATFORM_ALIASES: dict[str, str] = {
    "alibaba cloud linux": "Aliyun", "alinux": "Aliyun", "aliyun linux": "Aliyun",
    "rhel": "RedHat", "red hat": "RedHat", "red hat enterprise linux": "RedHat",
    "rocky": "Rocky Linux", "rockylinux": "Rocky Linux", "alma": "AlmaLinux",
    "alma linux": "AlmaLinux", "sles": "SUSE", "suse linux": "SUSE", "opensuse leap": "OpenSUSE",
    "centos-stream": "CentOS Stream", "fcos": "Fedora CoreOS", "uniontech": "UOS",
    "linux": "Others Linux", "other linux": "Others Linux", "windows": "Other Windows",
    "others windows": "Other Windows",
}

OS_TYPES: tuple[str, ...] = ("linux", "windows")
ARCHITECTURES: tuple[str, ...] = ("x86_64", "i386", "arm64")
ARCHITECTURE_ALIASES: dict[str, str] = {
    "amd64": "x86_64", "x86-64": "x86_64", "x64": "x86_64", "x86_64": "x86_64",
    "aarch64": "arm64", "arm": "arm64", "armv8": "arm64", "arm64": "arm64",
    "x86": "i386", "i686": "i386", "i586": "i386", "i486": "i386", "x86_32": "i386", "386": "i386",
}
LICENSE_TYPES: tuple[str, ...] = ("Auto", "Aliyun", "BYOL")
BOOT_MODES: tuple[str, ...] = ("BIOS", "UEFI")
BOOT_MODE_ALIASES: dict[str, str] = {"legacy": "BIOS", "efi": "UEFI", "uefi-preferred": "UEFI"}
NVME_SUPPORT: tuple[str, ...] = ("auto", "supported", "unsupported")
IMDS_SUPPORT: tuple[str, ...] = ("v1", "v2")
PREFLIGHT_MODES: tuple[str, ...] = ("report", "strict")

DISK_FORMATS: tuple[str, ...] = ("qcow2", "vhd", "raw", "vmdk")
# "vpc" is qemu-img's name for VHD.
DISK_FORMAT_ALIASES: dict[str, str] = {"img": "raw", "qcow2": "qcow2", "vpc": "vhd"}
# Formats that are recognised but never importable, with what to do instead.
CONVERT_FIRST: dict[str, str] = {
    "vhdx": "qemu-img convert -O qcow2 in.vhdx out.qcow2",
    "vdi": "qemu-img convert -O qcow2 in.vdi out.qcow2",
}

# Unknown manifest fields people write for a known one: API wire names and short forms. Keys are
# lower case; exact and near spellings are found without them.
MANIFEST_FIELD_ALIASES: dict[str, str] = {
    "name": "image_name", "imagename": "image_name", "os": "os_type", "arch": "architecture",
    "license": "license_type", "boot": "boot_mode", "disk_format": "format",
    "image_format": "format", "system_disk_size": "system_disk_gib",
    "disk_size": "system_disk_gib", "size_gib": "system_disk_gib", "size": "system_disk_gib",
    "diskimagesize": "system_disk_gib", "diskdevicemapping": "data_disks",
    "disks": "data_disks", "tag": "tags", "regionid": "region",
    "detectionstrategy": "image_check", "family": "image_family",
    "resource_group": "resource_group_id", "nvme": "nvme_support", "imds": "imds_support",
    "regions": "copy_to_regions", "copy_regions": "copy_to_regions",
    "destinationregionid": "copy_to_regions", "accounts": "share_with_accounts",
    "share_accounts": "share_with_accounts", "addaccount": "share_with_accounts",
    "delete_source": "delete_source_on_success", "schema": "$schema",
}
DATA_DISK_FIELD_ALIASES: dict[str, str] = {
    "key": "object", "ossobject": "object", "oss_object": "object", "path": "object",
    "size": "size_gib", "disk_size": "size_gib", "diskimagesize": "size_gib",
    "disk_image_size": "size_gib", "disk_format": "format",
}

MAX_DATA_DISKS = 16
MAX_TAGS = 20
MAX_COPY_REGIONS = 50
MAX_SHARE_ACCOUNTS = 100
SCHEMA_VERSIONS: tuple[int, ...] = (1,)

# ECS Image Builder `RepairItem` values (RepairMode=Customized), per OS.
REPAIR_MODES: tuple[str, ...] = ("off", "auto")
LINUX_REPAIR_ITEMS: tuple[str, ...] = ("fstab", "grub", "dhcp", "selinux", "growpart", "cloudinit",
                                       "aegis", "nvme", "virtio", "standardizedtimezone")
WINDOWS_REPAIR_ITEMS: tuple[str, ...] = ("bcd", "hotfix", "disk", "update", "server", "bootmgr",
                                         "vminit", "osloader", "virtio", "standardizedtimezone")
REPAIR_ITEMS: tuple[str, ...] = tuple(dict.fromkeys(LINUX_REPAIR_ITEMS + WINDOWS_REPAIR_ITEMS))
