"""Reading and moving status records, and announcing every state change exactly once.

Records live at `<state prefix>status/<manifest key>`. A terminal state is taken with a
put-if-absent marker (`<state prefix>terminal/<import id>`), so two deliveries of the same message
cannot both end an import; a retry after a crash finishes what the first attempt left undone.

A state change is saved marked `unannounced`, announced, then saved again unmarked. A step that
failed in between (the save's answer lost, the invocation dead) leaves the mark, and whichever step
loads the record next sends the notification: a retry finds the state already taken and would
otherwise never announce it. Sent twice at worst, with the same CloudEvent id; never lost.
"""

from __future__ import annotations

import json
from typing import Any

from . import logs
from .errors import ImagedropError
from .services import Services
from .status import TERMINAL, Event, State, StatusRecord, can_move, moved, status_key, utc_now_iso


class Lifecycle:
    def __init__(self, services: Services, bucket: str):
        self.services = services
        self.bucket = bucket
        self.store = services.store(bucket)
        self.prefix = services.settings.state_prefix

    def now(self) -> str:
        return utc_now_iso(self.services.clock())

    # ---- records

    def load(self, manifest_key: str) -> StatusRecord | None:
        data = self.store.get_small(status_key(self.prefix, manifest_key))
        record = None if data is None else StatusRecord.model_validate_json(data)
        if record is not None and record.unannounced:
            record = self._announce_saved(record)
        return record

    def forget_quiet(self, manifest_key: str) -> None:
        """Drop a quiet waiting record: the object it waited for turned out to be a data disk."""
        record = self.load(manifest_key)
        if record is not None and record.quiet and record.state == "waiting":
            self.store.delete(status_key(self.prefix, manifest_key))

    def save(self, record: StatusRecord) -> None:
        self.store.put(status_key(self.prefix, record.manifest), record.model_dump_json(indent=2))

    def new(self, *, import_id: str, manifest_key: str, state: State, note: str, announce: bool = True,
            **fields: Any) -> StatusRecord | None:
        """The first record of an import (or of a new version of the manifest). `announce=False`
        records it quietly: a disk alone is not an import until its manifest arrives."""
        if not can_move(None, state):
            raise ImagedropError(f"an import cannot start in state {state}")
        at = self.now()
        record = StatusRecord(id=import_id, state=state, bucket=self.bucket, manifest=manifest_key,
                              region=self.services.settings.region, created_at=at, updated_at=at,
                              history=[Event(at=at, state=state, note=note)], quiet=not announce,
                              **fields)
        return self._commit(record, announce=announce)

    def move(self, record: StatusRecord, state: State, note: str, **fields: Any) -> StatusRecord | None:
        """Move to `state`, save, announce. None when another delivery already ended the import."""
        new = moved(record, state, note, self.now())
        new.quiet = False
        for name, value in fields.items():
            setattr(new, name, value)
        return self._commit(new, announce=True)

    def update(self, record: StatusRecord, **fields: Any) -> StatusRecord:
        """Change facts (progress, copies…) without a state change: saved, not announced."""
        new = record.model_copy(deep=True, update={**fields, "updated_at": self.now()})
        self.save(new)
        return new

    def _commit(self, record: StatusRecord, *, announce: bool) -> StatusRecord | None:
        if record.state in TERMINAL:
            marker = f"{self.prefix}terminal/{record.id}"
            body = json.dumps({"state": record.state, "manifest": record.manifest, "at": record.updated_at})
            if not self.store.put_if_absent(marker, body):
                taken = json.loads(self.store.get_small(marker) or b"{}")
                current = self.load(record.manifest)
                if taken.get("state") != record.state or (current and current.id == record.id and current.terminal):
                    logs.step("import.duplicate_end", id=record.id, state=record.state)
                    return None
                # Our own earlier attempt took the marker and stopped before saving: finish it.
        record.unannounced = announce
        self.save(record)
        logs.step(f"import.{record.state}", id=record.id, manifest=record.manifest,
                  image_id=record.image_id, task_id=record.task_id,
                  note=record.history[-1].note if record.history else None)
        if announce:
            record = self._announce_saved(record)
        return record

    def _announce_saved(self, record: StatusRecord) -> StatusRecord:
        """Announce a saved record's state, then save it as announced (with any delivery failures)."""
        record = self.announce(record)
        record.unannounced = False
        self.save(record)
        return record

    def announce(self, record: StatusRecord) -> StatusRecord:
        """Send the CloudEvent of `record`'s state; a copy with the delivery failures. Saves nothing:
        a refusal is announced without becoming the record."""
        from .notify import cloudevent

        settings = self.services.settings
        event = cloudevent(record, source=f"acs:oss:{settings.region}:{settings.account_id}:{self.bucket}",
                           now=self.services.clock())
        failures = [{**f, "event": event["id"]} for f in self.services.notifier.send(event)]
        record = record.model_copy(deep=True)
        if failures:
            logs.step("notify.failed", id=record.id, failures=failures)
            record.notifications.extend(failures)
        return record
