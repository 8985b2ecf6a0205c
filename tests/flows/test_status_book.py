"""The status book: two flags are stored as `quiet` and `unannounced`, the names every version
reads, and a record so stored loads and is saved so again; a load only reads; the pending
announcement is finished by the explicit step."""

from __future__ import annotations

import json

import pytest

from imagedrop.flows.ingest import ingest_object
from imagedrop.state.status_book import StatusBook

from .fakes import BUCKET, Cloud, manifest, sample_disk

DISK = "incoming/web.qcow2"
MANIFEST = DISK + ".json"
STATUS_KEY = f"imagedrop/status/{MANIFEST}"


@pytest.fixture
def cloud() -> Cloud:
    return Cloud()


def old_record(state: str, **flags: bool) -> str:
    """A status record as stored, its flags under their stored names (`quiet`, `unannounced`)
    and none under the fields' names (`awaiting_manifest`, `announcement_pending`)."""
    at = "2026-11-20T10:00:00Z"
    return json.dumps({"id": "idp-old", "state": state, "bucket": BUCKET, "manifest": MANIFEST,
                       "region": "cn-hangzhou", "history": [{"at": at, "state": state, "note": ""}],
                       "created_at": at, "updated_at": at, **flags})


def test_a_record_written_with_the_old_flag_names_loads(cloud: Cloud) -> None:
    book = StatusBook(cloud.services, BUCKET)
    cloud.bucket.put(STATUS_KEY, old_record("waiting", quiet=True, unannounced=False))
    waiting = book.load(MANIFEST)
    assert waiting is not None
    assert (waiting.awaiting_manifest, waiting.announcement_pending) == (True, False)
    cloud.bucket.put(STATUS_KEY, old_record("importing", quiet=False, unannounced=True))
    importing = book.load(MANIFEST)
    assert importing is not None
    assert (importing.awaiting_manifest, importing.announcement_pending) == (False, True)
    # and a record saved stores the flags under the same names, which every version reads
    book.save(importing)
    stored = cloud.record(MANIFEST) or {}
    assert (stored["quiet"], stored["unannounced"]) == (False, True)
    assert "announcement_pending" not in stored and "awaiting_manifest" not in stored


def test_an_old_lone_disk_record_still_waits_quietly_for_its_manifest(cloud: Cloud) -> None:
    # Given a disk recorded alone with its flag stored as `quiet`, and then its manifest
    cloud.bucket.drop(DISK, sample_disk())
    cloud.bucket.put(STATUS_KEY, old_record("waiting", quiet=True))
    result = ingest_object(cloud.bucket.drop(MANIFEST, manifest()), cloud.services)
    # Then the import starts, and the quiet wait was never announced
    assert result.outcome == "submitted"
    assert cloud.mns.states() == ["importing"]


def test_load_only_reads_and_the_pending_announcement_is_sent_once(cloud: Cloud) -> None:
    book = StatusBook(cloud.services, BUCKET)
    cloud.bucket.put(STATUS_KEY, old_record("importing", unannounced=True))
    stored = dict(cloud.bucket.objects)
    # When the record is loaded
    record = book.load(MANIFEST)
    # Then nothing is written or sent
    assert record is not None and record.announcement_pending
    assert cloud.bucket.objects == stored and cloud.mns.published == []
    # When the step finishes the pending announcement (twice, as a retry would)
    announced = book.finish_pending_announcement(record)
    again = book.finish_pending_announcement(book.load(MANIFEST))
    # Then the state is announced once and the record saved as announced
    assert cloud.mns.states() == ["importing"]
    assert announced is not None and not announced.announcement_pending
    assert again is not None and not again.announcement_pending
    assert cloud.record(MANIFEST)["unannounced"] is False  # type: ignore[index]


def test_the_state_order_follows_the_allowed_moves() -> None:
    from imagedrop.state.status_book import _rank

    course = ["waiting", "importing", "checking", "repairing", "finishing", "succeeded"]
    assert [_rank(s) for s in course] == sorted(_rank(s) for s in course)
    assert len({_rank(s) for s in course}) == len(course)


def test_a_stale_repairing_save_over_finishing_is_put_right(cloud: Cloud) -> None:
    # Given `finishing` announced, then a slow step's save of `repairing` over it
    book = StatusBook(cloud.services, BUCKET)
    record = book.new(import_id="idp-1", manifest_key=MANIFEST, state="importing", note="")
    assert record is not None
    repairing = book.move(record, "repairing", "")
    assert repairing is not None
    finishing = book.move(repairing, "finishing", "")
    assert finishing is not None
    book.save(repairing)
    # When another copy of the step that moved it to finishing comes
    again = book.move(repairing, "finishing", "")
    # Then the record is `finishing` again, as it was announced
    assert again is not None and book.load(MANIFEST).state == "finishing"


def test_a_dead_claim_is_taken_over_by_one_instance_only(cloud: Cloud) -> None:
    from imagedrop.state import claims

    key = "imagedrop/terminal/idp-1"
    cloud.bucket.put(key, claims.ClaimRecord(owner="dead", taken=cloud.clock.now).body())
    cloud.clock.now += claims.LEASE_SECONDS + 1
    # Two instances find the same dead claim; each would win with a plain put
    first = claims.take(cloud.bucket, key, now=cloud.clock.now)
    second = claims.take(cloud.bucket, key, now=cloud.clock.now)
    assert first is not None and second is None
    held = claims.held(cloud.bucket, key)
    assert held is not None and held.owner == first.body.owner and held.generation == 1
    # And once the taker dies too, the next generation is taken over, once
    cloud.clock.now += claims.LEASE_SECONDS + 1
    third = claims.take(cloud.bucket, key, now=cloud.clock.now)
    assert third is not None and third.body.generation == 2
    assert claims.take(cloud.bucket, key, now=cloud.clock.now) is None


def test_an_update_from_a_copy_loaded_while_announcing_does_not_undo_the_announcement(
        cloud: Cloud) -> None:
    # Given an end saved by one instance, and loaded by another before it was announced
    book = StatusBook(cloud.services, BUCKET)
    record = book.new(import_id="idp-1", manifest_key=MANIFEST, state="importing", note="")
    assert record is not None
    claim = book._take(record.model_copy(update={"state": "cancelled"}))
    assert claim is not None
    ending = record.model_copy(update={"state": "cancelled", "announcement_pending": True})
    book.save(ending)
    loaded = book.current(MANIFEST)        # its claim is held: left pending for its holder
    assert loaded is not None and loaded.announcement_pending
    # When the holder announces and saves it, then the other saves a fact on its old copy
    book._send(ending, claim)
    assert cloud.record(MANIFEST)["unannounced"] is False  # type: ignore[index]
    updated = book.update(loaded, task_id="t-1")
    # Then the record keeps the fact and still says the end was announced, sent once
    stored = cloud.record(MANIFEST)
    assert stored["task_id"] == "t-1" and stored["unannounced"] is False  # type: ignore[index]
    assert not updated.announcement_pending
    assert cloud.mns.states() == ["importing", "cancelled"]
