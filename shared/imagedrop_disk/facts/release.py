"""Which distribution and version: os-release, else the older release files."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..fs.api import GuestFiles
from .text import key_values, lines

RELEASE_LIMIT = 16 * 1024


@dataclass(frozen=True)
class Release:
    distro: str
    version: str | None
    name: str | None
    variant_id: str | None = None
    source: str = "/etc/os-release"


# The first words of a redhat-release/system-release line → os-release ID.
_RH_NAMES = (
    ("centos", "centos"), ("red hat enterprise linux", "rhel"), ("almalinux", "almalinux"),
    ("rocky linux", "rocky"), ("fedora", "fedora"), ("alibaba cloud linux", "alinux"),
    ("aliyun linux", "alinux"), ("anolis", "anolis"), ("oracle linux", "ol"),
    ("amazon linux", "amzn"), ("openeuler", "openEuler"), ("scientific linux", "scientific"),
)


def read_release(files: GuestFiles) -> Release | None:
    """os-release: /etc first, /usr/lib only when /etc/os-release is absent (never merged)."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        text = files.read_text(path, RELEASE_LIMIT)
        if text is not None:
            return _from_os_release(text, path)
    for read in (_lsb, _redhat_like, _suse, _debian):
        found = read(files)
        if found:
            return found
    return None


def _from_os_release(text: str, path: str) -> Release:
    kv = key_values(text)
    return Release(distro=kv.get("ID") or "linux", version=kv.get("VERSION_ID") or None,
                   name=kv.get("PRETTY_NAME") or kv.get("NAME") or "Linux",
                   variant_id=kv.get("VARIANT_ID") or None, source=path)


def _lsb(files: GuestFiles) -> Release | None:
    kv = key_values(files.read_text("/etc/lsb-release", RELEASE_LIMIT))
    if not kv.get("DISTRIB_ID"):
        return None
    return Release(distro=kv["DISTRIB_ID"].lower().replace(" ", ""),
                   version=kv.get("DISTRIB_RELEASE") or None,
                   name=kv.get("DISTRIB_DESCRIPTION") or None, source="/etc/lsb-release")


def _first_line(files: GuestFiles, path: str) -> str | None:
    for line in lines(files.read_text(path, RELEASE_LIMIT)):
        if line:
            return line
    return None


def _redhat_like(files: GuestFiles) -> Release | None:
    for path in ("/etc/redhat-release", "/etc/system-release"):
        line = _first_line(files, path)
        if not line:
            continue
        lowered = line.lower()
        distro = next((d for prefix, d in _RH_NAMES if lowered.startswith(prefix)), None)
        if distro is None:
            continue
        match = re.search(r"release\s+([0-9][0-9A-Za-z.]*)", line)
        return Release(distro=distro, version=match.group(1) if match else None, name=line,
                       source=path)
    return None


def _suse(files: GuestFiles) -> Release | None:
    text = files.read_text("/etc/SuSE-release", RELEASE_LIMIT)
    first = next((line for line in lines(text) if line), None)
    if not first:
        return None
    kv = {k.strip().upper(): v.strip() for k, _, v in
          (line.partition("=") for line in lines(text) if "=" in line)}
    version = kv.get("VERSION")
    if version and kv.get("PATCHLEVEL", "0") not in ("", "0"):
        version = f"{version}.{kv['PATCHLEVEL']}"
    lowered = first.lower()
    if "opensuse" in lowered:
        distro = "opensuse"
    elif "enterprise desktop" in lowered:
        distro = "sled"
    elif "suse linux enterprise" in lowered:
        distro = "sles"
    else:
        return None
    return Release(distro=distro, version=version, name=first, source="/etc/SuSE-release")


def _debian(files: GuestFiles) -> Release | None:
    line = _first_line(files, "/etc/debian_version")
    if not line:
        return None
    # "12.5" on Debian itself; a codename such as "bookworm/sid" on testing and on derivatives
    # (Ubuntu), which would make "debian" a guess.
    if not re.fullmatch(r"[0-9][0-9.]*", line):
        return None
    return Release(distro="debian", version=line, name=None, source="/etc/debian_version")
