"""The facts of a Linux guest, read from its files."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..fs.api import GuestFiles
from . import yamlish
from .boot import Cmdline, kernel_cmdline
from .fstab import FSTAB_LIMIT, Fstab, parse_fstab, spec_kind
from .cpio_toc import INITRD_PREFIX
from .kernels import drivers_available, installed_kernels, read_architecture
from .model import GuestFacts
from .network import pinning_rules, primary_nic
from .platform import platform_for_linux
from .release import read_release
from .text import key_values
from .virtio import Virtio, virtio_from_config, virtio_from_initrd

T = TypeVar("T")

CLOUD_INIT_MARKERS = (
    "/usr/bin/cloud-init", "/etc/cloud/cloud.cfg",
    "/usr/lib/systemd/system/cloud-init.service", "/lib/systemd/system/cloud-init.service",
    "/usr/lib/systemd/system/cloud-init-local.service",
    "/lib/systemd/system/cloud-init-local.service",
)
SERIAL_CONSOLES = ("ttyS", "ttyAMA")
DRIVERS = ("virtio_blk", "virtio_net", "nvme")
DPKG_INFO = "/var/lib/dpkg/info"
MAX_CLOUD_CFG = 64


def linux_facts(files: GuestFiles, root_fs: str | None) -> GuestFacts:
    """The facts in the order they pay: those that fill a manifest (distribution, platform,
    architecture) first, so a spent read budget costs the others; the initramfs's contents,
    the dearest read, last and only when its configuration does not tell."""
    notes: list[str] = []
    watch = _Watch(files, notes)
    release = read_release(files)
    if release is None:
        notes.append("no release file (/etc/os-release, /usr/lib/os-release, redhat-release, "
                     "SuSE-release, lsb-release, debian_version): distribution unknown")
    architecture = read_architecture(files, None)
    kernels = installed_kernels(files)
    kernel = kernels[0] if kernels else None
    if kernel is None:
        notes.append("no kernel found under /boot or /lib/modules: kernel and drivers unknown")
    if architecture is None and kernel is not None:
        architecture = read_architecture(files, kernel)
    if architecture is None:
        notes.append("architecture: no ELF executable (/bin/sh, /usr/bin/bash, /sbin/init) or "
                     "kernel module could be read" + _last_failure(files, watch))
    cmdline = kernel_cmdline(files)
    if cmdline is None:
        notes.append("no kernel command line found (grub.cfg, BLS entries, /etc/default/grub)")
    fstab_text = files.read_text("/etc/fstab", FSTAB_LIMIT)
    fstab = parse_fstab(fstab_text) if fstab_text is not None else None
    if fstab is None:
        notes.append("/etc/fstab is absent")
    drivers = (watch.negative(lambda: drivers_available(files, kernel, DRIVERS), "drivers")
               if kernel else None) or {}
    virtio = virtio_from_config(files, kernel, drivers) if kernel else Virtio(None, None)
    cloud_init = watch.negative(lambda: _cloud_init(files, cmdline, notes), "cloud_init")
    dhcp, pinned = watch.negative(lambda: _network(files, cloud_init, notes), "network") \
        or (None, None)
    if virtio.needs_initrd and kernel:
        virtio = virtio_from_initrd(files, kernel, INITRD_PREFIX)
    if virtio.value is None and virtio.because:
        notes.append(f"virtio: {virtio.because}")
    facts = GuestFacts(
        os_type="linux",
        distro=release.distro if release else None,
        version=release.version if release else None,
        name=release.name if release else None,
        architecture=architecture,
        platform=platform_for_linux(release.distro, release.name, release.variant_id)
        if release else None,
        kernel=kernel,
        root_fs=root_fs,
        virtio=virtio.value,
        virtio_source=virtio.because,
        nvme=drivers.get("nvme"),
        cloud_init=cloud_init,
        fstab_root=_root_kind(fstab, cmdline, notes),
        fstab_devices=fstab.device_entries if fstab is not None else None,
        selinux=_selinux(files, cmdline),
        serial_console=_serial_console(cmdline),
        dhcp=dhcp,
        mac_pinned=pinned,
    )
    return facts.model_copy(update={"notes": notes + files.notes[watch.start:]})


def _last_failure(files: GuestFiles, watch: _Watch) -> str:
    failed = files.notes[watch.start:]
    return f" ({failed[-1]})" if failed else ""


class _Watch:
    """A negative answer ("not there") only counts when no read failed while looking."""

    def __init__(self, files: GuestFiles, notes: list[str]):
        self.files = files
        self.notes = notes
        self.start = len(files.notes)

    def negative(self, compute: Callable[[], T], fact: str) -> T | None:
        before = len(self.files.notes)
        value = compute()
        failed = len(self.files.notes) > before
        if failed and _says_absent(value):
            self.notes.append(f"{fact}: a read failed while looking, so 'absent' is not certain")
            return None
        return value


def _says_absent(value: object) -> bool:
    if isinstance(value, dict):
        value = tuple(value.values())
    return value is False or (isinstance(value, tuple) and False in value)


def _cloud_init(files: GuestFiles, cmdline: Cmdline | None, notes: list[str]) -> bool:
    if not _cloud_init_installed(files):
        return False
    if files.kind("/etc/cloud/cloud-init.disabled") is not None:
        notes.append("cloud-init is installed but disabled by /etc/cloud/cloud-init.disabled")
        return False
    if cmdline is not None and cmdline.value("cloud-init") == "disabled":
        notes.append(f"cloud-init is installed but disabled by cloud-init=disabled in "
                     f"{cmdline.source}")
        return False
    return True


def _cloud_init_installed(files: GuestFiles) -> bool:
    """cloud.cfg, else the package database's own word (one lookup in dpkg's file lists),
    else the files the package ships, one by one."""
    if files.kind("/etc/cloud/cloud.cfg") is not None:
        return True
    if files.kind(f"{DPKG_INFO}/base-files.list") == "file":  # dpkg installed this system
        return files.kind(f"{DPKG_INFO}/cloud-init.list") == "file"
    return any(files.kind(p) is not None for p in CLOUD_INIT_MARKERS) \
        or _cloud_init_package(files)


def _cloud_init_package(files: GuestFiles) -> bool:
    for lib in ("/usr/lib", "/usr/lib64"):
        pythons = [n for n in files.listdir(lib) or [] if n.startswith("python3")]
        for python in sorted(pythons)[:8]:
            for packages in ("site-packages", "dist-packages"):
                if files.kind(f"{lib}/{python}/{packages}/cloudinit") == "dir":
                    return True
    return False


def _cloud_init_writes_network(files: GuestFiles) -> bool:
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


def _root_kind(fstab: Fstab | None, cmdline: Cmdline | None, notes: list[str]) -> str | None:
    spec = fstab.root_spec if fstab is not None else None
    where = "/etc/fstab"
    if spec is None and cmdline is not None and cmdline.value("root"):
        spec, where = cmdline.value("root"), f"root= in {cmdline.source}"
    if spec is None:
        return None
    kind = spec_kind(spec)
    if kind is None:
        notes.append(f"{where} names / as {spec[:80]!r}, a form not recognised")
    return kind


def _selinux(files: GuestFiles, cmdline: Cmdline | None) -> str | None:
    text = files.read_text("/etc/selinux/config", 16 * 1024)
    if text is None:
        return None
    mode = key_values(text).get("SELINUX", "").lower()
    if mode not in ("enforcing", "permissive", "disabled"):
        return None
    if cmdline is not None:
        if cmdline.value("selinux") == "0":
            return "disabled"
        if mode == "enforcing" and cmdline.value("enforcing") == "0":
            return "permissive"
    return mode  # type: ignore[return-value]


def _serial_console(cmdline: Cmdline | None) -> bool | None:
    if cmdline is None:
        return None
    return any(c.startswith(SERIAL_CONSOLES) for c in cmdline.values("console"))


def _network(files: GuestFiles, cloud_init: bool | None,
             notes: list[str]) -> tuple[bool | None, bool | None]:
    nic = primary_nic(files)
    rules = pinning_rules(files)
    if rules is not None:
        notes.append(f"{rules} ties interface names to MAC addresses")
    if nic is None:
        notes.append("no network interface configuration found: DHCP unknown")
        return None, rules is not None
    pinned = nic.mac_pinned
    if pinned and nic.generated_by_cloud_init and cloud_init and _cloud_init_writes_network(files):
        notes.append(f"{nic.path} pins a MAC address but cloud-init wrote it and rewrites it "
                     f"on the new instance's first boot")
        pinned = False
    return nic.dhcp, pinned or rules is not None
