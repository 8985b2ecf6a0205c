"""The poller flow's branches, run directly over in-memory adapters (no HTTP, no emulator)."""

from __future__ import annotations

import json

import pytest

from imagedrop.errors import RetryableCloudError
from imagedrop.model.events import TrackMessage
from imagedrop.flows.ingest import ingest_object
from imagedrop.flows.poll import poll_one

from .fakes import Cloud, manifest, sample_disk, throttled

DISK = "incoming/web.qcow2"
MANIFEST = DISK + ".json"


@pytest.fixture
def started() -> tuple[Cloud, TrackMessage]:
    cloud = Cloud()
    cloud.bucket.drop(DISK, sample_disk())
    ingest_object(cloud.bucket.drop(MANIFEST, manifest(image_check=True)), cloud.services)
    [message] = cloud.mns.track_messages()
    cloud.mns.sent.clear()
    return cloud, message


def test_a_running_task_is_polled_again_later_without_waiting(started: tuple[Cloud, TrackMessage]) -> None:
    cloud, message = started
    result = poll_one(message, cloud.services)
    assert result.outcome == "waiting"
    [follow_up] = cloud.mns.track_messages()
    assert follow_up.attempt == message.attempt + 1
    assert cloud.mns.sent[0][2] > 0  # DelaySeconds: the queue waits, not the function


def test_a_finished_import_is_checked_finished_and_announced_once(started: tuple[Cloud, TrackMessage]) -> None:
    cloud, message = started
    cloud.ecs.finish(message.task_id)
    result = poll_one(message, cloud.services)
    assert result.outcome == "succeeded"
    record = cloud.record(MANIFEST)
    assert record["state"] == "succeeded" and record["image_id"] == message.image_id
    assert cloud.mns.states() == ["importing", "finishing", "succeeded"]
    # A redelivery of the same message changes nothing and announces nothing
    assert poll_one(message, cloud.services).outcome == "ended"
    assert cloud.mns.states() == ["importing", "finishing", "succeeded"]


def test_a_risk_the_metadata_can_fix_is_fixed(started: tuple[Cloud, TrackMessage]) -> None:
    cloud, message = started
    cloud.ecs.finish(message.task_id, risks=[{"Name": "Nvme", "RiskLevel": "High",
                                              "RiskCode": "NvmeNotSupport", "Value": "Supported"}])
    poll_one(message, cloud.services)
    assert cloud.record(MANIFEST)["state"] == "succeeded"
    assert "ModifyImageAttribute" in cloud.ecs.calls


def test_a_failed_task_ends_the_import_failed_with_the_code(started: tuple[Cloud, TrackMessage]) -> None:
    cloud, message = started
    task = cloud.ecs.tasks[message.task_id]
    task.status, task.error_code = "Failed", "ImportImageFailed"
    result = poll_one(message, cloud.services)
    assert result.outcome == "failed"
    record = cloud.record(MANIFEST)
    assert record["state"] == "failed" and record["problems"][0]["code"] == "ImportImageFailed"
    assert cloud.mns.states()[-1] == "failed"


def test_throttling_while_polling_queues_a_retry_instead_of_failing(started: tuple[Cloud, TrackMessage]) -> None:
    cloud, message = started
    cloud.ecs.script.fail("DescribeTaskAttribute", throttled())
    result = poll_one(message, cloud.services)
    assert result.outcome == "retrying"
    [retry] = cloud.mns.track_messages()
    assert retry.attempt == message.attempt + 1
    assert cloud.record(MANIFEST)["state"] == "importing"


def test_the_deadline_cancels_the_task_and_fails_the_import(started: tuple[Cloud, TrackMessage]) -> None:
    cloud, message = started
    cloud.clock.advance(cloud.services.settings.deadline_hours * 3600 + 1)
    result = poll_one(message, cloud.services)
    assert result.outcome == "failed"
    assert cloud.ecs.tasks[message.task_id].status == "Cancelled"
    assert cloud.record(MANIFEST)["problems"][0]["code"] == "timeout"


def test_a_message_whose_ingest_died_before_recording_is_adopted() -> None:
    # Given an ingest that queued the track message and then could not write the record
    cloud = Cloud()
    cloud.bucket.drop(DISK, sample_disk())
    event = cloud.bucket.drop(MANIFEST, manifest())
    # the claim and the mark that ImportImage is called go through
    cloud.bucket.script.fail("put", throttled("oss"), after=2, times=20)
    with pytest.raises(RetryableCloudError):
        ingest_object(event, cloud.services)
    cloud.bucket.script.clear()
    [message] = cloud.mns.track_messages()
    # When the poller gets the message
    poll_one(message, cloud.services)
    # Then it records the import from the claim, announces it, and follows it
    record = cloud.record(MANIFEST)
    assert (record["state"], record["image_id"]) == ("importing", message.image_id)
    assert "importing" in cloud.mns.states()


