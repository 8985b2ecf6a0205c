"""The facts of a Linux guest, read from its files."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..fs.api import GuestFiles
from ..work import Work
from .boot import Cmdline, kernel_cmdline
from .cloud_init import cloud_init_enabled, cloud_init_writes_network
from .cpio_toc import INITRD_PREFIX
from .fstab import FSTAB_LIMIT, Fstab, parse_fstab, spec_kind
from .kernel_arch import kernel_architecture
from .kernels import drivers_available, installed_kernels, read_architecture
from .model import GuestFacts
from .network import pinning_rules, primary_nic
from .platform import platform_for_linux
from .release import read_release
from .text import key_values, lines
from .virtio import Virtio, virtio_from_config, virtio_from_initrd

T = TypeVar("T")

SERIAL_CONSOLES = ("ttyS", "ttyAMA")
GROWPART = ("/usr/bin/growpart", "/usr/sbin/growpart")
DRIVERS = ("virtio_blk", "virtio_net", "nvme")
FACT_SHARE = 0.5     # of the work left, what one fact may spend before it is given up


def linux_facts(files: GuestFiles, root_fs: str | None) -> GuestFacts:
    """The facts in the order they pay: those that fill a manifest (distribution, platform,
    architecture) first, so a spent read budget costs the others; the initramfs's contents,
    the dearest read, last and only when its configuration does not tell."""
    notes: list[str] = []
    watch = _Watch(files, notes)
    release = watch.fact("distro", lambda: read_release(files))
    if release is None and not watch.gave_up:
        notes.append("no release file (/etc/os-release, /usr/lib/os-release, redhat-release, "
                     "SuSE-release, lsb-release, debian_version): distribution unknown")
    architecture = watch.fact("architecture", lambda: read_architecture(files, None))
    arch_noted = watch.gave_up
    kernels = watch.fact("kernel", lambda: installed_kernels(files))
    kernel = kernels[0] if kernels else None
    if kernels == []:
        notes.append("no kernel found under /boot or /lib/modules: kernel and drivers unknown")
    if architecture is None and kernel is not None and not arch_noted:
        architecture = watch.fact("architecture", lambda: read_architecture(files, kernel))
        arch_noted = watch.gave_up
    if architecture is None and not arch_noted:
        notes.append("architecture: no ELF executable (/bin/sh, /usr/bin/bash, /sbin/init) or "
                     "kernel module could be read" + _last_failure(files, watch))
    kernel_arch = watch.fact("kernel_architecture",
                             lambda: kernel_architecture(files, kernel)) if kernel else None
    cmdline = watch.fact("kernel command line", lambda: kernel_cmdline(files))
    if cmdline is None and not watch.gave_up:
        notes.append("no kernel command line found (grub.cfg, BLS entries, /etc/default/grub)")
    fstab_text = watch.fact("fstab_root", lambda: files.read_text("/etc/fstab", FSTAB_LIMIT))
    fstab = parse_fstab(fstab_text) if fstab_text is not None else None
    if fstab is None and not watch.gave_up:
        notes.append("/etc/fstab is absent")
    drivers = (watch.fact("virtio and nvme", lambda: watch.negative(
        lambda: drivers_available(files, kernel, DRIVERS), "drivers")) if kernel else None) or {}
    virtio = (watch.fact("virtio", lambda: virtio_from_config(files, kernel, drivers))
              if kernel else None) or Virtio(None, None)
    cloud_init = watch.fact("cloud_init", lambda: watch.negative(
        lambda: cloud_init_enabled(files, cmdline, notes), "cloud_init"))
    growpart = watch.fact("growpart", lambda: watch.negative(
        lambda: any(files.kind(p) == "file" for p in GROWPART), "growpart"))
    rtc_local = watch.fact("rtc_local", lambda: _rtc_local(files))
    selinux = watch.fact("selinux", lambda: _selinux(files, cmdline))
    dhcp, pinned = watch.fact("dhcp", lambda: watch.negative(
        lambda: _network(files, cloud_init, notes), "network")) or (None, None)
    if virtio.needs_initrd and kernel:
        virtio = watch.fact("virtio", lambda: virtio_from_initrd(
            files, kernel, INITRD_PREFIX)) or Virtio(None, None)
    if virtio.value is None and virtio.because:
        notes.append(f"virtio: {virtio.because}")
    facts = GuestFacts(
        os_type="linux",
        distro=release.distro if release else None,
        version=release.version if release else None,
        name=release.name if release else None,
        architecture=architecture,
        kernel_architecture=kernel_arch,
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
        grub_root=spec_kind(cmdline.value("root") or "") if cmdline else None,
        selinux=selinux,
        serial_console=_serial_console(cmdline),
        growpart=growpart,
        rtc_local=rtc_local,
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
        work = getattr(files, "work", None)
        self.work = work if isinstance(work, Work) else None
        self.gave_up = False      # the last fact read was given up for want of work

    def fact(self, name: str, compute: Callable[[], T]) -> T | None:
        """`compute` within a share of the inspection's work; None, with a note naming the fact
        and why, when the work ran out while it looked."""
        self.gave_up = False
        if self.work is None:
            return compute()
        refused = self.work.refusals
        with self.work.share(FACT_SHARE):
            value = compute()
        if self.work.refusals > refused:
            self.gave_up = True
            self.notes.append(f"{name}: not read: {self.work.last_refusal}")
            return None
        return value

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


def _rtc_local(files: GuestFiles) -> bool | None:
    """/etc/adjtime's third line: LOCAL or UTC; None when the file does not say."""
    rows = list(lines(files.read_text("/etc/adjtime", 4096)))
    mode = rows[2].upper() if len(rows) >= 3 else ""
    return {"LOCAL": True, "UTC": False}.get(mode)


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
    if pinned and nic.generated_by_cloud_init and cloud_init and cloud_init_writes_network(files):
        notes.append(f"{nic.path} pins a MAC address but cloud-init wrote it and rewrites it "
                     f"on the new instance's first boot")
        pinned = False
    return nic.dhcp, pinned or rules is not None
