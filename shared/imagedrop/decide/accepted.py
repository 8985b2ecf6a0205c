"""What the status record says of an import ECS accepted, whoever records it."""

from __future__ import annotations

from typing import Any

from imagedrop_disk.facts.model import Finding, GuestFacts

from ..model.status import DiskRecord


def accepted(image_id: str, task_id: str, *, image_name: str | None, disks: list[DiskRecord],
             manifest_etag: str | None, advice: list[str], filled: dict[str, Any] | None = None,
             guest: dict[str, Any] | None = None,
             findings: list[dict[str, Any]] | None = None) -> tuple[str, dict[str, Any]]:
    """The note and record fields of an import ECS accepted, whoever records it: the ingest that
    submitted it, or the poller when that ingest did not live to (from the claim: JSON)."""
    return (f"ImportImage accepted: image {image_id}, task {task_id}",
            dict(image_id=image_id, task_id=task_id, image_name=image_name, disks=disks,
                 manifest_etag=manifest_etag, progress="0%", advice=list(advice), problems=[],
                 filled=dict(filled or {}),
                 guest=GuestFacts.model_validate(guest) if guest else None,
                 findings=[Finding.model_validate(f) for f in findings or []]))
