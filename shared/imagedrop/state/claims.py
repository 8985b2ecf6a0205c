"""Claims: which of several instances handling the same thing at once does a step that must happen
once (announce a state, end an import, run a poll attempt).

Function Compute may run the same event in two instances at the same moment, and retries a failed
one. A claim is a small object written with OSS put-if-absent (`x-oss-forbid-overwrite`): the
instance that creates it does the step, the others leave it alone. It names its owner, a token of
this attempt, so a claim whose write was carried out but whose answer was lost (the write retried,
then refused as existing) is still recognised as ours. A step that fails after claiming releases
the claim, so the platform's retry can take it; a claim left by an instance that died holding it is
taken over once `LEASE_SECONDS` have passed. A release is tried harder than other calls: a claim
left behind holds up the retry until its lease ends.

OSS has put-if-absent but no compare-and-swap, so a takeover is itself a put-if-absent: of the
key's next generation, `<key>.takeover-<n>`. Of two instances that find the same dead claim, one
creates that generation and takes the claim over; the other finds it taken and returns. A
takeover whose taker died in turn is stale too, and the next generation is tried.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Twice the longest function timeout (s.yaml: 300 s): whoever held a claim this long is gone.
LEASE_SECONDS = 600.0
RELEASE_TRIES = 3
TAKEOVER_GENERATIONS = 8

M = TypeVar("M", bound=BaseModel)


class ClaimStore(Protocol):
    def put_if_absent(self, key: str, data: bytes | str) -> bool: ...

    def put(self, key: str, data: bytes | str, content_type: str = ...) -> None: ...

    def get_json(self, key: str) -> Any | None: ...

    def delete(self, key: str) -> None: ...


class ClaimRecord(BaseModel):
    """What a claim object says. A marker without an owner was written by a step that needs no
    lease (it is settled from the start)."""

    model_config = ConfigDict(extra="ignore")

    owner: str | None = None
    taken: float = 0.0
    generation: int = 0
    settled: bool = False
    sent: bool = False
    state: str | None = None
    manifest: str | None = None
    at: str | None = None
    outcome: str | None = None
    failures: list[dict[str, str]] = Field(default_factory=list)
    record: dict[str, Any] | None = None

    @property
    def unsettled(self) -> bool:
        """Held by an instance still doing its step, or one that died doing it."""
        return self.owner is not None and not self.settled

    @property
    def announced(self) -> bool:
        """The state it claims was sent (or needs no sending)."""
        return self.sent or self.owner is None

    def stale(self, now: float) -> bool:
        """Left unsettled by an instance that is surely gone."""
        return self.unsettled and now - self.taken > LEASE_SECONDS

    def body(self) -> str:
        return self.model_dump_json(exclude_defaults=True)


@dataclass
class Claim:
    store: ClaimStore
    key: str
    body: ClaimRecord
    settled: bool = field(default=False)

    def settle(self, **facts: Any) -> None:
        """The step is done: record it, so the claim is never taken over or released again."""
        body = self.body.model_copy(update={**facts, "settled": True})
        self.store.put(self.key, body.body())
        self.body, self.settled = body, True

    def release(self) -> None:
        """The step failed before it was settled: let a retry take the claim (the lease frees it
        when even this fails). A claim whose settling write was carried out, its answer lost,
        stays settled."""
        if not self.settled:
            assert self.body.owner is not None
            _drop_if_ours(self.store, self.key, self.body.owner)


def take(store: ClaimStore, key: str, *, now: float, **facts: Any) -> Claim | None:
    """The claim `key` for this attempt, or None when another instance holds it. `now`: the
    deployment's clock, epoch seconds."""
    body = ClaimRecord(**facts, owner=uuid.uuid4().hex, taken=now)
    try:
        created = store.put_if_absent(key, body.body())
        found = None if created else held(store, key)
    except Exception:
        _drop_if_ours(store, key, body.owner or "")  # the write may have been carried out
        raise
    if created or (found is not None and found.owner == body.owner):
        return Claim(store, key, body)  # created, or ours with the answer to our write lost
    if found is not None and found.stale(now):
        return _take_over(store, key, body, found, now)
    return None


def _take_over(store: ClaimStore, key: str, body: ClaimRecord, dead: ClaimRecord,
               now: float) -> Claim | None:
    """Take over a claim whose holder died: the one instance that creates the next generation's
    marker writes the claim; any other finds the marker and returns None."""
    for generation in range(dead.generation + 1, dead.generation + 1 + TAKEOVER_GENERATIONS):
        mine = body.model_copy(update={"generation": generation})
        marker = f"{key}.takeover-{generation}"
        if store.put_if_absent(marker, mine.body()):
            store.put(key, mine.body())
            return Claim(store, key, mine)
        other = held(store, marker)
        if other is not None and other.owner == mine.owner:
            store.put(key, mine.body())  # ours: the answer to our write was lost
            return Claim(store, key, mine)
        if other is None or not other.stale(now):
            return None  # another instance is taking it over now
    return None


def held(store: ClaimStore, key: str) -> ClaimRecord | None:
    """What the claim `key` says, or None when nobody took it."""
    return read_model(store, key, ClaimRecord)


def read_model(store: ClaimStore, key: str, model: type[M]) -> M | None:
    """The JSON object at `key` as `model`, or None when there is none (or it is not one)."""
    found = store.get_json(key)
    if not isinstance(found, dict):
        return None
    try:
        return model.model_validate(found)
    except ValidationError:
        return None


def _drop_if_ours(store: ClaimStore, key: str, owner: str) -> None:
    for _ in range(RELEASE_TRIES):
        try:
            found = held(store, key)
            if found is not None and found.owner == owner and not found.settled:
                store.delete(key)
            return
        except Exception:  # the store is failing, which is likely why we are here: try again
            continue


