"""The ingest step: an object arrived under the watched prefix → maybe an import.

Where it sits in the flow: docs/architecture.md#flow.

Whichever of disk and manifest arrives last completes the pair; the earlier one records what is
still missing. Safe to run any number of times for the same event: the import id is derived from
the manifest's version (ETag and Last-Modified) and the disks' ETags, ImportImage gets it as
ClientToken, and the status record says what was done. A redelivered event finds the same version;
the same manifest uploaded again is a new request (the advice after a refusal is to do just that).
"""

from __future__ import annotations

import json

from . import cancel as cancels
from .. import logs
from imagedrop_disk.source import CountingSource
from imagedrop_disk.errors import DiskError

from ..decide.archived import read_state
from ..budget import DeadlineSource, OutOfTime
from ..errors import ManifestError, PermanentCloudError, RetryableCloudError
from ..model.events import ObjectCreated
from ..state.import_claim import ImportClaim, read_claim
from ..state.status_book import StatusBook
from ..manifest import parse_manifest
from ..state.ownership import NamedObject, claim_data_disks
from ..decide.plan import DiskFacts, Rejection, WantedDisk, import_id, plan_import, wanted_disks
from ..services import Services
from ..model.state_keys import CANCEL_SUFFIX
from ..model.status import Problem, StatusRecord
from .ingest_outcome import IngestOutcome, wait_id
from .ingest_refusals import (announce_refusal, leave_pending_announcement, manifest_key_of,
                              record_out_of_time, record_refusal, reject)
from .ingest_submit import guest_fields, submit


def ingest_event(records: list[ObjectCreated], services: Services) -> list[IngestOutcome]:
    return [ingest_object(r, services) for r in records]


def _resolve_key(services: Services, created: ObjectCreated) -> str:
    """The key as OSS knows it: as given, else its URL-decoded forms (the payload's encoding is
    undocumented)."""
    candidates = created.key_candidates()
    if len(candidates) > 1:
        store = services.store(created.bucket)
        for key in candidates:
            if store.head(key) is not None:
                return key
    return candidates[0]


def ingest_object(created: ObjectCreated, services: Services) -> IngestOutcome:
    try:
        return _ingest_object(created, services)
    except PermanentCloudError as err:
        # e.g. AccessDenied on the bucket: retrying will not help, so say it where people look.
        logs.step("ingest.refused", key=created.key, code=err.code, message=err.message)
        record_refusal(services, created, err)
        return IngestOutcome(created.key, "rejected", f"{err.code}: {err.message}")
    except RetryableCloudError:
        leave_pending_announcement(services, created)
        raise   # the platform retries the invocation
    except OutOfTime as err:
        # The platform would stop this invocation soon and retry it, to run out of time again.
        logs.step("ingest.out_of_time", key=created.key, doing=err.doing, timeout=err.timeout)
        record_out_of_time(StatusBook(services, created.bucket), manifest_key_of(created), err)
        return IngestOutcome(created.key, "out_of_time", str(err))


def _ingest_object(created: ObjectCreated, services: Services) -> IngestOutcome:
    settings = services.settings
    key = _resolve_key(services, created)
    if not key.startswith(settings.watch_prefix) or key.startswith(settings.state_prefix):
        return IngestOutcome(key, "ignored", f"outside {settings.watch_prefix}")
    book = StatusBook(services, created.bucket)
    if key.endswith(".json" + CANCEL_SUFFIX):
        return cancel(book, key[: -len(CANCEL_SUFFIX)])
    if key.endswith(CANCEL_SUFFIX) and book.load(key[: -len(CANCEL_SUFFIX)] + ".json"):
        return cancel(book, key[: -len(CANCEL_SUFFIX)] + ".json")  # `K.cancel`, as people also write it
    if key.endswith(".json"):
        return import_wait_or_refuse(book, key)
    manifest_key = key + ".json"
    if book.store.head(manifest_key) is None:
        waiting = book.store.get_json(book.keys.waiting(key))
        if waiting and waiting.get("manifest"):
            return import_wait_or_refuse(book, waiting["manifest"])  # a data disk completed someone's set
        if _imported_already(book, manifest_key, key):
            return IngestOutcome(key, "duplicate", "a late copy of an event: this disk's import has ended")
        return _wait(book, manifest_key, missing=[manifest_key], import_ref=key)
    return import_wait_or_refuse(book, manifest_key)


