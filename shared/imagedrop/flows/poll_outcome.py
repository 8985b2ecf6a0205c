"""What a poll step answers, and the moves its stages end with: queue the next message, look again
later while another instance holds what the step needs, end the import (or say who else is ending
it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model.events import TrackMessage
from ..model.status import State, StatusRecord
from ..services import Services
from ..state import claims
from ..state.import_claim import ImportClaim, read_claim
from ..state.status_book import StatusBook

RETRY_SECONDS = 30


@dataclass(frozen=True)
class PollOutcome:
    import_id: str
    outcome: str
    detail: str = ""


def unsettled(book: StatusBook, key: str) -> bool:
    marker = claims.held(book.store, key)
    return marker is not None and marker.unsettled


def claim_of(book: StatusBook, msg: TrackMessage) -> ImportClaim | None:
    return read_claim(book.store, book.keys.claim(msg.import_id))


def end(book: StatusBook, msg: TrackMessage, record: StatusRecord, state: State, note: str,
        detail: str = "", **fields: Any) -> PollOutcome:
    """End the import in `state`, or say who else is ending it."""
    if book.move(record, state, note, **fields) is None:
        return moved_elsewhere(book, msg, state)
    return PollOutcome(msg.import_id, state, detail)


def moved_elsewhere(book: StatusBook, msg: TrackMessage, state: str) -> PollOutcome:
    """Another instance holds `state`'s claim. Settled: it moved the import on and follows it.
    Not settled: it is moving it now, or died doing so; look again later, so that the import is
    taken over once the claim's lease is over rather than left where it is."""
    if unsettled(book, book.claim_key(msg.import_id, state)):
        return look_again_later(book.services, msg, f"{state} is being entered by another instance")
    return PollOutcome(msg.import_id, "ended")


def look_again_later(services: Services, msg: TrackMessage, why: str) -> PollOutcome:
    """Another instance holds what this step needs: the next attempt runs after RETRY_SECONDS."""
    send(services, msg.model_copy(update={"attempt": msg.attempt + 1}), RETRY_SECONDS)
    return PollOutcome(msg.import_id, "busy", why)


def send(services: Services, msg: TrackMessage, delay: int) -> None:
    services.mns.send(services.settings.queue, msg.to_body(), delay)
