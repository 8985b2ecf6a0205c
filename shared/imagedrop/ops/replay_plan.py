"""`imagedrop replay`: which objects to feed to the ingest function again, and the exact OSS trigger
payload for each (built by the emulator's payload builder, the same bytes the cloud sends). Pure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..emulator.oss.notify import NotificationRule, ObjectEvent, trigger_payload

CANCEL_SUFFIX = ".cancel"


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str
    multipart: bool = False
    last_modified: float = 0.0


@dataclass(frozen=True)
class ReplayItem:
    key: str
    role: str          # "disk" | "manifest"
    manifest: str


def replay_items(objects: list[StoredObject], *, state_prefix: str) -> list[ReplayItem]:
    """Manifests under the prefix, each preceded by its system disk when that exists.

    Cancel markers are never replayed (a replay must not cancel anything), nor is anything under
    the state prefix. Disks without a manifest are skipped: replaying them would only record
    "waiting". Data disks need no event of their own: the manifest's event finds them.
    """
    keys = {o.key for o in objects}
    items: list[ReplayItem] = []
    for obj in sorted(objects, key=lambda o: o.key):
        key = obj.key
        if key.startswith(state_prefix) or key.endswith(CANCEL_SUFFIX) or not key.endswith(".json"):
            continue
        disk = key[: -len(".json")]
        if disk in keys:
            items.append(ReplayItem(disk, "disk", key))
        items.append(ReplayItem(key, "manifest", key))
    return items


def payload_for(obj: StoredObject, *, bucket: str, region: str, account_id: str,
                function: str = "imagedrop-ingest", now: float | None = None) -> bytes:
    """The OSS trigger event for `obj`, as if it had just been uploaded."""
    event_name = "ObjectCreated:CompleteMultipartUpload" if obj.multipart else "ObjectCreated:PutObject"
    content_type = "application/json" if obj.key.endswith(".json") else "application/octet-stream"
    event = ObjectEvent(event_name=event_name, bucket=bucket, region=region, account_id=account_id,
                        key=obj.key, size=obj.size, delta_size=0, etag=obj.etag, content_type=content_type,
                        request_id="replay-" + obj.etag[:16],
                        event_time=obj.last_modified or (time.time() if now is None else now))
    rule = NotificationRule(name=function, sink=lambda _: None)
    return trigger_payload(event, rule)
