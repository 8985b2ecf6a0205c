"""The ECS ImportImage `Platform` value for a Linux guest, from its os-release ID."""

from __future__ import annotations

OTHERS_LINUX = "Others Linux"

_BY_ID = {
    "alinux": "Aliyun", "aliyun": "Aliyun", "anolis": "Anolis", "rhel": "RedHat",
    "almalinux": "AlmaLinux", "rocky": "Rocky Linux", "ubuntu": "Ubuntu", "debian": "Debian",
    "opensuse-leap": "OpenSUSE", "opensuse-tumbleweed": "OpenSUSE", "opensuse": "OpenSUSE",
    "sles": "SUSE", "sles_sap": "SUSE", "sled": "SUSE", "kylin": "Kylin", "uos": "UOS",
    "coreos": "CoreOS", "gentoo": "Gentoo",
}


def platform_for_linux(distro: str | None, name: str | None = None,
                       variant_id: str | None = None) -> str | None:
    """None when the distribution is unknown; `Others Linux` when it is known but ECS has no
    Platform value of its own for it."""
    if not distro:
        return None
    distro = distro.lower()
    if distro == "centos":
        return "CentOS Stream" if name and "stream" in name.lower() else "CentOS"
    if distro == "fedora":
        return "Fedora CoreOS" if (variant_id or "").lower() == "coreos" else "Fedora"
    return _BY_ID.get(distro, OTHERS_LINUX)
