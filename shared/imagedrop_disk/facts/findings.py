"""The image-check risks a guest's facts predict, named as the ECS image check names its items.

A finding is made only from a fact that was read and is wrong for ECS: an unknown fact (None)
or a fine one makes none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .model import Finding, GuestFacts, Risk

# What one rule says about a guest: (fact, fix), or None when the guest is fine or unknown.
Said = tuple[str, str] | None


@dataclass(frozen=True)
class _Rule:
    item: str
    risk: Risk
    says: Callable[[GuestFacts], Said]


def findings_for(facts: GuestFacts) -> list[Finding]:
    found = []
    for rule in _RULES:
        said = rule.says(facts)
        if said is not None:
            fact, fix = said
            found.append(Finding(item=rule.item, risk=rule.risk, fact=fact, fix=fix))
    return found


def _windows(facts: GuestFacts) -> bool:
    return facts.os_type == "windows"


def _kernel(facts: GuestFacts) -> str:
    return f"kernel {facts.kernel}" if facts.kernel else "the installed kernel"


def _virtio(facts: GuestFacts) -> Said:
    if facts.virtio is not False:
        return None
    if _windows(facts):
        return ("the virtio storage and network drivers (viostor, netkvm) are not installed",
                "install the virtio drivers (viostor for the disk, netkvm for the network) in "
                "Windows before exporting the image, or the instance cannot boot from its disk")
    return (facts.virtio_source or f"{_kernel(facts)} has no virtio_blk or virtio_net driver",
            "install a kernel with the virtio drivers and add virtio_blk, virtio_net and "
            "virtio_pci to the initramfs (dracut --add-drivers or /etc/initramfs-tools/modules, "
            "then rebuild it), or the instance cannot find its system disk")


def _nvme(facts: GuestFacts) -> Said:
    if _windows(facts) or facts.nvme is not False:
        return None
    return (f"{_kernel(facts)} has no nvme driver",
            "install a kernel with the nvme driver and add it to the initramfs to use instance "
            "types whose disks are NVMe; other instance types do not need it")


def _fstab(facts: GuestFacts) -> Said:
    entries = facts.fstab_devices or []
    if not entries and facts.fstab_root != "device":
        return None
    named = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
    fact = (f"/etc/fstab names disks by kernel device name ({named})" if entries else
            "/ is mounted by a kernel device name")
    return (f"{fact}; on ECS the disk is /dev/vda or /dev/nvme0n1, so these names point nowhere",
            "name each file system by UUID= in /etc/fstab (blkid shows the UUIDs) and "
            "regenerate the boot loader configuration so root= uses the UUID too")


def _dhcp(facts: GuestFacts) -> Said:
    if facts.dhcp is not False and facts.mac_pinned is not True:
        return None
    problems = []
    if facts.dhcp is False:
        problems.append("the primary network interface has a static address (no DHCP)")
    if facts.mac_pinned:
        problems.append("the network configuration is tied to a MAC address that the new "
                        "instance will not have")
    return ("; ".join(problems),
            "configure the primary interface for DHCP and remove MAC address bindings "
            "(HWADDR=, mac-address=, match: macaddress, hwaddress, "
            "/etc/udev/rules.d/70-persistent-net.rules), or the instance is unreachable")


def _selinux(facts: GuestFacts) -> Said:
    if facts.selinux != "enforcing":
        return None
    return ("SELinux is enforcing (/etc/selinux/config SELINUX=enforcing)",
            "set SELINUX=disabled (or permissive) in /etc/selinux/config before exporting, or "
            "relabel the file system (touch /.autorelabel) so the first boot is not refused")


def _cloud_init(facts: GuestFacts) -> Said:
    # ECS checks cloud-init on Linux only: a Windows image gets no such item.
    if facts.cloud_init is not False or _windows(facts):
        return None
    return ("cloud-init is not installed, or it is disabled",
            "install cloud-init (and growpart) and enable it (remove "
            "/etc/cloud/cloud-init.disabled and any cloud-init=disabled kernel argument) so ECS "
            "can set the password, host name, network and disk size on the first boot")


# In the order the findings are reported.
_RULES = (
    _Rule("GUESTOS.Virtio", "High", _virtio),
    _Rule("GUESTOS.Nvme", "Medium", _nvme),
    _Rule("GUESTOS.Fstab", "High", _fstab),
    _Rule("GUESTOS.Dhcp", "High", _dhcp),
    _Rule("GUESTOS.Selinux", "Medium", _selinux),
    _Rule("GUESTOS.CloudInit", "Medium", _cloud_init),
)
