"""Storage classes and RestoreObject: an Archive, ColdArchive or DeepColdArchive object keeps its
metadata readable (HEAD, listings) but its bytes are refused (403 `InvalidObjectState`) until a
restore has finished, and again once the restored copy expires.

Restores run on the emulated clock (they are the cloud's own work, like an import task). How
long one takes is our choice, at the slow end of what OSS documents: Archive 1 minute; ColdArchive
1 hour (Expedited), 5 hours (Standard, the default), 12 hours (Bulk); DeepColdArchive 12 hours
(Expedited) or 48 hours (Standard, the default). `Days` is 1-7 for Archive, 1-365 for the cold
classes (default 1); restoring an already restored object again answers 200 and keeps it
readable for `Days` from now.
"""

from __future__ import annotations

from email.utils import formatdate
from xml.etree import ElementTree

from ...core import ServiceError
from .objects import FakeObject

STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")
ARCHIVED = frozenset({"Archive", "ColdArchive", "DeepColdArchive"})
DAY = 86400.0
RESTORE_SECONDS: dict[str, dict[str, float]] = {
    "Archive": {"": 60.0},
    "ColdArchive": {"Expedited": 3600.0, "Standard": 5 * 3600.0, "Bulk": 12 * 3600.0},
    "DeepColdArchive": {"Expedited": 12 * 3600.0, "Standard": 48 * 3600.0},
}
MAX_DAYS = {"Archive": 7, "ColdArchive": 365, "DeepColdArchive": 365}


def storage_class_of(value: str | None, default: str) -> str:
    """The `x-oss-storage-class` a request asks for (case as OSS spells it), or the default."""
    if not value:
        return default
    for name in STORAGE_CLASSES:
        if name.lower() == value.strip().lower():
            return name
    raise ServiceError(400, "InvalidArgument",
                       f"x-oss-storage-class {value!r} is not a storage class: use one of "
                       f"{', '.join(STORAGE_CLASSES)}.", ArgumentName="x-oss-storage-class",
                       ArgumentValue=value)


def state(obj: FakeObject, now: float) -> str:
    """"readable" | "frozen" (archived, not restored) | "restoring" (restore under way)."""
    if obj.storage_class not in ARCHIVED:
        return "readable"
    ready, expires = obj.restore_ready_at, obj.restore_expires_at
    if ready is None or expires is None or now >= expires:
        return "frozen"
    return "restoring" if now < ready else "readable"


def restore_header(obj: FakeObject, now: float) -> str | None:
    """The `x-oss-restore` value HEAD and GET carry, None when there is no restore to report."""
    current = state(obj, now)
    if obj.storage_class not in ARCHIVED or current == "frozen":
        return None
    if current == "restoring":
        return 'ongoing-request="true"'
    expiry = formatdate(obj.restore_expires_at, usegmt=True)
    return f'ongoing-request="false", expiry-date="{expiry}"'


def check_readable(obj: FakeObject, now: float) -> None:
    if state(obj, now) != "readable":
        raise ServiceError(403, "InvalidObjectState",
                           "The operation is not valid for the object's state",
                           Key=obj.key, StorageClass=obj.storage_class)


def parse_restore_request(body: bytes, storage_class: str) -> tuple[int, str]:
    """(days, tier) from an optional `<RestoreRequest><Days/><JobParameters><Tier/>…`."""
    days, tier = 1, ""
    if body.strip():
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise ServiceError(400, "MalformedXML", "The XML you provided was not well-formed or "
                               "did not validate against our published schema.") from None
        raw_days = (root.findtext("Days") or "1").strip()
        if not raw_days.isdigit():
            raise _bad_days(raw_days, storage_class)
        days = int(raw_days)
        tier = (root.findtext("JobParameters/Tier") or "").strip()
    if not 1 <= days <= MAX_DAYS[storage_class]:
        raise _bad_days(str(days), storage_class)
    tiers = RESTORE_SECONDS[storage_class]
    if storage_class == "Archive":
        tier = ""
    elif not tier:
        tier = "Standard"
    if tier not in tiers:
        raise ServiceError(400, "InvalidArgument",
                           f"Tier {tier!r} is not valid for {storage_class}: use one of "
                           f"{', '.join(tiers)}.", ArgumentName="Tier", ArgumentValue=tier)
    return days, tier


def _bad_days(value: str, storage_class: str) -> ServiceError:
    return ServiceError(400, "InvalidArgument",
                        f"Days {value!r} must be an integer from 1 to {MAX_DAYS[storage_class]} "
                        f"for {storage_class}.", ArgumentName="Days", ArgumentValue=value)


def restore(obj: FakeObject, days: int, tier: str, now: float) -> int:
    """Start (202) or extend (200) a restore; refuse a second one under way (409)."""
    if obj.storage_class not in ARCHIVED:
        raise ServiceError(400, "OperationNotSupported",
                           "The operation is not supported for this resource", Key=obj.key,
                           StorageClass=obj.storage_class)
    current = state(obj, now)
    if current == "restoring":
        raise ServiceError(409, "RestoreAlreadyInProgress", "The restore operation is in progress.",
                           Key=obj.key)
    if current == "readable":
        obj.restore_expires_at = now + days * DAY
        return 200
    obj.restore_ready_at = now + RESTORE_SECONDS[obj.storage_class][tier]
    obj.restore_expires_at = obj.restore_ready_at + days * DAY
    return 202
