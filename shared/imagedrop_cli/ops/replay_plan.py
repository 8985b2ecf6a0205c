"""`imagedrop replay`: which objects to feed to the ingest function again, and the exact OSS trigger
payload for each, shaped as the cloud's OSS trigger sends it. Pure.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from imagedrop.model.state_keys import CANCEL_SUFFIX


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
    when = obj.last_modified or (time.time() if now is None else now)
    record = {
        "eventName": event_name,
        "eventSource": "acs:oss",
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(int(when))),
        "eventVersion": "1.0",
        "oss": {
            "bucket": {"arn": f"acs:oss:{region}:{account_id}:{bucket}", "name": bucket,
                       "ownerIdentity": account_id, "virtualBucket": ""},
            "object": {"deltaSize": 0, "eTag": obj.etag, "key": obj.key,
                       "objectMeta": {"mimeType": content_type, "userMeta": {}}, "size": obj.size},
            "ossSchemaVersion": "1.0",
            "ruleId": hashlib.sha1(function.encode()).hexdigest(),
        },
        "region": region,
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"requestId": "replay-" + obj.etag[:16]},
        "userIdentity": {"principalId": account_id},
    }
    return json.dumps({"events": [record]}, ensure_ascii=False).encode("utf-8")
