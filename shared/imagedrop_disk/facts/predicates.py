"""What each image-check item's facts say: a predicate per item, answering (fact, fix) when the
guest's facts predict the item at risk, None when they are fine or unknown. A prediction is made
only from a fact that was read and is wrong for ECS: an unknown fact (None) makes none."""

from __future__ import annotations

from typing import Callable

from .model import GuestFacts

# What one predicate says about a guest: (fact, fix), or None when the guest is fine or unknown.
Said = tuple[str, str] | None
Predicate = Callable[[GuestFacts], Said]


def _windows(facts: GuestFacts) -> bool:
    return facts.os_type == "windows"


def _kernel(facts: GuestFacts) -> str:
    return f"kernel {facts.kernel}" if facts.kernel else "the installed kernel"


def virtio(facts: GuestFacts) -> Said:
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


def nvme(facts: GuestFacts) -> Said:
    if _windows(facts) or facts.nvme is not False:
        return None
    return (f"{_kernel(facts)} has no nvme driver",
            "install a kernel with the nvme driver and add it to the initramfs to use instance "
            "types whose disks are NVMe; other instance types do not need it")


def fstab(facts: GuestFacts) -> Said:
    entries = facts.fstab_devices or []
    if not entries and facts.fstab_root != "device":
        return None
    named = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
    fact = (f"/etc/fstab names disks by kernel device name ({named})" if entries else
            "/ is mounted by a kernel device name")
    return (f"{fact}; on ECS the disk is /dev/vda or /dev/nvme0n1, so these names point nowhere",
            "name each file system by UUID= in /etc/fstab (blkid shows the UUIDs) and "
            "regenerate the boot loader configuration so root= uses the UUID too")


def dhcp(facts: GuestFacts) -> Said:
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


def selinux(facts: GuestFacts) -> Said:
    if facts.selinux != "enforcing":
        return None
    return ("SELinux is enforcing (/etc/selinux/config SELINUX=enforcing)",
            "set SELINUX=disabled (or permissive) in /etc/selinux/config before exporting, or "
            "relabel the file system (touch /.autorelabel) so the first boot is not refused")


def cloud_init(facts: GuestFacts) -> Said:
    # ECS checks cloud-init on Linux only: a Windows image gets no such item.
    if facts.cloud_init is not False or _windows(facts):
        return None
    return ("cloud-init is not installed, or it is disabled",
            "install cloud-init (and growpart) and enable it (remove "
            "/etc/cloud/cloud-init.disabled and any cloud-init=disabled kernel argument) so ECS "
            "can set the password, host name, network and disk size on the first boot")


def grub(facts: GuestFacts) -> Said:
    if _windows(facts) or facts.grub_root != "device":
        return None
    return ("the boot loader's kernel command line names the root file system by a kernel "
            "device name (root=/dev/sd…); on ECS the disk is /dev/vda or /dev/nvme0n1",
            "set root=UUID=… on the kernel command line (GRUB_DISABLE_LINUX_UUID unset in "
            "/etc/default/grub, then grub2-mkconfig -o … or update-grub), or the instance "
            "cannot mount its root file system")


def online_resize(facts: GuestFacts) -> Said:
    if _windows(facts) or facts.growpart is not False:
        return None
    return ("growpart is not installed (cloud-guest-utils or cloud-utils-growpart)",
            "install growpart (cloud-guest-utils on Debian and Ubuntu, cloud-utils-growpart on "
            "RHEL and SUSE) with cloud-init, so the root partition and file system grow to the "
            "disk's size at the first boot")


def rtc_local(facts: GuestFacts) -> Said:
    if _windows(facts) or facts.rtc_local is not True:
        return None
    return ("the hardware clock is kept in local time (/etc/adjtime says LOCAL)",
            "keep the hardware clock in UTC (timedatectl set-local-rtc 0, or UTC as the third "
            "line of /etc/adjtime), or the instance's clock is off by its time zone at boot")
