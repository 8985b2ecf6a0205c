"""The status record of one import and the rules of its state machine (pure: no I/O).

Stored at `imagedrop/status/<manifest key>`; it is what `imagedrop status` reads and what a person
opens in the console to see why. Every state change appends to `history` and is announced by
exactly one notification; a terminal state is final.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal, get_args

from imagedrop_disk.facts.model import Finding, GuestFacts
from pydantic import (AliasChoices, BaseModel, Field, SerializerFunctionWrapHandler,
                      model_serializer)

from ..errors import TransitionRefused
from .state_keys import StateKeys

State = Literal["waiting", "importing", "checking", "repairing", "finishing",
                "succeeded", "rejected", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "rejected", "failed", "cancelled"})
NON_TERMINAL: frozenset[str] = frozenset(get_args(State)) - TERMINAL

ALLOWED: dict[str | None, frozenset[str]] = {
    None: frozenset({"waiting", "importing", "rejected", "failed", "cancelled"}),
    "waiting": frozenset({"importing", "rejected", "failed", "cancelled"}),
    "importing": frozenset({"checking", "repairing", "finishing", "failed", "cancelled"}),
    "checking": frozenset({"repairing", "finishing", "failed", "cancelled"}),
    "repairing": frozenset({"finishing", "failed", "cancelled"}),
    "finishing": frozenset({"succeeded", "failed"}),
}


class Event(BaseModel):
    at: str
    state: State
    note: str = ""


class Problem(BaseModel):
    """Something the user must act on: where, which rule, what to do."""

    where: str                 # a manifest field, an object key, or an API action
    rule: str                  # what was wrong, in words
    fix: str = ""              # what to do about it
    code: str | None = None    # the Alibaba error code, when there was one

    @classmethod
    def from_text(cls, where: str, text: str, fallback_fix: str) -> "Problem":
        """A problem from one of our own lines, `rule; what to do`; where it names no remedy,
        the fallback says what to do."""
        rule, _, fix = text.partition("; ")
        return cls(where=where, rule=rule, fix=fix or fallback_fix)

    def line(self) -> str:
        head = f"{self.where}: {self.rule}"
        if self.code and self.code not in head:
            head += f" [{self.code}]"
        return f"{head}; {self.fix}" if self.fix else head


class DiskRecord(BaseModel):
    key: str
    role: Literal["system", "data"] = "system"
    etag: str | None = None
    size: int | None = None
    format: str | None = None
    virtual_size: int | None = None
    disk_gib: int | None = None


class CheckItem(BaseModel):
    """One image-check item: the risk the disk predicted before the import, beside ECS's."""

    item: str
    predicted: str | None = Field(description="High, Medium or Low; `none` when the facts read "
                                              "predict no risk; null when nothing predicts it")
    actual: str = Field(description="ECS's RiskLevel, or `none` when ECS sees no risk")
    value: str | None = None       # ECS's Value of the item
    agree: bool | None = None      # null when there was no prediction


class RepairRecord(BaseModel):
    """The Image Builder repair of an import: what it repairs, the build, and how it ended."""

    items: list[str] = Field(default_factory=list)          # RepairItem.N
    reasons: dict[str, str] = Field(default_factory=dict)   # item → why it was chosen
    original_image_id: str | None = None                    # the imported, unrepaired image
    pipeline_id: str | None = None                          # the image template (ip-…)
    execution_id: str | None = None                         # its build (exec-…)
    status: str = "STARTING"                                 # the build's last status seen
    repaired_image_id: str | None = None
    original_renamed_to: str | None = None                  # the original's name after the swap
    # Every image of the repair by the name it carries, written before each rename: the record
    # names each of them whatever happens between two calls.
    names: dict[str, str] = Field(default_factory=dict)
    swapped: bool = False                                   # both renames done
    original_deleted: bool = False
    instance_seconds: int | None = None                     # the build's temporary instance ran ≈
    checked: bool | None = None                             # the repaired image carries a check
    outcome: str | None = None                              # failed | cancelled, when it ended so
    code: str | None = None
    message: str | None = None


# Two flags are stored under names other than their fields', the names every version of the
# pipeline and the CLI reads, so that each reads every record in a bucket: field → stored name.
_STORED_AS = {"awaiting_manifest": "quiet", "announcement_pending": "unannounced"}