def _fail_on(cloud: Cloud, op: str, fragment: str, times: int = 1) -> None:
    """The next `times` calls of `op` ("put" or "delete") on a key containing `fragment` are
    throttled."""
    real = getattr(cloud.bucket, op)
    left = [times]

    def failing(key: str, *args: object, **kw: object) -> None:
        if left[0] and fragment in key:
            left[0] -= 1
            raise throttled("oss")
        real(key, *args, **kw)
    setattr(cloud.bucket, op, failing)


def test_an_end_whose_claim_could_not_be_settled_is_announced_by_the_next_poll(
        started: tuple[Cloud, TrackMessage]) -> None:
    # Given the end is announced, but the write that marks its claim sent is throttled
    cloud, message = started
    cloud.ecs.finish(message.task_id)
    _fail_on(cloud, "put", "/terminal/")
    assert poll_one(message, cloud.services).outcome == "retrying"
    assert cloud.record(MANIFEST)["unannounced"] is True
    # When the poll queued for later runs
    [later] = cloud.mns.track_messages()
    poll_one(later, cloud.services)
    # Then it takes the released claim and says the end is announced: the CloudEvent sent again,
    # if at all, carries the same id
    record = cloud.record(MANIFEST)
    assert record["state"] == "succeeded" and record["unannounced"] is False
    ends = {e["id"] for e in cloud.mns.published if e["type"].endswith(".succeeded")}
    assert ends == {f"{record['id']}-succeeded-{len(record['history'])}"}


def test_an_end_another_instance_is_announcing_is_looked_at_again_later(
        started: tuple[Cloud, TrackMessage]) -> None:
    # Given the import ended, and its announcement is claimed by an instance still running
    cloud, message = started
    cloud.ecs.finish(message.task_id)
    _fail_on(cloud, "put", "/terminal/")
    _fail_on(cloud, "delete", "/terminal/", times=3)  # and every try to release it
    poll_one(message, cloud.services)
    cloud.mns.sent.clear()
    claim = cloud.bucket.json(f"imagedrop/terminal/{message.import_id}")
    assert "owner" in claim and not claim.get("settled")
    # When a copy of a message reaches the poller while that claim is held
    late = message.model_copy(update={"attempt": message.attempt + 7})
    assert poll_one(late, cloud.services).outcome == "busy"
    # Then the import is not left unannounced: the poller looks again later, and once the lease
    # is over the announcement is finished
    [again] = cloud.mns.track_messages()
    cloud.clock.now += 601
    poll_one(again, cloud.services)
    assert cloud.record(MANIFEST)["unannounced"] is False


def test_a_delivery_failure_recorded_while_the_import_ends_reaches_the_record(
        started: tuple[Cloud, TrackMessage]) -> None:
    # Given the ingest's instance is still retrying the `importing` webhook when the poller ends
    # the import: it writes the failure to its state's claim just after the end was gathered
    cloud, message = started
    cloud.ecs.finish(message.task_id)
    status_key, claim_key = f"imagedrop/status/{MANIFEST}", f"imagedrop/states/{message.import_id}/importing"
    failure = {"channel": "webhook", "target": "hooks.example:443", "error": "HTTP 500",
               "event": f"{message.import_id}-importing-1"}
    real_put = cloud.bucket.put

    def put(key: str, data: bytes | str, *args: object, **kw: object) -> None:
        real_put(key, data, *args, **kw)
        if key == status_key and '"succeeded"' in str(data) and failure not in cloud.bucket.json(claim_key).get("failures", []):
            marker = cloud.bucket.json(claim_key)
            real_put(claim_key, json.dumps({**marker, "failures": [failure]}))
    cloud.bucket.put = put  # type: ignore[method-assign]
    # When the poller ends it
    assert poll_one(message, cloud.services).outcome == "succeeded"
    # Then the record says which delivery failed
    record = cloud.record(MANIFEST)
    assert record["state"] == "succeeded" and record["unannounced"] is False
    assert record["notifications"] == [failure]