def _imported_already(book: StatusBook, manifest_key: str, disk_key: str) -> bool:
    """Whether a lone disk's event comes after its import ended (or its object is gone, deleted
    on success): nothing to wait for, and the record that says how it ended stays."""
    head = book.store.head(disk_key)
    if head is None:
        return True
    record = book.current(manifest_key)
    return record is not None and record.terminal and any(
        d.key == disk_key and d.etag == head.etag for d in record.disks)


def _wait(book: StatusBook, manifest_key: str, *, missing: list[str],
          import_ref: str) -> IngestOutcome:
    note = "waiting for " + ", ".join(missing)
    for key in missing:
        if not key.endswith(".json"):  # a data disk: remember whose set it completes
            book.store.put(book.keys.waiting(key), json.dumps({"manifest": manifest_key}))
    record = book.current(manifest_key)
    if record and record.running:
        return IngestOutcome(manifest_key, "busy", f"import {record.id} is {record.state}")
    waiting_id = wait_id(import_ref)
    # Only a manifest makes an import: a disk alone is recorded but not announced.
    announce = missing != [manifest_key]
    if record is None or record.terminal or (record.awaiting_manifest and announce):
        book.new(import_id=waiting_id, manifest_key=manifest_key, state="waiting", note=note,
                 progress=note, announce=announce)
    elif record.progress != note:
        book.update(record, progress=note)
    return IngestOutcome(manifest_key, "waiting", note)


def import_wait_or_refuse(book: StatusBook, manifest_key: str) -> IngestOutcome:
    services, store = book.services, book.store
    info = store.head(manifest_key)
    if info is None:
        return IngestOutcome(manifest_key, "ignored", "manifest vanished")
    record = book.current(manifest_key)
    upload = f"{manifest_key}@{info.version}"  # this upload of the manifest, as a waiting record names it
    if record and record.state == "cancelled" and record.id == wait_id(upload):
        # Cancelled while it waited for its disks: a disk arriving later must not revive it.
        return IngestOutcome(manifest_key, "ignored", "this version of the manifest was cancelled; upload it again to import")
    raw = store.get_small(manifest_key)
    if raw is None:   # deleted since the look above (by a success that asked for it, maybe)
        return IngestOutcome(manifest_key, "ignored", "manifest vanished")
    try:
        manifest = parse_manifest(raw)
    except ManifestError as err:
        rid = import_id(book.bucket, manifest_key, info.version, [])
        problems = [_manifest_problem(manifest_key, line) for line in err.problems]
        return reject(book, rid, manifest_key, problems, "the manifest breaks the rules")
    key_problems = manifest.name_problems(manifest_key, book.prefix)
    if key_problems:  # before any disk is awaited or read: these keys cannot be imported
        rid = import_id(book.bucket, manifest_key, info.version, [])
        problems = [Problem.from_text(where, text, "rename the objects, then upload them again")
                    for where, text in key_problems]
        return reject(book, rid, manifest_key, problems,
                      "the manifest's objects cannot be imported")

    wanted = wanted_disks(manifest, manifest_key)
    heads = {disk.key: store.head(disk.key) for disk in wanted}
    missing = [key for key, head in heads.items() if head is None]
    if missing:
        return _wait(book, manifest_key, missing=missing, import_ref=upload)
    for disk in wanted:
        if disk.role == "data":  # the set is complete: a data disk's own waiting traces go
            store.delete(book.keys.waiting(disk.key))
            book.forget_lone_disk(disk.key + ".json")
    rid = import_id(book.bucket, manifest_key, info.version, [(k, h.etag) for k, h in heads.items() if h])
    ended = record.state if record and record.id == rid else book.ended(rid)
    if ended == "cancelled":   # maybe while an ImportImage of it was under way
        cancels.cancel_unrecorded_task(book, rid, manifest_key,
                                       read_claim(store, book.keys.claim(rid)))
    if record and record.id == rid and record.state != "waiting":
        return IngestOutcome(manifest_key, "duplicate", f"import {rid} is already {record.state}")
    if ended and ended != "waiting":  # e.g. refused while another import ran: announced, not recorded
        return IngestOutcome(manifest_key, "duplicate", f"import {rid} already ended {ended}")
    if record and record.state == "succeeded" and _same_content(record, info.etag, heads):
        # The same bytes uploaded again after a success: a second image would only be refused as a
        # duplicate name, and the record saying where the image is would be lost.
        logs.step("import.already_imported", id=record.id, image_id=record.image_id, manifest=manifest_key)
        return IngestOutcome(manifest_key, "duplicate", f"already imported as image {record.image_id}; change "
                                                 f"the manifest (image_name) to import these disks again")
    if record and record.id != rid and record.running:
        # A new version of the manifest or a disk while the previous import runs: refuse it, loudly.
        changed = [d.key for d in record.disks if heads.get(d.key) and heads[d.key].etag != d.etag]
        announce_refusal(book, record, rid, manifest_key, changed or [manifest_key])
        return IngestOutcome(manifest_key, "busy", f"import {record.id} is still {record.state}")

    named = [NamedObject(disk.key, disk.role, disk.field.rsplit(".", 1)[0] + ".object")
             for disk in wanted]
    taken = claim_data_disks(store, book.prefix, manifest_key, named)
    if taken:
        return reject(book, rid, manifest_key, taken,
                      "the manifest names another manifest's objects")
    disks = [_facts(book, disk, heads[disk.key]) for disk in wanted]
    bucket_region = store.region()
    outcome = plan_import(manifest, manifest_key=manifest_key, bucket=book.bucket,
                          bucket_region=bucket_region, function_region=services.settings.region,
                          disks=disks, import_role=services.settings.import_role, client_token=rid,
                          repair_policy=services.settings.repair)
    if isinstance(outcome, Rejection):
        return reject(book, rid, manifest_key, outcome.problems, "the image cannot be imported as asked",
                      guest=outcome.guest, findings=outcome.findings)
    imported = outcome.manifest or manifest  # the left-out fields filled from the disk
    # The claim keeps what the poller needs later, as it was when the import started; and what the
    # record says once submitted, should this invocation not live to write it.
    claim = ImportClaim(manifest=manifest_key, spec=imported.to_json_dict(),
                        detected_boot_mode=outcome.detected_boot_mode, at=book.now(),
                        records=outcome.disks, manifest_etag=info.etag, advice=list(outcome.notes),
                        request=outcome.request, version=info.version, **guest_fields(outcome))
    first = store.put_if_absent(book.keys.claim(rid), claim.model_dump_json())
    # An earlier attempt that got as far as the claim may have called ImportImage, its answer
    # lost: then the import is submitted again (the same ClientToken) and its task cancelled.
    if first and cancels.requested(book, manifest_key, info.version):
        cancels.end_before_import(book, rid, manifest_key, {rid, wait_id(upload)})
        return IngestOutcome(manifest_key, "cancelled", "cancelled before ImportImage")
    return submit(book, rid, manifest_key, outcome, manifest.image_name, info)


