"""What must hold after every simulated schedule, whatever the interleaving."""

from __future__ import annotations

import json
from typing import Any

from .world import SIDE_EFFECTS, STATE_PREFIX, World

TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}


def broken(world: World, manifest_key: str, sources: list[str]) -> list[str]:
    """Every invariant the schedule broke, in words (none: an empty list)."""
    found = [f"crashed: {c}" for c in world.crashes]
    found += _announcements(world, manifest_key)
    record = _record(world, manifest_key)
    if record is None:
        return [*found, "no record"]
    if record["state"] not in TERMINAL or record.get("unannounced"):
        found.append(f"the record ends {record['state']} (unannounced={record.get('unannounced')})")
    found += _after_the_end(world, manifest_key, sources)
    found += _unnamed_images(world, record)
    found += _foreign(world, record)
    return found


def _record(world: World, manifest_key: str) -> dict[str, Any] | None:
    obj = world.bucket.objects.get(f"{STATE_PREFIX}status/{manifest_key}")
    return None if obj is None else json.loads(obj.data)


def _announcements(world: World, manifest_key: str) -> list[str]:
    events: dict[str, dict[str, Any]] = {}
    for event in world.mns.published:   # a resend (its answer lost) carries the same id
        if event["subject"] == manifest_key:
            events.setdefault(event["id"], event)
    states = [e["type"].rsplit(".", 1)[-1] for e in events.values()]
    found = []
    ends = [i for i, s in enumerate(states) if s in TERMINAL]
    if len(ends) > 1:
        found.append(f"{len(ends)} ends announced: {states}")
    if ends and ends[0] != len(states) - 1:
        found.append(f"announced after the end: {states}")
    if len(set(states)) != len(states):
        found.append(f"a state announced twice: {states}")
    record = _record(world, manifest_key)
    if record is not None and ends and states[ends[-1]] != record["state"]:
        found.append(f"announced {states[ends[-1]]}, the record says {record['state']}")
    return found


def _after_the_end(world: World, manifest_key: str, sources: list[str]) -> list[str]:
    end = world.end_saved_at.get(manifest_key)
    if end is None:
        return []
    return [f"{t.op}({t.target}) by {t.instance} after the end was saved"
            for t in world.touched if t.at > end and
            ((t.service == "ecs" and t.op in SIDE_EFFECTS) or
             (t.service == "oss" and t.op == "delete" and t.target in sources))]


def _unnamed_images(world: World, record: dict[str, Any]) -> list[str]:
    repair = record.get("repair") or {}
    names: dict[str, str] = repair.get("names") or {}
    named = {record.get("image_id"), repair.get("original_image_id"),
             repair.get("repaired_image_id"), *names,
             *(c.get("image_id") for c in (record.get("copies") or {}).values())}
    found = []
    for image_id in world.ecs.images:
        if image_id in world.foreign_images:
            continue
        if image_id not in named:
            found.append(f"image {image_id} ({world.ecs.names.get(image_id)}) is not in the record")
        elif image_id in names and names[image_id] != world.ecs.names.get(image_id):
            found.append(f"the record names {image_id} {names[image_id]}, ECS "
                         f"{world.ecs.names.get(image_id)}")
    return found


def _foreign(world: World, record: dict[str, Any]) -> list[str]:
    found = [f"{t.op}({t.target}) touched what is not the import's" for t in world.touched
             if t.target in world.foreign_images or t.target in world.foreign_keys]
    texts = json.dumps([record.get("problems"), record.get("advice"), record.get("fixes")])
    found += [f"the record's advice points at {i}, not the import's image"
              for i in world.foreign_images if i in texts]
    return found
