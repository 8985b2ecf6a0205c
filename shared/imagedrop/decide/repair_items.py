"""Which Image Builder repair items an import asks for (pure: no I/O, no SDK).

`select_repair` takes what is known about the image — the ECS check's items, the guest findings
read from the disk before the import, the manifest's `repair` and the OS type — and answers the
`RepairItem.N` values for CreateImagePipeline (RepairMode=Customized), with the reason for each.

- `"off"`: nothing.
- `"auto"`: every check item at risk that has a repair; where the check has no such item (it
  did not run, or does not cover it), a guest finding of that item at risk counts instead.
- a list: exactly those items, whatever the check says (the owner knows better).

The check-item → RepairItem table is inferred from the names (ECS documents the two lists, not
the mapping between them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Sequence, Union

from imagedrop_disk.facts.check_items import item_key, repairs

from ..manifest.choices import LINUX_REPAIR_ITEMS, REPAIR_ITEMS, WINDOWS_REPAIR_ITEMS

ALL_REPAIR_ITEMS = REPAIR_ITEMS

# Check item (lower-cased, without `GUESTOS.`) → RepairItem, per OS (from the catalogue).
LINUX_REPAIRS: dict[str, str] = repairs("linux")
WINDOWS_REPAIRS: dict[str, str] = repairs("windows")

RepairSetting = Union[Literal["off", "auto"], Sequence[str]]


@dataclass(frozen=True)
class RepairSelection:
    items: list[str] = field(default_factory=list)          # RepairItem.N, in a stable order
    reasons: dict[str, str] = field(default_factory=dict)   # item → why it was chosen
    unrepairable: list[str] = field(default_factory=list)   # risks no item repairs (advice stays)

    @property
    def wanted(self) -> bool:
        return bool(self.items)


def items_for(os_type: str | None) -> tuple[str, ...]:
    return WINDOWS_REPAIR_ITEMS if (os_type or "").lower() == "windows" else LINUX_REPAIR_ITEMS


def _get(thing: Any, *names: str) -> Any:
    for name in names:
        value = thing.get(name) if isinstance(thing, dict) else getattr(thing, name, None)
        if value not in (None, ""):
            return value
    return None


def _at_risk(thing: Any) -> bool:
    return bool(_get(thing, "risk_level", "risk", "RiskLevel"))


def select_repair(check_items: Iterable[Any], guest_findings: Iterable[Any],
                  setting: RepairSetting | None, os_type: str | None) -> RepairSelection:
    """The items to repair (see the module docstring). `check_items` are `DetectionItem`s (or
    dicts with Name/RiskLevel); `guest_findings` anything with `item` and `risk`."""
    if setting is None or setting == "off":
        return RepairSelection()
    allowed = items_for(os_type)
    if not isinstance(setting, str):
        chosen = [i for i in dict.fromkeys(setting) if i in allowed]
        return RepairSelection(chosen, {i: "listed in the manifest's repair" for i in chosen})
    table = WINDOWS_REPAIRS if allowed is WINDOWS_REPAIR_ITEMS else LINUX_REPAIRS
    reasons: dict[str, str] = {}
    unrepairable: list[str] = []
    checked: set[str] = set()
    for item in check_items:
        name = str(_get(item, "name", "Name") or "")
        key = item_key(name)
        checked.add(key)
        if not _at_risk(item):
            continue
        if key in table:
            level = _get(item, "risk_level", "RiskLevel")
            reasons.setdefault(table[key], f"the image check found {name} at risk ({level})")
        elif name:
            unrepairable.append(name)
    for finding in guest_findings:
        name = str(_get(finding, "item", "name") or "")
        key = item_key(name)
        if key in checked or not _at_risk(finding):
            continue  # the check saw this item: it has the last word
        if key in table:
            reasons.setdefault(table[key], f"the disk's {name} finding ({_get(finding, 'risk')}): "
                               f"{_get(finding, 'fact') or 'at risk'}")
    ordered = [i for i in allowed if i in reasons]
    return RepairSelection(ordered, {i: reasons[i] for i in ordered}, unrepairable)