def test_a_claim_whose_check_failed_after_a_lost_write_is_given_back(
        started: tuple[Cloud, TrackMessage]) -> None:
    # Given the write claiming `finishing` is carried out but its answer lost (the retried write is
    # refused as existing), and reading the claim back then fails
    cloud, message = started
    cloud.ecs.finish(message.task_id)
    key = f"imagedrop/states/{message.import_id}/finishing"
    real_put, real_get = cloud.bucket.put_if_absent, cloud.bucket.get_json
    lost = [True]

    def put_if_absent(k: str, data: bytes | str) -> bool:
        created = real_put(k, data)
        return False if (k == key and lost) else created

    def get_json(k: str) -> object:
        if k == key and lost:
            lost.clear()
            raise throttled("oss")
        return real_get(k)
    cloud.bucket.put_if_absent, cloud.bucket.get_json = put_if_absent, get_json  # type: ignore[method-assign]
    assert poll_one(message, cloud.services).outcome == "retrying"
    # When the poll queued for later runs, then the import finishes: the claim was given back
    [later] = cloud.mns.track_messages()
    assert poll_one(later, cloud.services).outcome == "succeeded"
    assert cloud.record(MANIFEST)["state"] == "succeeded"


def test_a_state_claimed_by_an_instance_that_died_is_taken_over_after_its_lease(
        started: tuple[Cloud, TrackMessage]) -> None:
    # Given another instance claimed `finishing` and died before it entered it
    cloud, message = started
    cloud.ecs.finish(message.task_id)
    cloud.bucket.put(f"imagedrop/states/{message.import_id}/finishing",
                     json.dumps({"owner": "dead", "taken": cloud.clock.now, "state": "finishing"}))
    # When the poller gets there, it looks again later instead of dropping the import
    assert poll_one(message, cloud.services).outcome == "busy"
    [again] = cloud.mns.track_messages()
    assert again.attempt == message.attempt + 1
    # And once the lease is over, it takes the claim and finishes
    cloud.clock.now += 601
    assert poll_one(again, cloud.services).outcome == "succeeded"


def test_a_poll_adopting_an_import_its_ingest_records_meanwhile_goes_on_following_it() -> None:
    # Given the disk's and the manifest's events are handled at once, and the first poll arrives
    # before either ingest has recorded the import (a slow instance: the queue's delay is short)
    cloud = Cloud()
    disk_event = cloud.bucket.drop(DISK, sample_disk())
    manifest_event = cloud.bucket.drop(MANIFEST, manifest())
    real_send, real_get = cloud.mns.send, cloud.bucket.get_small
    outcomes: list[str] = []

    def get_small(key: str, *args: object, **kw: object) -> bytes | None:
        if key.startswith("imagedrop/claims/") and not cloud.record(MANIFEST):
            # the poller reads the import's claim to adopt it: the other ingest records it now
            ingest_object(disk_event, cloud.services)
        return real_get(key, *args, **kw)  # type: ignore[arg-type]

    def send(queue: str, body: str, delay_seconds: int = 0) -> str:
        sent = real_send(queue, body, delay_seconds)
        cloud.mns.send = real_send  # type: ignore[method-assign]
        cloud.bucket.get_small = get_small  # type: ignore[method-assign]
        outcomes.append(poll_one(TrackMessage.model_validate_json(body), cloud.services).outcome)
        cloud.bucket.get_small = real_get  # type: ignore[method-assign]
        return sent
    cloud.mns.send = send  # type: ignore[method-assign]
    # When the manifest's ingest queues its first poll, and that poll runs
    ingest_object(manifest_event, cloud.services)
    # Then the poll, finding the import recorded by the other ingest, follows it instead of taking
    # it for ended: the import is polled again, and ends once its task does
    assert outcomes == ["waiting"]
    assert cloud.record(MANIFEST)["state"] == "importing"
    cloud.ecs.finish(cloud.mns.track_messages()[0].task_id)
    for message in cloud.mns.track_messages():
        poll_one(message, cloud.services)
    assert cloud.record(MANIFEST)["state"] == "succeeded"
    assert cloud.mns.states().count("importing") == 1


def test_a_claim_that_cannot_be_taken_sends_the_same_message_again_not_a_failure(
        started: tuple[Cloud, TrackMessage]) -> None:
    # Given OSS refusing the attempt's claim (EventBridge would redeliver a failed message only a
    # few times, then dead-letter it, and the import would be followed no more)
    cloud, message = started
    cloud.bucket.script.fail("put", throttled("oss"))
    # When the message is delivered
    result = poll_one(message, cloud.services)
    # Then it does not fail: the same attempt is queued again, later
    assert result.outcome == "retrying"
    [again] = cloud.mns.track_messages()
    assert again == message and cloud.mns.sent[0][2] > 0
    # and that copy runs the attempt
    cloud.mns.sent.clear()
    assert poll_one(again, cloud.services).outcome == "waiting"
    [follow_up] = cloud.mns.track_messages()
    assert follow_up.attempt == message.attempt + 1
