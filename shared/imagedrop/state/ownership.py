"""Who may name which object (docs/trust-model.md), enforced before ImportImage and before any
source is deleted.

- `K` belongs to the manifest `K.json` (its system disk) whenever that manifest exists.
- An object listed as a data disk belongs to the first manifest that listed it, for as long as
  that manifest exists and still lists it. The claim is `<state prefix>disk-owners/<sha256 of the
  key>` (a key of bounded length, whatever the disk's).

A manifest naming an object that belongs to another manifest is refused: no import, no share,
no delete. Safe to run twice: a claim already ours is left as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..errors import ManifestError
from ..manifest import parse_manifest
from ..model.state_keys import StateKeys
from ..model.status import Problem


@dataclass(frozen=True)
class NamedObject:
    key: str
    role: str    # "system" | "data"
    field: str   # the manifest field that names it


def _still_names(store, manifest_key: str, disk_key: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the manifest at `manifest_key` exists and lists `disk_key` as a data disk."""
    raw = store.get_small(manifest_key)
    if raw is None:
        return False
    try:
        keys = parse_manifest(raw).disk_keys(manifest_key)
    except (ManifestError, ValueError):
        return False
    return disk_key in keys[1:]


def _owner(store, state_prefix: str, disk_key: str) -> str | None:  # type: ignore[no-untyped-def]
    claim = store.get_json(StateKeys(state_prefix).disk_owner(disk_key)) or {}
    return claim.get("manifest") if isinstance(claim, dict) else None


def claim_data_disks(store, state_prefix: str, manifest_key: str,  # type: ignore[no-untyped-def]
                     named: list[NamedObject]) -> list[Problem]:
    """Claim every data disk for `manifest_key`, or say which belong to another manifest."""
    problems: list[Problem] = []
    for disk in (d for d in named if d.role == "data"):
        other = disk.key + ".json"
        if store.head(other) is not None:
            problems.append(_taken(disk, other, "is the system disk of"))
            continue
        body = json.dumps({"disk": disk.key, "manifest": manifest_key}, ensure_ascii=False)
        claim = StateKeys(state_prefix).disk_owner(disk.key)
        if store.put_if_absent(claim, body):
            continue
        owner = _owner(store, state_prefix, disk.key)
        if owner == manifest_key:
            continue
        if owner and _still_names(store, owner, disk.key):
            problems.append(_taken(disk, owner, "is a data disk of"))
        else:  # the owner is gone or no longer lists it: the object is free again
            store.put(claim, body)
    return problems


def _taken(disk: NamedObject, owner: str, relation: str) -> Problem:
    return Problem(where=disk.field,
                   rule=f"{disk.key} {relation} {owner}: an object belongs to the manifest that "
                        "names it first, and no other manifest may import, share or delete it",
                   fix="copy the object under a key of your own and list that key, or ask the "
                       f"owner of {owner} to import it")


def named_elsewhere(store, state_prefix: str, manifest_key: str,  # type: ignore[no-untyped-def]
                    keys: list[str]) -> list[str]:
    """Those of `keys` that another manifest names: never deleted on this manifest's behalf."""
    kept = []
    for key in keys:
        if key == manifest_key:
            continue
        system_of = key + ".json"
        if system_of != manifest_key and store.head(system_of) is not None:
            kept.append(key)
            continue
        owner = _owner(store, state_prefix, key)
        if owner and owner != manifest_key and _still_names(store, owner, key):
            kept.append(key)
    return kept
