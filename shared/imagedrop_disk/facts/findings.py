"""The image-check risks a guest's facts predict, named as the ECS image check names its items.

A finding is made only from a fact that was read and is wrong for ECS: an unknown fact (None)
or a fine one makes none."""

from __future__ import annotations

from .model import Finding, GuestFacts


def findings_for(facts: GuestFacts) -> list[Finding]:
    windows = facts.os_type == "windows"
    found = [
        _virtio(facts, windows),
        _nvme(facts, windows),
        _fstab(facts),
        _dhcp(facts),
        _selinux(facts),
        _cloud_init(facts, windows),
    ]
    return [f for f in found if f is not None]


def _virtio(facts: GuestFacts, windows: bool) -> Finding | None:
    if facts.virtio is not False:
        return None
    if windows:
        return Finding(
            item="GUESTOS.Virtio", risk="High",
            fact="the virtio storage and network drivers (viostor, netkvm) are not installed",
            fix="install the virtio drivers (viostor for the disk, netkvm for the network) in "
                "Windows before exporting the image, or the instance cannot boot from its disk")
    kernel = f"kernel {facts.kernel}" if facts.kernel else "the installed kernel"
    return Finding(
        item="GUESTOS.Virtio", risk="High",
        fact=f"{kernel} has no virtio_blk or virtio_net driver (neither built in nor a module)",
        fix="install a kernel with the virtio drivers and add virtio_blk, virtio_net and "
            "virtio_pci to the initramfs (dracut --add-drivers or /etc/initramfs-tools/modules, "
            "then rebuild it), or the instance cannot find its system disk")


def _nvme(facts: GuestFacts, windows: bool) -> Finding | None:
    if windows or facts.nvme is not False:
        return None
    kernel = f"kernel {facts.kernel}" if facts.kernel else "the installed kernel"
    return Finding(
        item="GUESTOS.Nvme", risk="Medium",
        fact=f"{kernel} has no nvme driver",
        fix="install a kernel with the nvme driver and add it to the initramfs to use instance "
            "types whose disks are NVMe; other instance types do not need it")


def _fstab(facts: GuestFacts) -> Finding | None:
    entries = facts.fstab_devices or []
    if not entries and facts.fstab_root != "device":
        return None
    named = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
    fact = (f"/etc/fstab names disks by kernel device name ({named})" if entries else
            "/ is mounted by a kernel device name")
    return Finding(
        item="GUESTOS.Fstab", risk="High",
        fact=f"{fact}; on ECS the disk is /dev/vda or /dev/nvme0n1, so these names point "
             f"nowhere",
        fix="name each file system by UUID= in /etc/fstab (blkid shows the UUIDs) and "
            "regenerate the boot loader configuration so root= uses the UUID too")


def _dhcp(facts: GuestFacts) -> Finding | None:
    if facts.dhcp is not False and facts.mac_pinned is not True:
        return None
    problems = []
    if facts.dhcp is False:
        problems.append("the primary network interface has a static address (no DHCP)")
    if facts.mac_pinned:
        problems.append("the network configuration is tied to a MAC address that the new "
                        "instance will not have")
    return Finding(
        item="GUESTOS.Dhcp", risk="High",
        fact="; ".join(problems),
        fix="configure the primary interface for DHCP and remove MAC address bindings "
            "(HWADDR=, mac-address=, match: macaddress, hwaddress, "
            "/etc/udev/rules.d/70-persistent-net.rules), or the instance is unreachable")


def _selinux(facts: GuestFacts) -> Finding | None:
    if facts.selinux != "enforcing":
        return None
    return Finding(
        item="GUESTOS.Selinux", risk="Medium",
        fact="SELinux is enforcing (/etc/selinux/config SELINUX=enforcing)",
        fix="set SELINUX=disabled (or permissive) in /etc/selinux/config before exporting, or "
            "relabel the file system (touch /.autorelabel) so the first boot is not refused")


def _cloud_init(facts: GuestFacts, windows: bool) -> Finding | None:
    if facts.cloud_init is not False:
        return None
    if windows:
        return Finding(
            item="GUESTOS.CloudInit", risk="Medium",
            fact="Cloudbase-Init is not installed",
            fix="install Cloudbase-Init so ECS can set the password, host name and user data "
                "on the first boot")
    return Finding(
        item="GUESTOS.CloudInit", risk="Medium",
        fact="cloud-init is not installed, or it is disabled",
        fix="install cloud-init (and growpart) and enable it (remove "
            "/etc/cloud/cloud-init.disabled and any cloud-init=disabled kernel argument) so ECS "
            "can set the password, host name, network and disk size on the first boot")
