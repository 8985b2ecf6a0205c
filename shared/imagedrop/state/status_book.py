"""The status book: the store of status records and their notifier, announcing every state change
exactly once (docs/architecture.md#idempotency-rules).

Records live at `<state prefix>status/<manifest key>`. Function Compute may run two instances of
the same event at once and retries failed ones, so every announced state is claimed first
(`claims.take`): `<state prefix>terminal/<import id>` for the end of an import (one end, whichever
it is), `<state prefix>states/<import id>/<state>` for the others. The instance that holds the
claim saves and announces the state; any other returns None and changes nothing.

A state change is saved marked `announcement_pending`, announced, its claim settled as sent, then
saved again unmarked. A step that failed before sending releases the claim; whichever step loads the
record next (the platform's retry, the next poll) hands it to `finish_pending_announcement`, which
takes the claim and sends the notification. Sent once; twice only when a send's answer was lost,
with the same CloudEvent id. `load` itself only reads.
"""

from __future__ import annotations

from typing import Any

from . import claims
from .. import logs
from ..errors import ImagedropError, ImportEnded
from ..services import Services
from ..model.state_keys import StateKeys
from ..model.status import (ALLOWED, NON_TERMINAL, TERMINAL, Event, State, StatusRecord, can_move,
                            moved, utc_now_iso)


