"""What the ingest step answers for one object, and the id of a status record made before any
import id exists; shared by the ingest, its submission and its refusals."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

IngestVerdict = Literal["ignored", "waiting", "rejected", "submitted", "duplicate", "cancelled",
                  "cancelling", "busy", "out_of_time"]


@dataclass(frozen=True)
class IngestOutcome:
    key: str
    outcome: IngestVerdict
    detail: str = ""


def wait_id(import_ref: str, kind: str = "waiting") -> str:
    """The id of a record made before any import id exists (`waiting`, or a `timeout` end): a hash
    of the whole reference (the key, and for a manifest its ETag and time), so no two uploads share
    one."""
    return f"{kind}-" + hashlib.sha256(import_ref.encode("utf-8")).hexdigest()[:40]
