"""A cloud error in a poll step: an error that may pass is retried from a message of our own
until the import's deadline; a refusal, or an error that outlasts the deadline, ends the import
as failed, saying what is kept and what is left."""

from __future__ import annotations

from .. import logs
from ..decide.error_advice import cloud_problem
from ..errors import CloudError, RetryableCloudError
from ..model.events import TrackMessage
from ..model.status import Problem, StatusRecord
from ..state.status_book import StatusBook
from .poll_outcome import RETRY_SECONDS, PollOutcome, end, send


def retry_later(book: StatusBook, msg: TrackMessage, err: RetryableCloudError) -> PollOutcome:
    """Throttling, 5xx or the network outlasted every try. EventBridge would redeliver this message
    a few times, then dead-letter it and leave the import hanging: run the step again from a message
    of our own instead, until the import's deadline, then end the import with the error."""
    services = book.services
    if services.clock() - msg.started_at >= services.settings.deadline_hours * 3600:
        return fail(book, msg, err)
    logs.step("poll.retry_later", id=msg.import_id, attempt=msg.attempt, code=err.code, message=err.message)
    try:
        send(services, msg.model_copy(update={"attempt": msg.attempt + 1}), RETRY_SECONDS)
    except RetryableCloudError:
        _note_stalled(book, msg, err)
        raise
    return PollOutcome(msg.import_id, "retrying", err.code)


def _note_stalled(book: StatusBook, msg: TrackMessage, err: RetryableCloudError) -> None:
    """Only the redelivery of this message is left; should it be dead-lettered too, the record says
    why the import stopped moving (best effort: the store may be failing as well)."""
    problem = Problem(where=f"import {msg.import_id}", code=err.code,
                      rule=f"the poller could not go on ({err.message}) nor queue its next poll",
                      fix="the step is retried a few times; if this stays, the import is no longer "
                          f"followed: look for image {msg.image_id} in the console, or upload the "
                          "manifest again to import anew")
    try:
        # the step may have moved it since
        record = book.current(msg.manifest_key)
        if record is not None and record.id == msg.import_id and not record.terminal:
            book.update(record, problems=[*record.problems, problem])
    except CloudError:
        pass


def fail(book: StatusBook, msg: TrackMessage, err: CloudError) -> PollOutcome:
    record = book.current(msg.manifest_key)
    if record is None or record.terminal or record.id != msg.import_id:
        return PollOutcome(msg.import_id, "ended")
    problem = cloud_problem(err)
    advice = list(record.advice)
    if record.state == "repairing" and record.repair is not None:
        advice.append(_abandon_repair(book, record))
    elif record.state in ("checking", "finishing") and msg.image_id:
        # The import itself worked: whoever reads "failed" must know the image exists.
        advice.append(f"image {msg.image_id} was imported and is kept; what the manifest asked after the "
                      f"import may be undone: finish it by hand, or delete the image (aliyun ecs "
                      f"DeleteImage --RegionId {record.region} --ImageId {msg.image_id}) and upload the "
                      f"manifest again")
    return end(book, msg, record, "failed", f"{err.service} refused: {err.code}", err.code,
               problems=[problem], advice=advice)


def _abandon_repair(book: StatusBook, record: StatusRecord) -> str:
    """The repair cannot go on: remove its template if ECS lets us; say what is kept and left."""
    repair = record.repair
    assert repair is not None
    left = ""
    if repair.pipeline_id:
        try:
            book.services.ecs.delete_image_pipeline(repair.pipeline_id)
        except CloudError as err:
            if not err.code.endswith("NotFound"):
                left = (f"; the repair's template {repair.pipeline_id} is left (ECS answered "
                        f"{err.code}): delete it once its build ends (aliyun ecs "
                        f"DeleteImagePipeline --RegionId {record.region} "
                        f"--ImagePipelineId {repair.pipeline_id})")
    name = repair.names.get(repair.original_image_id or "") or "its name"
    return (f"the imported image {repair.original_image_id} is kept, unrepaired, under {name}: "
            "use it as it is, repair it by hand, or upload the manifest again" + left)
