"""Image-check items (`DetectionOptions.Items.Item`) the fake reports once a check finishes.

What the disk inspection saw decides the items it can see: boot mode and whether there is a
system on the disk from the partitions; drivers, fstab, network, SELinux and cloud-init from the
guest's own files (`imagedrop_disk`'s facts, at the risk its findings give). What it cannot see
(an unreadable guest, GRUB, Cloud Assistant…) comes from a default set. The scenario's items (for
every import, or per system-disk object or per image) go over all of these, so a test can make
ECS disagree with what the disk holds. Alibaba does not publish every item name and risk code:
names follow ECS's `GUESTOS.<Item>` form, risk codes are modelled.
`RiskLevel` is present only on items at risk.
"""

from __future__ import annotations

from typing import Any

from imagedrop_disk.facts.check_items import PREDICTED

from .models import FakeImage

# Items a partition-table reader cannot see: the default answer of a healthy Linux guest that
# lacks cloud-init, so a pipeline has one piece of advice to pass on.
DEFAULT_LINUX_ITEMS: tuple[dict[str, str], ...] = (
    {"Name": "GUESTOS.Virtio", "Value": "Supported"},
    {"Name": "GUESTOS.Nvme", "Value": "Supported"},
    {"Name": "GUESTOS.Fstab", "Value": "Normal"},
    {"Name": "GUESTOS.Grub", "Value": "Normal"},
    {"Name": "GUESTOS.Dhcp", "Value": "Normal"},
    {"Name": "GUESTOS.Selinux", "Value": "Disabled"},
    {"Name": "GUESTOS.OnlineResizeFS", "Value": "Supported"},
    {"Name": "GUESTOS.CloudInit", "Value": "NotInstalled", "RiskLevel": "Medium",
     "RiskCode": "CloudInit.NotInstalled"},
    {"Name": "GUESTOS.CloudAssistant", "Value": "Installed"},
)
DEFAULT_WINDOWS_ITEMS: tuple[dict[str, str], ...] = (
    {"Name": "GUESTOS.Virtio", "Value": "Supported"},
    {"Name": "GUESTOS.BCD", "Value": "Normal"},
    {"Name": "GUESTOS.Sysprep", "Value": "Normal"},
    {"Name": "GUESTOS.CloudAssistant", "Value": "Installed"},
)


def _seen_items(image: FakeImage) -> list[dict[str, str]]:
    """Items derived from the system disk's inspection and the image's attributes."""
    items = [{"Name": "GUESTOS.Platform", "Value": image.platform},
             {"Name": "GUESTOS.Architecture", "Value": image.architecture}]
    inspection = image.disks[0].inspection if image.disks else None
    detected = getattr(inspection, "boot_mode", None)
    boot = {"Name": "GUESTOS.BootMode", "Value": detected or image.boot_mode}
    if detected and detected != image.boot_mode:
        # The disk boots differently from what the image says (e.g. a hybrid disk registered as
        # BIOS): a metadata fix (ModifyImageAttribute BootMode) resolves it.
        boot.update(RiskLevel="High" if detected != "UEFI-Preferred" else "Medium",
                    RiskCode="BootMode.Mismatch")
    items.append(boot)
    if inspection is not None and inspection.partition_table == "none" and inspection.os_type is None:
        items.append({"Name": "GUESTOS.SystemImage", "Value": "NotSystemImage", "RiskLevel": "High",
                      "RiskCode": "SystemImage.NotFound"})
    else:
        items.append({"Name": "GUESTOS.SystemImage", "Value": "Normal"})
    return items


def _guest_items(image: FakeImage) -> list[dict[str, str]]:
    """Items read from the guest's own files; none for a fact the reader could not read."""
    inspection = image.disks[0].inspection if image.disks else None
    guest = getattr(inspection, "guest", None)
    if guest is None:
        return []
    risks = {f.item: f.risk for f in getattr(inspection, "findings", [])}
    items = []
    for item in PREDICTED:     # the catalogue's items, their Values and RiskCodes
        if guest.os_type == "windows" and item.linux_only:
            continue
        if item.name in risks:
            items.append({"Name": item.name, "Value": item.at_risk,
                          "RiskLevel": risks[item.name], "RiskCode": item.risk_code})
        elif any(getattr(guest, fact) is not None for fact in item.facts):
            items.append({"Name": item.name, "Value": item.fine_value(guest)})
    return items


def detection_items(image: FakeImage, scenario: list[dict[str, Any]] | None = None) -> list[dict[str, str]]:
    """The Items of a finished check: what the partitions and the guest's files show over the
    defaults; scenario items replace any item of the same Name or add to them."""
    defaults = DEFAULT_WINDOWS_ITEMS if image.os_type == "windows" else DEFAULT_LINUX_ITEMS
    merged: dict[str, dict[str, str]] = {}
    for item in (*_seen_items(image), *defaults, *_guest_items(image), *(scenario or ())):
        merged[item["Name"]] = {k: str(v) for k, v in item.items() if v not in (None, "")}
    return list(merged.values())
