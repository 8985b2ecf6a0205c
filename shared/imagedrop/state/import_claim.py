"""The claim of an import: what the ingest keeps, when it submits, for every later step.

Written once with put-if-absent at `claims/<import id>` (state_keys.py) before ImportImage, so a
poller can record, follow, repair and finish the import even if the ingest died right after
submitting it, and a cancel can resolve the ClientToken of an answer that was lost.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..manifest import Manifest
from ..model.status import DiskRecord
from .claims import read_model


class ImportClaim(BaseModel):
    model_config = ConfigDict(extra="ignore")

    manifest: str = Field(description="the manifest's key")
    spec: dict[str, Any] | None = Field(None, description="the manifest as parsed, fields filled")
    detected_boot_mode: str | None = None
    at: str = ""
    records: list[DiskRecord] = Field(default_factory=list, description="the disks as recorded")
    manifest_etag: str | None = None
    advice: list[str] = Field(default_factory=list)
    request: dict[str, Any] | None = Field(None, description="the ImportImage request, token too")
    version: str | None = Field(None, description="this upload of the manifest")
    filled: dict[str, Any] | None = None
    guest: dict[str, Any] | None = None
    findings: list[dict[str, Any]] | None = None

    def parsed_manifest(self) -> Manifest | None:
        return Manifest.model_validate(self.spec) if self.spec else None


def read_claim(store: Any, key: str) -> ImportClaim | None:
    """The claim at `key`, or None when there is none (or it is not one of ours)."""
    return read_model(store, key, ImportClaim)