class StatusRecord(BaseModel):
    id: str
    state: State
    bucket: str
    manifest: str
    manifest_etag: str | None = None
    disks: list[DiskRecord] = Field(default_factory=list)
    region: str
    image_id: str | None = None
    image_name: str | None = None
    task_id: str | None = None
    progress: str | None = None
    problems: list[Problem] = Field(default_factory=list)
    fixes: list[str] = Field(default_factory=list)
    advice: list[str] = Field(default_factory=list)
    copies: dict[str, dict[str, str]] = Field(default_factory=dict)   # region -> {image_id, status}
    shared_with: list[str] = Field(default_factory=list)
    family: str | None = None
    source_deleted: bool = False
    repair: RepairRecord | None = None
    notifications: list[dict[str, str]] = Field(default_factory=list)  # delivery failures
    # Recorded without being announced: a disk whose manifest has not arrived is not an import
    # yet (it may be somebody's data disk). Stored as `quiet` (see `_STORED_AS`).
    awaiting_manifest: bool = Field(
        default=False, validation_alias=AliasChoices("awaiting_manifest", "quiet"))
    # Saved, its state's notification not sent yet: the next step that loads the record sends it
    # (`StatusBook.finish_pending_announcement`). Stored as `unannounced`.
    announcement_pending: bool = Field(
        default=False, validation_alias=AliasChoices("announcement_pending", "unannounced"))
    history: list[Event] = Field(default_factory=list)
    filled: dict[str, dict[str, str | None]] = Field(default_factory=dict)  # field -> value, from
    guest: GuestFacts | None = None   # what the system disk's own files say
    findings: list[Finding] = Field(default_factory=list)  # the image-check risks they predict
    check: list[CheckItem] = Field(default_factory=list)   # predicted beside ECS's, per item
    created_at: str = ""
    updated_at: str = ""

    @model_serializer(mode="wrap")
    def _stored_names(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for field, stored in _STORED_AS.items():
            if field in data:
                data[stored] = data.pop(field)
        return data

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def running(self) -> bool:
        """An import of this manifest is under way: ECS accepted it and it has not ended. A record
        that only waits (for disks, or for ImportImage to be accepted) is not running."""
        return not self.terminal and self.state != "waiting"

    def summary(self) -> dict[str, object]:
        """What a notification carries: enough to act on without opening the record."""
        return {
            "id": self.id, "state": self.state, "bucket": self.bucket, "manifest": self.manifest,
            "region": self.region, "image_id": self.image_id, "image_name": self.image_name,
            "task_id": self.task_id, "progress": self.progress,
            "problems": [p.line() for p in self.problems], "fixes": self.fixes,
            "advice": self.advice, "copies": self.copies, "shared_with": self.shared_with,
            **({"repair": self.repair.model_dump(exclude_none=True)} if self.repair else {}),
            "note": self.history[-1].note if self.history else "",
            "filled": self.filled,
            "guest": _bounded(self.guest.model_dump(mode="json")) if self.guest else None,
            "findings": [f.model_dump(mode="json") for f in self.findings],
            "check": [c.model_dump(mode="json") for c in self.check],
        }


EVENT_LIST_ITEMS = 10


def _bounded(facts: dict[str, object]) -> dict[str, object]:
    """The guest's facts for a notification: a hostile disk's long lists (fstab entries, notes)
    cut to their first items and a count, so an event stays far below the 64 KiB a message
    may hold; the status record keeps them whole."""
    out = dict(facts)
    for name, value in facts.items():
        if isinstance(value, list) and len(value) > EVENT_LIST_ITEMS:
            out[name] = [*value[:EVENT_LIST_ITEMS], f"… and {len(value) - EVENT_LIST_ITEMS} more"]
    return out


def utc_now_iso(now: float | None = None) -> str:
    moment = datetime.now(timezone.utc) if now is None else datetime.fromtimestamp(now, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def can_move(current: str | None, new: str) -> bool:
    return new in ALLOWED.get(current, frozenset())


def moved(record: StatusRecord, state: State, note: str, at: str) -> StatusRecord:
    """A copy of `record` in `state`, with the change in its history. Refuses illegal moves."""
    if not can_move(record.state, state):
        raise TransitionRefused(f"{record.manifest}: cannot move from {record.state} to {state}")
    copy = record.model_copy(deep=True)
    copy.state = state
    copy.updated_at = at
    copy.history.append(Event(at=at, state=state, note=note))
    return copy


def status_key(state_prefix: str, manifest_key: str) -> str:
    """Where the record of `manifest_key` lives (a bounded key when the manifest's is too long)."""
    return StateKeys(state_prefix).status(manifest_key)
