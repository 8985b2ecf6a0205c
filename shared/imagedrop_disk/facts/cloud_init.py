"""cloud-init: installed and enabled, and whether it writes the network configuration."""

from __future__ import annotations

from ..fs.api import GuestFiles
from . import yamlish
from .boot import Cmdline

CLOUD_INIT_MARKERS = (
    "/usr/bin/cloud-init", "/etc/cloud/cloud.cfg",
    "/usr/lib/systemd/system/cloud-init.service", "/lib/systemd/system/cloud-init.service",
    "/usr/lib/systemd/system/cloud-init-local.service",
    "/lib/systemd/system/cloud-init-local.service",
)
DPKG_INFO = "/var/lib/dpkg/info"
MAX_CLOUD_CFG = 64


def cloud_init_enabled(files: GuestFiles, cmdline: Cmdline | None, notes: list[str]) -> bool:
    if not _installed(files):
        return False
    if files.kind("/etc/cloud/cloud-init.disabled") is not None:
        notes.append("cloud-init is installed but disabled by /etc/cloud/cloud-init.disabled")
        return False
    if cmdline is not None and cmdline.value("cloud-init") == "disabled":
        notes.append(f"cloud-init is installed but disabled by cloud-init=disabled in "
                     f"{cmdline.source}")
        return False
    return True


def _installed(files: GuestFiles) -> bool:
    """cloud.cfg, else the package database's own word (one lookup in dpkg's file lists),
    else the files the package ships, one by one."""
    if files.kind("/etc/cloud/cloud.cfg") is not None:
        return True
    if files.kind(f"{DPKG_INFO}/base-files.list") == "file":  # dpkg installed this system
        return files.kind(f"{DPKG_INFO}/cloud-init.list") == "file"
    return any(files.kind(p) is not None for p in CLOUD_INIT_MARKERS) or _python_package(files)


def _python_package(files: GuestFiles) -> bool:
    for lib in ("/usr/lib", "/usr/lib64"):
        pythons = [n for n in files.listdir(lib) or [] if n.startswith("python3")]
        for python in sorted(pythons)[:8]:
            for packages in ("site-packages", "dist-packages"):
                if files.kind(f"{lib}/{python}/{packages}/cloudinit") == "dir":
                    return True
    return False


def cloud_init_writes_network(files: GuestFiles) -> bool:
    """False when cloud.cfg or cloud.cfg.d says `network: {config: disabled}`."""
    paths = ["/etc/cloud/cloud.cfg"] + [
        f"/etc/cloud/cloud.cfg.d/{n}" for n in sorted(files.listdir("/etc/cloud/cloud.cfg.d")
                                                     or [])[:MAX_CLOUD_CFG] if n.endswith(".cfg")]
    for path in paths:
        network = yamlish.parse(files.read_text(path, 64 * 1024))
        network = network.get("network") if isinstance(network, dict) else None
        if isinstance(network, dict) and str(network.get("config")).lower() == "disabled":
            return False
    return True
