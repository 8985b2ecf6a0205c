"""The image check as predicted from the disk beside the one ECS ran (pure: no I/O).

A prediction is `High`/`Medium`/`Low` from a finding, `none` when the facts behind the item were
read and are fine, and null when imagedrop reads nothing that predicts the item (GRUB, Cloud
Assistant…) or the facts were unknown.
"""

from __future__ import annotations

from imagedrop_disk.facts.check_items import find
from imagedrop_disk.facts.model import Finding, GuestFacts

from ..model.status import CheckItem
from .ecs_answers import DetectionItem

NO_RISK = "none"


def predicted_risk(item: str, guest: GuestFacts | None, findings: list[Finding]) -> str | None:
    for finding in findings:
        if finding.item == item:
            return finding.risk
    entry = find(item)
    if guest is None or entry is None or not entry.facts:
        return None
    if guest.os_type == "windows" and entry.linux_only:
        return None
    return NO_RISK if any(getattr(guest, name) is not None for name in entry.facts) else None


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
