"""Whether ECS can read a disk object, from its HEAD alone (pure).

An Archive, ColdArchive or DeepColdArchive object must be restored before anything reads its
bytes (ImportImage answers `InvalidOSSObject.NeedRestore`, a ranged GET 403 `InvalidObjectState`).
HEAD says where a restore stands: no `x-oss-restore` header (frozen), `ongoing-request="true"`
(under way), `ongoing-request="false", expiry-date="…"` (readable until then).
"""

from __future__ import annotations

from typing import Literal

from ..model.status import Problem

ARCHIVED = ("Archive", "ColdArchive", "DeepColdArchive")
ReadState = Literal["readable", "frozen", "restoring"]


def read_state(storage_class: str, restore_header: str) -> ReadState:
    if storage_class not in ARCHIVED:
        return "readable"
    compact = restore_header.replace(" ", "").lower()
    if 'ongoing-request="false"' in compact:
        return "readable"
    if 'ongoing-request="true"' in compact:
        return "restoring"
    return "frozen"


def restore_problem(bucket: str, key: str, storage_class: str, state: ReadState) -> Problem:
    """The refusal of a disk ECS cannot read yet, with the restore to run or to wait for."""
    url = f"oss://{bucket}/{key}"
    done = (f'wait until `ossutil stat {url}` shows X-Oss-Restore: ongoing-request="false", '
            "then upload the manifest again")
    where, code = f"oss object {key}", "InvalidOSSObject.NeedRestore"
    if state == "restoring":
        return Problem(where=where, code=code,
                       rule=f"is in the {storage_class} storage class and its restore is under "
                            "way; ECS cannot read it before the restore finishes",
                       fix=done)
    return Problem(where=where, code=code,
                   rule=f"is in the {storage_class} storage class, which ECS cannot read before "
                        "a restore",
                   fix=f"restore it (`ossutil restore {url}`, or RestoreObject), {done}; or copy "
                       "it to the Standard storage class and upload its manifest again")
