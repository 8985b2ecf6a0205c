"""Trigger payloads: the OSS trigger event and the MNS queue trigger (via EventBridge).

Wire models keep Alibaba's field names (`eventName`, `eTag`, `messageBody`); what the pipeline
uses is a Python-named view (`ObjectCreated`, `TrackMessage`). No SDK imports: this module is
loaded by every invocation.

- OSS: `{"events": [record, ...]}`. Only the "file complete" ObjectCreated events start work;
  everything else is ignored with a reason. The key may or may not arrive URL-encoded (not
  documented), so `ObjectCreated.key_candidates()` lists the spellings to try, as given first.
- MNS: a CloudEvents array (FC 3.0), a single CloudEvent (FC 2.0 event model), or the bare
  message body (RawData). `data.messageBody` is JSON text, base64 of JSON text, or an object.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

log = logging.getLogger(__name__)

# The events that mean "an object is complete". AppendObject fires once per append and the
# multipart steps fire before the object exists, so none of them may start an import.
COMPLETE_EVENTS: frozenset[str] = frozenset({
    "ObjectCreated:PutObject", "ObjectCreated:PostObject",
    "ObjectCreated:CopyObject", "ObjectCreated:CompleteMultipartUpload",
})


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# ---------------------------------------------------------------- OSS trigger (wire names)

class OssBucket(_Wire):
    name: str
    arn: str | None = None
    ownerIdentity: str | None = None
    virtualBucket: str | None = None


class OssObject(_Wire):
    key: str
    eTag: str | None = None
    size: int | None = None
    deltaSize: int | None = None
    objectMeta: dict[str, Any] | None = None


class OssSection(_Wire):
    bucket: OssBucket
    object: OssObject
    ossSchemaVersion: str | None = None
    ruleId: str | None = None


class OssResponseElements(_Wire):
    requestId: str | None = None


class OssEventRecord(_Wire):
    eventName: str
    eventSource: str | None = None
    eventTime: str | None = None
    eventVersion: str | None = None
    oss: OssSection
    region: str | None = None
    responseElements: OssResponseElements | None = None


class OssEvent(_Wire):
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class ObjectCreated:
    """One complete object, in Python names."""

    bucket: str
    key: str
    etag: str | None
    size: int | None
    event_name: str
    region: str | None
    event_time: str | None
    request_id: str | None

    def key_candidates(self) -> list[str]:
        """The key as given, then `unquote`d, then `unquote_plus`ed; no duplicates.

        Whether OSS URL-encodes keys in trigger events is undocumented: HEAD these in order
        and use the first that exists.
        """
        seen: list[str] = []
        for candidate in (self.key, unquote(self.key), unquote_plus(self.key)):
            if candidate and candidate not in seen:
                seen.append(candidate)
        return seen


@dataclass(frozen=True)
class IgnoredRecord:
    index: int
    event_name: str | None
    key: str | None
    reason: str


@dataclass
class OssEventBatch:
    created: list[ObjectCreated] = field(default_factory=list)
    ignored: list[IgnoredRecord] = field(default_factory=list)


def _load_json(raw: bytes | str | dict[str, Any] | list[Any], what: str) -> Any:
    if isinstance(raw, (dict, list)):
        return raw
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what}: the event is not JSON ({exc}); expected the payload the "
                         "trigger sends") from None


def read_oss_event(raw: bytes | str | dict[str, Any]) -> OssEventBatch:
    """Every record of an OSS trigger event, split into complete objects and ignored records."""
    try:
        envelope = OssEvent.model_validate(_load_json(raw, "OSS trigger"))
    except ValidationError:
        raise ValueError("OSS trigger: the event has no `events` array; expected "
                         '{"events": [{"eventName": "ObjectCreated:PutObject", "oss": {...}}]}') from None
    batch = OssEventBatch()
    for index, item in enumerate(envelope.events):
        name = item.get("eventName") if isinstance(item, dict) else None
        try:
            record = OssEventRecord.model_validate(item)
        except ValidationError as exc:
            where = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            batch.ignored.append(IgnoredRecord(index, name, None, f"malformed record: {where} missing or invalid"))
            continue
        event_name = record.eventName.removeprefix("oss:")
        key = record.oss.object.key
        if event_name not in COMPLETE_EVENTS:
            reason = ("not a complete-object event (only PutObject, PostObject, CopyObject and "
                      "CompleteMultipartUpload start work)")
            batch.ignored.append(IgnoredRecord(index, event_name, key, reason))
            continue
        batch.created.append(ObjectCreated(
            bucket=record.oss.bucket.name, key=key, etag=record.oss.object.eTag,
            size=record.oss.object.size, event_name=event_name, region=record.region,
            event_time=record.eventTime,
            request_id=record.responseElements.requestId if record.responseElements else None))
    return batch


def parse_oss_event(raw: bytes | str | dict[str, Any]) -> list[ObjectCreated]:
    """The complete objects of an OSS trigger event; other records are logged and skipped."""
    batch = read_oss_event(raw)
    for skipped in batch.ignored:
        log.info("OSS event record %d (%s %s) ignored: %s", skipped.index, skipped.event_name,
                 skipped.key, skipped.reason)
    return batch.created


# ---------------------------------------------------------------- the poller's message

class TrackMessage(BaseModel):
    """The body of a poller message: everything a poll needs, including its own attempt count
    (the EventBridge delivery carries no DequeueCount)."""

    model_config = ConfigDict(extra="ignore")

    v: int = 1
    import_id: str = Field(min_length=1)
    bucket: str = Field(min_length=1)
    manifest_key: str = Field(min_length=1)
    region: str = Field(min_length=1)
    task_id: str = ""                # every stage but "announce" follows a task and its image
    image_id: str = ""
    attempt: int = Field(0, ge=0)
    started_at: float
    total_bytes: int = Field(0, ge=0)
    # "announce": finish an announcement the ingest left pending when every try of it failed
    stage: Literal["import", "repair", "finish", "announce"] = "import"
    image_check: bool = True         # DetectionStrategy was asked: wait for the check to finish
    # What the previous poll saw; lets the schedule use the recent rate of progress.
    seen_progress: int | None = None
    seen_at: float | None = None
    # When a poll first saw the task Finished; bounds the wait for Available and the image check.
    task_done_at: float | None = None
    # The Image Builder repair being followed (stage "repair"), and why it is being cancelled.
    pipeline_id: str | None = None
    execution_id: str | None = None
    repair_started_at: float | None = None
    repair_cancel: Literal["marker", "deadline"] | None = None

    @model_validator(mode="after")
    def _follows_a_task(self) -> "TrackMessage":
        if self.stage != "announce" and not (self.task_id and self.image_id):
            raise ValueError(f"a {self.stage} message names the import's task and image")
        return self

    def to_body(self) -> str:
        return self.model_dump_json(exclude_none=True)


# ---------------------------------------------------------------- MNS via EventBridge

class MnsData(_Wire):
    requestId: str | None = None
    messageId: str | None = None
    messageBody: Any = None


class MnsCloudEvent(_Wire):
    id: str | None = None
    source: str | None = None
    specversion: str | None = None
    type: str | None = None
    subject: str | None = None
    data: MnsData


def _decode_body(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str):
        raise ValueError(f"messageBody is a {type(body).__name__}, expected JSON text or base64 of it")
    text = body.strip()
    try:
        value = json.loads(text)
        if isinstance(value, str):          # JSON text sent as a JSON string
            value = json.loads(value)
        if isinstance(value, dict):
            return value
    except ValueError:
        pass
    try:
        value = json.loads(base64.b64decode(text, validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("messageBody is neither JSON nor base64 of JSON: "
                         f"{text[:60]!r}{'…' if len(text) > 60 else ''}") from None
    if not isinstance(value, dict):
        raise ValueError("messageBody decodes to JSON that is not an object")
    return value


def _track(body: dict[str, Any]) -> TrackMessage:
    try:
        return TrackMessage.model_validate(body)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                           for e in exc.errors())
        raise ValueError(f"not a track message ({fields})") from None


def _is_cloud_event(item: dict[str, Any]) -> bool:
    return "data" in item and ("specversion" in item or "type" in item)


def read_mns_event(raw: bytes | str | dict[str, Any] | list[Any]) -> tuple[list[TrackMessage], list[tuple[str, str]]]:
    """(messages read, [(messageId, why) for the poison ones]) of an MNS queue trigger event."""
    payload = _load_json(raw, "MNS trigger")
    items = payload if isinstance(payload, list) else [payload]
    messages: list[TrackMessage] = []
    problems: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        message_id = f"#{index} (no messageId)"
        try:
            if not isinstance(item, dict):
                raise ValueError(f"event entry is a {type(item).__name__}, expected an object")
            if _is_cloud_event(item):
                event = MnsCloudEvent.model_validate(item)
                message_id = event.data.messageId or event.id or message_id
                body = event.data.messageBody
            elif "messageBody" in item:                 # RawData: the `data` part alone
                message_id = str(item.get("messageId") or message_id)
                body = item["messageBody"]
            else:                                       # RawData: the bare body
                body = item
            messages.append(_track(_decode_body(body)))
        except (ValueError, ValidationError) as exc:
            problems.append((message_id, str(exc)))
    return messages, problems
