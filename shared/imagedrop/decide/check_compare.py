"""The image check as predicted from the disk beside the one ECS ran (pure: no I/O).

A prediction is `High`/`Medium`/`Low` from a finding, `none` when the facts behind the item were
read and are fine, and null when imagedrop reads nothing that predicts the item (GRUB, Cloud
Assistant…) or the facts were unknown.
"""

from __future__ import annotations

from imagedrop_disk.facts.model import Finding, GuestFacts

from ..model.status import CheckItem
from .ecs_answers import DetectionItem

# The guest facts each predicted item is made from.
ITEM_FACTS: dict[str, tuple[str, ...]] = {
    "GUESTOS.Virtio": ("virtio",),
    "GUESTOS.Nvme": ("nvme",),
    "GUESTOS.Fstab": ("fstab_root", "fstab_devices"),
    "GUESTOS.Dhcp": ("dhcp", "mac_pinned"),
    "GUESTOS.Selinux": ("selinux",),
    "GUESTOS.CloudInit": ("cloud_init",),
}
NO_RISK = "none"


def predicted_risk(item: str, guest: GuestFacts | None, findings: list[Finding]) -> str | None:
    for finding in findings:
        if finding.item == item:
            return finding.risk
    facts = ITEM_FACTS.get(item)
    if guest is None or not facts:
        return None
    if guest.os_type == "windows" and item in ("GUESTOS.Nvme", "GUESTOS.Fstab", "GUESTOS.Selinux"):
        return None
    return NO_RISK if any(getattr(guest, name) is not None for name in facts) else None


def side_by_side(guest: GuestFacts | None, findings: list[Finding],
                 items: list[DetectionItem]) -> list[CheckItem]:
    """One row per item ECS reported, then one per predicted risk ECS did not report."""
    rows = []
    for item in items:
        predicted = predicted_risk(item.name, guest, findings)
        actual = item.risk_level or NO_RISK
        rows.append(CheckItem(item=item.name, predicted=predicted, actual=actual, value=item.value,
                              agree=None if predicted is None else predicted == actual))
    reported = {item.name for item in items}
    for finding in findings:
        if finding.item not in reported:
            rows.append(CheckItem(item=finding.item, predicted=finding.risk, actual=NO_RISK,
                                  value="not reported", agree=False))
    return rows