def _same_content(record: StatusRecord, manifest_etag: str, heads: dict) -> bool:  # type: ignore[type-arg]
    return (record.manifest_etag == manifest_etag and bool(record.disks)
            and all(heads.get(d.key) is not None and heads[d.key].etag == d.etag for d in record.disks)
            and set(heads) == {d.key for d in record.disks})


def _manifest_problem(manifest_key: str, line: str) -> Problem:
    """`field: rule; fix` as the manifest checks word it → a structured problem naming the field."""
    field, sep, text = line.partition(": ")
    if not sep or " " in field:  # the file as a whole (not JSON, not an object, …)
        field, text = manifest_key, line
    return Problem.from_text(field, text, f"correct {manifest_key} (imagedrop validate shows every "
                                          f"problem at once) and upload it again")


def _facts(book: StatusBook, wanted: WantedDisk, head) -> DiskFacts:  # type: ignore[no-untyped-def]
    key = wanted.key
    source = CountingSource(DeadlineSource(book.store.source(key, head.size), f"reading {key}"))
    inspection, error = None, None
    # An archived object that is not restored cannot be read at all: the plan refuses it.
    state = read_state(head.storage_class, getattr(head, "restore", ""))
    if head.size and state == "readable":
        try:
            inspection = book.services.inspect(source)
        except DiskError as err:
            error = str(err)
    logs.step("disk.inspected", key=key, reads=source.reads, bytes_read=source.bytes_read,
              format=inspection.format if inspection else None, error=error)
    return DiskFacts(key=key, role=wanted.role, size=head.size, etag=head.etag,
                     inspection=inspection, inspect_error=error, storage_class=head.storage_class,
                     read_state=state, wanted_format=wanted.format, wanted_gib=wanted.size_gib,
                     field=wanted.field)


def cancel(book: StatusBook, manifest_key: str) -> IngestOutcome:
    outcome, detail = cancels.cancel(book, manifest_key,
                                     lambda rid: read_claim(book.store, book.keys.claim(rid)))
    return IngestOutcome(manifest_key, outcome, detail)  # type: ignore[arg-type]


__all__ = ["ingest_event", "ingest_object", "import_wait_or_refuse", "record_out_of_time",
           "guest_fields", "cancel", "IngestOutcome"]
