"""The status record of one import and the rules of its state machine (pure: no I/O).

Stored at `imagedrop/status/<manifest key>`; it is what `imagedrop status` reads and what a person
opens in the console to see why. Every state change appends to `history` and is announced by
exactly one notification; a terminal state is final.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

State = Literal["waiting", "importing", "checking", "finishing",
                "succeeded", "rejected", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "rejected", "failed", "cancelled"})

ALLOWED: dict[str | None, frozenset[str]] = {
    None: frozenset({"waiting", "importing", "rejected", "failed", "cancelled"}),
    "waiting": frozenset({"importing", "rejected", "failed", "cancelled"}),
    "importing": frozenset({"checking", "finishing", "failed", "cancelled"}),
    "checking": frozenset({"finishing", "failed", "cancelled"}),
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
    notifications: list[dict[str, str]] = Field(default_factory=list)  # delivery failures
    quiet: bool = False  # recorded but not announced: a disk whose manifest has not arrived
    unannounced: bool = False  # saved, its notification not yet sent: the next step sends it
    history: list[Event] = Field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def summary(self) -> dict[str, object]:
        """What a notification carries: enough to act on without opening the record."""
        return {
            "id": self.id, "state": self.state, "bucket": self.bucket, "manifest": self.manifest,
            "region": self.region, "image_id": self.image_id, "image_name": self.image_name,
            "task_id": self.task_id, "progress": self.progress,
            "problems": [p.line() for p in self.problems], "fixes": self.fixes,
            "advice": self.advice, "copies": self.copies, "shared_with": self.shared_with,
            "note": self.history[-1].note if self.history else "",
        }


def utc_now_iso(now: float | None = None) -> str:
    moment = datetime.now(timezone.utc) if now is None else datetime.fromtimestamp(now, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class TransitionRefused(Exception):
    pass


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
    return f"{state_prefix}status/{manifest_key}"
