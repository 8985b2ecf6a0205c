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
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

# Twice the longest function timeout (s.yaml: 300 s): whoever held a claim this long is gone.
LEASE_SECONDS = 600.0
RELEASE_TRIES = 3


class ClaimStore(Protocol):
    def put_if_absent(self, key: str, data: bytes | str) -> bool: ...

    def put(self, key: str, data: bytes | str, content_type: str = ...) -> None: ...

    def get_json(self, key: str) -> Any | None: ...

    def delete(self, key: str) -> None: ...


@dataclass
class Claim:
    store: ClaimStore
    key: str
    body: dict[str, Any]
    settled: bool = field(default=False)

    def settle(self, **facts: Any) -> None:
        """The step is done: record it, so the claim is never taken over or released again."""
        body = {**self.body, **facts, "settled": True}
        self.store.put(self.key, json.dumps(body))
        self.body, self.settled = body, True

    def release(self) -> None:
        """The step failed before it was settled: let a retry take the claim (the lease frees it
        when even this fails). A claim whose settling write was carried out, its answer lost,
        stays settled."""
        if not self.settled:
            _drop_if_ours(self.store, self.key, self.body["owner"])


def take(store: ClaimStore, key: str, *, now: float, **facts: Any) -> Claim | None:
    """The claim `key` for this attempt, or None when another instance holds it. `now`: the
    deployment's clock, epoch seconds."""
    body = {**facts, "owner": uuid.uuid4().hex, "taken": now}
    try:
        created = store.put_if_absent(key, json.dumps(body))
        held = {} if created else store.get_json(key) or {}
    except Exception:
        _drop_if_ours(store, key, body["owner"])  # the write may have been carried out
        raise
    if created:
        return Claim(store, key, body)
    if held.get("owner") == body["owner"]:
        return Claim(store, key, body)  # ours: the answer to our write was lost
    if stale(held, now):
        store.put(key, json.dumps(body))  # its holder died holding it
        return Claim(store, key, body)
    return None


def held(store: ClaimStore, key: str) -> dict[str, Any] | None:
    """What the claim `key` says, or None when nobody took it."""
    found = store.get_json(key)
    return found if isinstance(found, dict) else None


def unsettled(held: dict[str, Any]) -> bool:
    """Whether a claim is held by an instance still doing its step, or one that died doing it."""
    return "owner" in held and not held.get("settled")


def stale(held: dict[str, Any], now: float) -> bool:
    """Whether a claim was left unsettled by an instance that is surely gone."""
    return unsettled(held) and now - float(held.get("taken", 0)) > LEASE_SECONDS


def _drop_if_ours(store: ClaimStore, key: str, owner: str) -> None:
    for _ in range(RELEASE_TRIES):
        try:
            held = store.get_json(key) or {}
            if held.get("owner") == owner and not held.get("settled"):
                store.delete(key)
            return
        except Exception:  # the store is failing, which is likely why we are here: try again
            continue
