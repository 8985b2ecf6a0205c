"""Reading imports back: status records under `<state prefix>status/`, rows for the table, and
following one record until it reaches a terminal state."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from pydantic import ValidationError

from imagedrop.model.state_keys import CANCEL_SUFFIX
from imagedrop.model.status import StatusRecord, status_key
from .exit_codes import CLOUD_ERROR, OpsError
from .oss_calls import oss_call


@dataclass(frozen=True)
class ImportRow:
    key: str
    state: str
    progress: str
    image_id: str
    age: str
    problem: str

    def as_json(self) -> dict[str, str]:
        return dict(self.__dict__)


def age_of(stamp: str, now: float) -> str:
    """`2026-11-25T10:00:00Z` → `3m`, `2h`, `5d` before `now`."""
    try:
        then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return "?"
    seconds = max(0, int(now - then))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def row_for(record: StatusRecord, now: float) -> ImportRow:
    problem = record.problems[0].line() if record.problems else ""
    if len(record.problems) > 1:
        problem += f" (+{len(record.problems) - 1} more)"
    return ImportRow(key=record.manifest, state=record.state, progress=record.progress or "",
                     image_id=record.image_id or "", age=age_of(record.updated_at or record.created_at, now),
                     problem=problem)


def read_record(bucket: Any, state_prefix: str, manifest_key: str) -> StatusRecord | None:
    key = status_key(state_prefix, manifest_key)
    data = oss_call(f"oss://{bucket.bucket_name}/{key}", lambda: bucket.get_object(key).read())
    if data is None:
        return None
    try:
        return StatusRecord.model_validate_json(data)
    except ValidationError:
        raise OpsError(f"oss://{bucket.bucket_name}/{key}: not a status record this imagedrop reads; "
                       "is it another tool's object?", CLOUD_ERROR) from None


def list_records(bucket: Any, state_prefix: str, prefix: str = "") -> Iterator[StatusRecord]:
    """Every readable status record whose manifest key starts with `prefix`."""
    import oss2

    base = status_key(state_prefix, prefix)
    objects = oss_call(f"listing oss://{bucket.bucket_name}/{base}",
                        lambda: list(oss2.ObjectIterator(bucket, prefix=base))) or []
    for obj in objects:
        record = read_record(bucket, state_prefix, obj.key[len(status_key(state_prefix, "")):])
        if record is not None:
            yield record


def manifest_key_of(key: str) -> str:
    """Users name an import by its disk or its manifest; the status record is the manifest's."""
    if key.startswith("oss://"):  # oss://BUCKET/KEY names the bucket too; the key is what follows
        key = key.removeprefix("oss://").partition("/")[2]
    # K.json.cancel and K.cancel both name the import of K.json
    key = key.removesuffix(CANCEL_SUFFIX)
    return key if key.endswith(".json") else key + ".json"


def follow(read: Callable[[], StatusRecord | None], on_change: Callable[[StatusRecord], None], *,
           timeout: float, interval: float = 1.0, sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic) -> StatusRecord | None:
    """Poll `read` until a terminal state (returned) or `timeout` seconds (None).

    The first reads come quickly (a rejection is known within seconds), then every `interval`.
    """
    deadline = clock() + timeout
    last: tuple[str, str | None, int] | None = None
    delay = min(interval, 0.25)
    while True:
        record = read()
        if record is not None:
            seen = (record.state, record.progress, len(record.history))
            if seen != last:
                on_change(record)
                last = seen
            if record.terminal:
                return record
        if clock() >= deadline:
            return None
        sleep(delay)
        delay = min(interval, delay * 2)
