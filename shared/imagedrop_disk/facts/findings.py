"""The image-check risks a guest's facts predict, named as the ECS image check names its items,
in the order of the catalogue (`check_items`)."""

from __future__ import annotations

from .check_items import PREDICTED
from .model import Finding, GuestFacts


def findings_for(facts: GuestFacts) -> list[Finding]:
    found = []
    for item in PREDICTED:
        said = item.predict(facts) if item.predict is not None else None
        if said is not None and item.risk is not None:
            fact, fix = said
            found.append(Finding(item=item.name, risk=item.risk, fact=fact, fix=fix))
    return found
