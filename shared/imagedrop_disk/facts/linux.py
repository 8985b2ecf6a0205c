"""The facts of a Linux guest, read from its files."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..fs.api import GuestFiles
from ..work import Work
from . import yamlish
from .boot import Cmdline, kernel_cmdline
from .fstab import FSTAB_LIMIT, Fstab, parse_fstab, spec_kind
from .kernel_arch import kernel_architecture
from .kernels import drivers_available, installed_kernels, read_architecture
from .model import GuestFacts
from .network import pinning_rules, primary_nic
from .platform import platform_for_linux
from .release import read_release
from .text import key_values, lines

T = TypeVar("T")

CLOUD_INIT_MARKERS = (
    "/usr/bin/cloud-init", "/etc/cloud/cloud.cfg",
    "/usr/lib/systemd/system/cloud-init.service", "/lib/systemd/system/cloud-init.service",
    "/usr/lib/systemd/system/cloud-init-local.service",
    "/lib/systemd/system/cloud-init-local.service",
)
SERIAL_CONSOLES = ("ttyS", "ttyAMA")
GROWPART = ("/usr/bin/growpart", "/usr/sbin/growpart")
DRIVERS = ("virtio_blk", "virtio_net", "nvme")
MAX_CLOUD_CFG = 64
FACT_SHARE = 0.5     # of the work left, what one fact may spend before it is given up


def linux_facts(files: GuestFiles, root_fs: str | None) -> GuestFacts:
    notes: list[str] = []
    watch = _Watch(files, notes)
    release = watch.fact("distro", lambda: read_release(files))
    if release is None and not watch.gave_up:
        notes.append("no release file (/etc/os-release, /usr/lib/os-release, redhat-release, "
                     "SuSE-release, lsb-release, debian_version): distribution unknown")
    kernels = watch.fact("kernel", lambda: installed_kernels(files))
    kernel = kernels[0] if kernels else None
    if kernels == []:
        notes.append("no kernel found under /boot or /lib/modules: kernel and drivers unknown")
    cmdline = watch.fact("kernel command line", lambda: kernel_cmdline(files))
    if cmdline is None and not watch.gave_up:
        notes.append("no kernel command line found (grub.cfg, BLS entries, /etc/default/grub)")
    drivers = (watch.fact("virtio and nvme", lambda: watch.negative(
        lambda: drivers_available(files, kernel, DRIVERS), "drivers")) if kernel else None) or {}
    virtio = _all_of(drivers.get("virtio_blk"), drivers.get("virtio_net"))
    nvme = drivers.get("nvme")
    fstab_text = watch.fact("fstab_root", lambda: files.read_text("/etc/fstab", FSTAB_LIMIT))
    fstab = parse_fstab(fstab_text) if fstab_text is not None else None
    if fstab is None and not watch.gave_up:
        notes.append("/etc/fstab is absent")
    cloud_init = watch.fact("cloud_init", lambda: watch.negative(
        lambda: _cloud_init(files, cmdline, notes), "cloud_init"))
    facts = GuestFacts(
        os_type="linux",
        distro=release.distro if release else None,
        version=release.version if release else None,
        name=release.name if release else None,
        architecture=watch.fact("architecture", lambda: read_architecture(files, kernel)),
        kernel_architecture=watch.fact("kernel_architecture",
                                       lambda: kernel_architecture(files, kernel))
        if kernel else None,
        platform=platform_for_linux(release.distro, release.name, release.variant_id)
        if release else None,
        kernel=kernel,
        root_fs=root_fs,
        virtio=virtio,
        nvme=nvme,
        cloud_init=cloud_init,
        fstab_root=_root_kind(fstab, cmdline, notes),
        fstab_devices=fstab.device_entries if fstab is not None else None,
        grub_root=spec_kind(cmdline.value("root") or "") if cmdline else None,
        selinux=watch.fact("selinux", lambda: _selinux(files, cmdline)),
        serial_console=_serial_console(cmdline),
        growpart=watch.fact("growpart", lambda: watch.negative(
            lambda: any(files.kind(p) == "file" for p in GROWPART), "growpart")),
        rtc_local=watch.fact("rtc_local", lambda: _rtc_local(files)),
    )
    dhcp, pinned = watch.fact("dhcp", lambda: watch.negative(
        lambda: _network(files, cloud_init, notes), "network")) or (None, None)
    return facts.model_copy(update={"dhcp": dhcp, "mac_pinned": pinned,
                                    "notes": notes + files.notes[watch.start:]})


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


def _all_of(*values: bool | None) -> bool | None:
    if any(v is False for v in values):
        return False
    return True if values and all(v is True for v in values) else None


def _cloud_init(files: GuestFiles, cmdline: Cmdline | None, notes: list[str]) -> bool:
    installed = any(files.kind(p) is not None for p in CLOUD_INIT_MARKERS) \
        or _cloud_init_package(files)
    if not installed:
        return False
    if files.kind("/etc/cloud/cloud-init.disabled") is not None:
        notes.append("cloud-init is installed but disabled by /etc/cloud/cloud-init.disabled")
        return False
    if cmdline is not None and cmdline.value("cloud-init") == "disabled":
        notes.append(f"cloud-init is installed but disabled by cloud-init=disabled in "
                     f"{cmdline.source}")
        return False
    return True


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
    if pinned and nic.generated_by_cloud_init and cloud_init and _cloud_init_writes_network(files):
        notes.append(f"{nic.path} pins a MAC address but cloud-init wrote it and rewrites it "
                     f"on the new instance's first boot")
        pinned = False
    return nic.dhcp, pinned or rules is not None
