"""The one catalogue of image-check items: for each item ECS's image check reports, what
imagedrop predicts it from (facts and predicate, at which risk), what a person should do
(advice), what repairs it (Image Builder's RepairItem, the OOS template's repairItems) and what
the emulator's check answers (Value when fine or at risk, RiskCode).

Findings, the check comparison, advice, repair and the emulator all read this table: a new item
is one entry. Names are as the check overview writes them (`GUESTOS.<Item>`); consumers match
them by `item_key` (`GUESTOS.CloudInit`, `CloudInit`, `cloud_init` → `cloudinit`). The
check-item → RepairItem mapping is inferred from the names: ECS documents the two lists, not
the mapping between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import predicates as p
from .model import GuestFacts, Risk


@dataclass(frozen=True)
class CheckItem:
    name: str                                  # as the check names it: GUESTOS.Virtio
    risk: Risk | None = None                   # the level imagedrop predicts it at
    facts: tuple[str, ...] = ()                # the GuestFacts it is predicted from
    predict: p.Predicate | None = None         # (fact, fix) when the facts say at risk
    linux_only: bool = False                   # the check asks it of Linux guests only
    advice: str | None = None                  # what to change in a Linux guest
    windows_advice: str | None = None          # … in a Windows guest
    repair: str | None = None                  # Image Builder RepairItem for Linux
    windows_repair: str | None = None          # … for Windows
    template_repair: str | None = None         # ACS-ECS-RepairImage repairItems (Linux only)
    fine: str = "Normal"                       # the emulator's Value when fine …
    at_risk: str = "Abnormal"                  # … and at risk
    risk_code: str = ""                        # the emulator's RiskCode (modelled)
    value_fact: str | None = None              # a fact whose value is the Value when fine

    @property
    def key(self) -> str:
        return item_key(self.name)

    def fine_value(self, facts: GuestFacts) -> str:
        value = getattr(facts, self.value_fact) if self.value_fact else None
        return str(value).capitalize() if value else self.fine


def item_key(name: str) -> str:
    """`GUESTOS.CloudInit`, `CloudInit`, `cloud_init` → `cloudinit`."""
    return name.strip().rsplit(".", 1)[-1].replace("_", "").replace("-", "").lower()


ITEMS: tuple[CheckItem, ...] = (
    # Predicted from the guest's facts, in the order findings are reported.
    CheckItem(
        "GUESTOS.Virtio", "High", ("virtio",), p.virtio, fine="Supported",
        at_risk="NotSupported", risk_code="Virtio.NotInstalled", repair="virtio",
        windows_repair="virtio", template_repair="virtio",
        advice="install the virtio drivers (virtio_blk, virtio_net, virtio_pci) and add them to "
               "the initramfs (`dracut -f --add-drivers \"virtio_blk virtio_net virtio_pci\"` or "
               "update-initramfs), otherwise the instance cannot see its disk",
        windows_advice="install the Alibaba Cloud virtio drivers for Windows before exporting "
                       "the disk"),
    CheckItem(
        "GUESTOS.Nvme", "Medium", ("nvme",), p.nvme, linux_only=True, fine="Supported",
        at_risk="NotSupported", risk_code="NVMe.NotInstalled", repair="nvme",
        template_repair="nvme",
        advice="install the NVMe driver and add it to the initramfs (`dracut -f --add-drivers "
               "nvme`), then set nvme_support to supported; until then NVMe-only instance types "
               "are not offered"),
    CheckItem(
        "GUESTOS.Fstab", "High", ("fstab_root", "fstab_devices"), p.fstab, linux_only=True,
        risk_code="Fstab.DeviceName", repair="fstab", template_repair="fstab",
        advice="mount file systems by UUID in /etc/fstab (`blkid` shows them) and drop entries "
               "for disks the instance will not have, or boot stops in emergency mode"),
    CheckItem(
        "GUESTOS.Dhcp", "High", ("dhcp", "mac_pinned"), p.dhcp, risk_code="Dhcp.NotEnabled",
        repair="dhcp", template_repair="dhcp",
        advice="configure the primary interface (eth0) for DHCP and remove fixed MAC addresses "
               "(HWADDR lines, persistent-net rules), or the instance gets no network"),
    CheckItem(
        "GUESTOS.Selinux", "Medium", ("selinux",), p.selinux, linux_only=True, fine="Disabled",
        at_risk="Enforcing", risk_code="Selinux.Enforcing", value_fact="selinux",
        repair="selinux", template_repair="selinux",
        advice="disable SELinux (SELINUX=disabled in /etc/selinux/config) or relabel the file "
               "system before export (`touch /.autorelabel`)"),
    CheckItem(
        "GUESTOS.CloudInit", "Medium", ("cloud_init",), p.cloud_init, linux_only=True,
        fine="Installed",
        at_risk="NotInstalled", risk_code="CloudInit.NotInstalled", repair="cloudinit",
        template_repair="cloudinit",
        advice="install cloud-init (with the Alibaba Cloud datasource) so host name, keys and "
               "passwords are set at first boot"),
    CheckItem(
        "GUESTOS.Grub", "High", ("grub_root",), p.grub, linux_only=True,
        risk_code="Grub.DeviceName", repair="grub", template_repair="grub",
        advice="regenerate the GRUB configuration with root=UUID=… and console=ttyS0 "
               "(`grub2-mkconfig -o /boot/grub2/grub.cfg` or `update-grub`)"),
    CheckItem(
        "GUESTOS.OnlineResizeFS", "Medium", ("growpart",), p.online_resize, linux_only=True,
        fine="Supported", at_risk="NotSupported", risk_code="OnlineResizeFS.NotInstalled",
        repair="growpart", template_repair="growpart",
        advice="install cloud-init and growpart (cloud-utils-growpart, or cloud-guest-utils on "
               "Debian and Ubuntu) so the root file system grows to the disk size at first "
               "boot"),
    CheckItem(
        "GUESTOS.RtcTimeMode", "Medium", ("rtc_local",), p.rtc_local, linux_only=True,
        fine="UTC", at_risk="LOCAL", risk_code="RtcTimeMode.Local",
        repair="standardizedtimezone", windows_repair="standardizedtimezone",
        advice="keep the hardware clock in UTC (`timedatectl set-local-rtc 0`)"),
    # Reported by the check, not predicted from the disk.
    CheckItem("GUESTOS.CloudAssistant", fine="Installed", at_risk="NotInstalled",
              template_repair="assist",
              advice="install the Cloud Assistant agent (aliyun-assist) so commands and the "
                     "repair template can reach the instance",
              windows_advice="install the Cloud Assistant agent for Windows"),
    CheckItem("GUESTOS.SecurityCenterAgent", fine="Installed", at_risk="NotInstalled",
              repair="aegis", template_repair="aegis",
              advice="install the Security Center agent (aegis) if you use Security Center"),
    CheckItem("GUESTOS.SystemImage",
              advice="the disk is not a bootable system disk (an ISO or an empty disk?): export "
                     "the system disk of a working VM and import that"),
    CheckItem("GUESTOS.SupportMocInstanceTypes",
              advice="the OS or kernel is too old for current instance families: upgrade the "
                     "kernel (or the OS release) and import again"),
    CheckItem("GUESTOS.BootMode",
              advice="the boot mode of the disk does not match the image's: set boot_mode in the "
                     "manifest to how the disk boots (UEFI needs an EFI system partition)"),
    # Windows.
    CheckItem("GUESTOS.BCD", windows_repair="bcd",
              windows_advice="repair the boot configuration (`bcdedit`/`bcdboot C:\\Windows`) so "
                             "it points at the system partition"),
    CheckItem("GUESTOS.Registry",
              windows_advice="repair the registry entries the check reported (boot drivers set "
                             "to start at boot)"),
    CheckItem("GUESTOS.Hotfix", windows_repair="hotfix",
              windows_advice="uninstall KB5009624, KB5009595, KB5009546, KB5009557, KB5009555, "
                             "KB5014738, KB5014702, KB5014692 and KB5014678 (and install "
                             "KB3033929 on 2008 R2)"),
    CheckItem("GUESTOS.Disk", windows_repair="disk",
              windows_advice="clean residual disk driver entries from the registry (old storage "
                             "filter drivers)"),
    CheckItem("GUESTOS.Sysprep",
              windows_advice="do not export a disk in the middle of Sysprep: finish or undo it "
                             "first"),
    CheckItem("GUESTOS.Update", windows_repair="update",
              windows_advice="finish pending Windows updates and reboot before exporting"),
    CheckItem("GUESTOS.Xen", windows_advice="uninstall the Xen PV drivers before exporting"),
    CheckItem("GUESTOS.Server", windows_repair="server",
              windows_advice="allow driver installation (the Server service and device install "
                             "policy)"),
    CheckItem("GUESTOS.DesktopConfig",
              windows_advice="reset the desktop configuration the check reported"),
    CheckItem("GUESTOS.BootMgr", windows_repair="bootmgr",
              windows_advice="repair the Windows Boot Manager (`bcdboot C:\\Windows /s <system "
                             "partition>`)"),
    CheckItem("GUESTOS.OSLoader", windows_repair="osloader"),
)

PREDICTED: tuple[CheckItem, ...] = tuple(i for i in ITEMS if i.predict is not None)
_BY_KEY = {i.key: i for i in ITEMS}


def find(name: str) -> CheckItem | None:
    """The catalogue's entry for a check item named any way ECS or a person writes it."""
    return _BY_KEY.get(item_key(name))


def linux_advice() -> dict[str, str]:
    return {i.key: i.advice for i in ITEMS if i.advice}


def windows_advice() -> dict[str, str]:
    return {i.key: i.windows_advice for i in ITEMS if i.windows_advice}


def repairs(os_type: str) -> dict[str, str]:
    """Check item key → the Image Builder RepairItem that repairs it, for `os_type`."""
    if os_type == "windows":
        return {i.key: i.windows_repair for i in ITEMS if i.windows_repair}
    return {i.key: i.repair for i in ITEMS if i.repair}


def template_repairs() -> dict[str, str]:
    """Check item key → the `repairItems` value of ACS-ECS-RepairImage (Linux only)."""
    return {i.key: i.template_repair for i in ITEMS if i.template_repair}
