"""The ECS Platform value for each os-release ID (and the conditions that split an ID)."""

from __future__ import annotations

import pytest

from imagedrop_disk.facts.platform import platform_for_linux


@pytest.mark.parametrize("distro, name, variant, platform", [
    ("alinux", "Alibaba Cloud Linux 3 (Soaring Falcon)", None, "Aliyun"),
    ("aliyun", None, None, "Aliyun"),
    ("anolis", "Anolis OS 8.8", None, "Anolis"),
    ("centos", "CentOS Linux 7 (Core)", None, "CentOS"),
    ("centos", "CentOS Stream 9", None, "CentOS Stream"),
    ("rhel", "Red Hat Enterprise Linux 9.3 (Plow)", None, "RedHat"),
    ("almalinux", None, None, "AlmaLinux"),
    ("rocky", None, None, "Rocky Linux"),
    ("fedora", "Fedora Linux 39 (Server Edition)", "server", "Fedora"),
    ("fedora", "Fedora CoreOS 39", "coreos", "Fedora CoreOS"),
    ("ubuntu", None, None, "Ubuntu"),
    ("debian", None, None, "Debian"),
    ("opensuse-leap", None, None, "OpenSUSE"),
    ("opensuse-tumbleweed", None, None, "OpenSUSE"),
    ("opensuse", None, None, "OpenSUSE"),
    ("sles", None, None, "SUSE"), ("sles_sap", None, None, "SUSE"), ("sled", None, None, "SUSE"),
    ("kylin", None, None, "Kylin"), ("uos", None, None, "UOS"),
    ("coreos", None, None, "CoreOS"), ("gentoo", None, None, "Gentoo"),
    ("ol", "Oracle Linux Server 8.9", None, "Others Linux"),
    ("amzn", None, None, "Others Linux"), ("openEuler", None, None, "Others Linux"),
    ("arch", None, None, "Others Linux"), ("linux", "Linux", None, "Others Linux"),
    ("Ubuntu", None, None, "Ubuntu"),
])
def test_platform_for_each_id(distro, name, variant, platform):
    assert platform_for_linux(distro, name, variant) == platform


def test_unknown_distribution_has_no_platform():
    assert platform_for_linux(None) is None
    assert platform_for_linux("") is None