class StatusBook:
    """The status records of one bucket: read, start, move and update them, each state change
    announced exactly once."""

    def __init__(self, services: Services, bucket: str):
        self.services = services
        self.bucket = bucket
        self.store = services.store(bucket)
        self.prefix = services.settings.state_prefix
        self.keys = StateKeys(self.prefix)

    def now(self) -> str:
        return utc_now_iso(self.services.clock())

    # ---- records

    def load(self, manifest_key: str) -> StatusRecord | None:
        """The record of `manifest_key` as stored; reads only."""
        data = self.store.get_small(self.keys.status(manifest_key))
        return None if data is None else StatusRecord.model_validate_json(data)

    def current(self, manifest_key: str) -> StatusRecord | None:
        """The record of `manifest_key`, its state announced: what every step acts on."""
        return self.finish_pending_announcement(self.load(manifest_key))

    def finish_pending_announcement(self, record: StatusRecord | None) -> StatusRecord | None:
        """`record` once its state is announced: a record saved but maybe not announced (its step
        died before sending) is announced now, unless that was done, or another instance is doing
        it now. Every step calls it on the record it loads before acting on it."""
        if record is None or not record.announcement_pending:
            return record
        key = self.claim_key(record.id, record.state)
        marker = claims.held(self.store, key)
        if marker is not None and marker.announced:
            # Sent; the step that sent it did not live to say so in the record: say it now.
            failures = marker.failures
            record.announcement_pending = False
            record.notifications.extend(f for f in failures if f not in record.notifications)
            self._save_unless_moved(record, failures)
            return record
        claim = self._take(record)
        if claim is None:
            return record  # its holder is sending it
        try:
            return self._send(record, claim)
        except BaseException:
            claim.release()
            raise

    def claim_key(self, import_id: str, state: str) -> str:
        return self.keys.state(import_id, state, terminal=state in TERMINAL)

    def ended(self, import_id: str) -> str | None:
        """The end an import was given, if any (its record may say otherwise: a refusal is only
        announced). An end claimed by an instance that died before saving it is none."""
        marker = claims.held(self.store, self.keys.terminal(import_id))
        if marker is None or marker.stale(self.services.clock()):
            return None
        return marker.state or "ended"

    def guard(self, import_id: str) -> None:
        """Right before a side effect: raise `ImportEnded` when the import's end is claimed."""
        end = self.ended(import_id)
        if end is not None:
            raise ImportEnded(import_id, end)

    def lease(self, import_id: str) -> claims.Claim | None:
        """The right to work on the import: follow it, end it. Held by one instance at a time, never
        settled: released when the step is over (or taken over once its holder is gone)."""
        return claims.take(self.store, self.keys.work(import_id), now=self.services.clock(),
                           at=self.now())

    def forget_lone_disk(self, manifest_key: str) -> None:
        """Drop a quiet waiting record: the object it waited for turned out to be a data disk."""
        record = self.load(manifest_key)
        if record is not None and record.awaiting_manifest and record.state == "waiting":
            self.store.delete(self.keys.status(manifest_key))

    def save(self, record: StatusRecord) -> None:
        self.store.put(self.keys.status(record.manifest), record.model_dump_json(indent=2))

    def new(self, *, import_id: str, manifest_key: str, state: State, note: str, announce: bool = True,
            **fields: Any) -> StatusRecord | None:
        """The first record of an import (or of a new version of the manifest). `announce=False`
        records it quietly: a disk alone is not an import until its manifest arrives."""
        if not can_move(None, state):
            raise ImagedropError(f"an import cannot start in state {state}")
        at = self.now()
        record = StatusRecord(id=import_id, state=state, bucket=self.bucket, manifest=manifest_key,
                              region=self.services.settings.region, created_at=at, updated_at=at,
                              history=[Event(at=at, state=state, note=note)],
                              awaiting_manifest=not announce, **fields)
        return self._commit(record, announce=announce)

    def move(self, record: StatusRecord, state: State, note: str, **fields: Any) -> StatusRecord | None:
        """Move to `state`, save, announce. None when another delivery already ended the import."""
        new = moved(record, state, note, self.now())
        new.awaiting_manifest = False
        for name, value in fields.items():
            setattr(new, name, value)
        return self._commit(new, announce=True)

    def update(self, record: StatusRecord, **fields: Any) -> StatusRecord:
        """Change facts (progress, copies…) without a state change: saved, not announced."""
        new = record.model_copy(deep=True, update={**fields, "updated_at": self.now()})
        self.save(new)
        if new.announcement_pending:
            # Written from a copy loaded while its state was being announced: that may have been
            # done since, and this save must not leave the record saying it was not.
            return self.finish_pending_announcement(new) or new
        return new

    def _commit(self, record: StatusRecord, *, announce: bool) -> StatusRecord | None:
        claim = None
        if announce or record.state in TERMINAL:
            claim = self._take(record)
            if claim is None:
                repaired = self._repair(record)
                if repaired is not None:
                    return repaired
                logs.step("import.duplicate_state", id=record.id, state=record.state)
                return None
        try:
            record.announcement_pending = announce
            if announce:
                self._gather_failures(record)
            if record.state in TERMINAL:
                self._announce_in_flight(record)
            self.save(record)
            logs.step(f"import.{record.state}", id=record.id, manifest=record.manifest,
                      image_id=record.image_id, task_id=record.task_id,
                      note=record.history[-1].note if record.history else None)
            if announce:
                assert claim is not None
                sent = self._send(record, claim)
                if record.state not in TERMINAL and self.ended(record.id) is not None:
                    # The end was claimed while this state was being saved: it announced this
                    # state before itself; the record must be the end's, not this state's.
                    self._restore_end(record)
                    return None
                return sent
            if claim is not None:
                claim.settle()
        except BaseException:
            if claim is not None:
                claim.release()
            raise
        return record

    def _send(self, record: StatusRecord, claim: claims.Claim) -> StatusRecord:
        """Announce a saved record's state under its claim, then save it as announced (with any
        delivery failures) unless another step has moved the record on meanwhile."""
        before = len(record.notifications)
        record = self.announce(record)
        failures = record.notifications[before:]
        record.announcement_pending = False
        claim.settle(sent=True, failures=failures, record=record.model_dump(mode="json"))
        self._save_unless_moved(record, failures)
        if record.state in TERMINAL:
            self._gather_late_failures(record)
        return record

    def _gather_late_failures(self, record: StatusRecord) -> None:
        """After the end is saved, add what an earlier state's step, still sending when the end
        was gathered, has written to its claim since. A step finishing after this finds the end
        saved and adds its own (see `_save_unless_moved`)."""
        known = list(record.notifications)
        self._gather_failures(record)
        if record.notifications != known:
            self._save_unless_moved(record, [])

    def _save_unless_moved(self, record: StatusRecord, failures: list[dict[str, str]]) -> None:
        """Save `record` as announced; when another step has moved it on meanwhile (the poller is
        quick), add the delivery failures to what that step saved, once it has saved the end
        as announced. Before that the record is still being written by that step, and a save
        here could undo its work; the failures are in this state's claim, where the step that
        ends the import gathers them (`_gather_failures`, `_gather_late_failures`)."""
        now = self.load(record.manifest)
        if now is None or (now.id == record.id and now.state == record.state):
            self.save(record)
        elif now.id == record.id and record.terminal and not now.terminal:
            self.save(record)   # a state saved over the end while the end was claimed: the end wins
        elif (now.id == record.id and now.terminal and not now.announcement_pending
              and any(f not in now.notifications for f in failures)):
            now.notifications.extend(f for f in failures if f not in now.notifications)
            self.save(now)

    def _take(self, record: StatusRecord) -> claims.Claim | None:
        """The claim of `record`'s state; None when another instance holds it, or when the state is
        not an end and the import's end is claimed (a terminal state is final).

        A state's claim is written (with its record) before the end is looked for, and an end's
        claim before the states in flight are: so either the state sees the end and gives way, or
        the end sees the state in flight and announces it first (`_announce_in_flight`)."""
        claim = claims.take(self.store, self.claim_key(record.id, record.state),
                            now=self.services.clock(), state=record.state,
                            manifest=record.manifest, at=record.updated_at,
                            record=None if record.terminal else record.model_dump(mode="json"))
        if claim is None or record.state in TERMINAL:
            return claim
        try:
            end = self.ended(record.id)
        except BaseException:
            claim.release()
            raise
        if end is not None:
            claim.release()
            logs.step("import.state_after_end", id=record.id, state=record.state, end=end)
            return None
        return claim

    def _announce_in_flight(self, end: StatusRecord) -> None:
        """Before the end is announced, announce every state of the import another instance has
        claimed and not yet sent, with the CloudEvent id that instance sends it with: receivers
        see the states in order, the end last, and a later send of the same state as a resend."""
        now = self.services.clock()
        for state in sorted(NON_TERMINAL, key=_rank):
            marker = claims.held(self.store, self.claim_key(end.id, state))
            if marker is None or not marker.unsettled or marker.stale(now) or not marker.record:
                continue
            announced = self.announce(StatusRecord.model_validate(marker.record))
            logs.step("import.announced_in_flight", id=end.id, state=state, end=end.state)
            end.notifications.extend(f for f in announced.notifications if f not in end.notifications)

    def _restore_end(self, record: StatusRecord) -> None:
        """Save the end as it was announced over `record`, a state saved after the end was claimed
        (the end's own final save wins too, when it comes later)."""
        marker = claims.held(self.store, self.keys.terminal(record.id))
        if marker is None or not marker.sent or not marker.record:
            return   # the end is still being saved by its holder, whose last save wins
        current = self.load(record.manifest)
        if current is not None and current.id == record.id and not current.terminal:
            end = StatusRecord.model_validate(marker.record)
            end.announcement_pending = False
            self.save(end)
            logs.step("import.end_restored", id=record.id, over=record.state, end=end.state)

    def _repair(self, record: StatusRecord) -> StatusRecord | None:
        """Another instance took and announced this state, yet the saved record is behind it (a
        concurrent step saved an earlier state over it): save it again, quietly."""
        marker = claims.held(self.store, self.claim_key(record.id, record.state))
        if marker is None or not marker.sent or marker.state != record.state:
            return None
        current = self.load(record.manifest)
        if current is not None and (current.id != record.id or _rank(current.state) >= _rank(record.state)):
            return None
        logs.step("import.repaired", id=record.id, state=record.state,
                  was=current.state if current else None)
        announced = StatusRecord.model_validate(marker.record) if marker.record else record
        announced.announcement_pending = False
        self.save(announced)  # as it was announced: its CloudEvent id names its place in history
        return announced

    def _gather_failures(self, record: StatusRecord) -> None:
        """Add the delivery failures of the import's earlier states, kept with their claims: the
        step that announced one may still have been sending it when another moved the record on."""
        earlier = {e.state for e in record.history[:-1]} - {record.state} - TERMINAL
        for state in sorted(earlier):
            marker = claims.held(self.store, self.claim_key(record.id, state))
            failures = marker.failures if marker is not None else []
            record.notifications.extend(f for f in failures if f not in record.notifications)

    def announce_once(self, record: StatusRecord) -> bool:
        """Announce `record`'s terminal state without saving it (a refusal that must not replace
        the running import's record), once per import id. False when it was already."""
        claim = self._take(record)
        if claim is None:
            return False
        try:
            self.announce(record)
            claim.settle(sent=True)
        except BaseException:
            claim.release()
            raise
        return True

    def announce(self, record: StatusRecord) -> StatusRecord:
        """Send the CloudEvent of `record`'s state; a copy with the delivery failures. Saves nothing:
        a refusal is announced without becoming the record."""
        from ..notify import cloudevent

        settings = self.services.settings
        event = cloudevent(record, source=f"acs:oss:{settings.region}:{settings.account_id}:{self.bucket}",
                           now=self.services.clock())
        failures = [{**f, "event": event["id"]} for f in self.services.notifier.send(event)]
        record = record.model_copy(deep=True)
        if failures:
            logs.step("notify.failed", id=record.id, failures=failures)
            record.notifications.extend(failures)
        return record


def _steps_from_start() -> dict[str, int]:
    """Each state's place in an import's course: the longest run of allowed moves that reaches
    it (an end after every other state)."""
    rank: dict[str, int] = {}
    frontier: dict[str | None, int] = {None: 0}
    while frontier:
        following: dict[str | None, int] = {}
        for state, depth in frontier.items():
            for new in ALLOWED.get(state, frozenset()):
                if rank.get(new, -1) < depth + 1:
                    rank[new] = following[new] = depth + 1
        frontier = following
    return rank


_RANK = _steps_from_start()


def _rank(state: str) -> int:
    return _RANK.get(state, len(_RANK))
