"""The ingest flow's branches, run directly over in-memory adapters (no HTTP, no emulator)."""

from __future__ import annotations

import pytest

from imagedrop.errors import PermanentCloudError, RetryableCloudError
from imagedrop.flows.ingest import ingest_object

from .fakes import Cloud, manifest, sample_disk, throttled

DISK = "incoming/web.qcow2"
MANIFEST = DISK + ".json"


@pytest.fixture
def cloud() -> Cloud:
    return Cloud()


def test_a_disk_alone_waits_quietly_and_its_manifest_starts_one_import(cloud: Cloud) -> None:
    # Given the disk arrives first
    result = ingest_object(cloud.bucket.drop(DISK, sample_disk()), cloud.services)
    # Then it waits, recorded but not announced (it may yet be someone's data disk)
    assert result.outcome == "waiting"
    assert cloud.record(MANIFEST)["state"] == "waiting"
    assert cloud.mns.published == []
    # When its manifest arrives
    result = ingest_object(cloud.bucket.drop(MANIFEST, manifest()), cloud.services)
    # Then ECS is asked once, the poller gets its message, and `importing` is announced once
    assert result.outcome == "submitted"
    assert cloud.ecs.calls == ["ImportImage"]
    [track] = cloud.mns.track_messages()
    assert track.image_id in cloud.ecs.images and track.attempt == 0
    record = cloud.record(MANIFEST)
    assert (record["state"], record["image_id"], record["task_id"]) == ("importing", track.image_id, track.task_id)
    assert cloud.mns.states() == ["importing"]


def test_the_same_event_twice_imports_once(cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, sample_disk())
    event = cloud.bucket.drop(MANIFEST, manifest())
    first = ingest_object(event, cloud.services)
    second = ingest_object(event, cloud.services)
    assert (first.outcome, second.outcome) == ("submitted", "duplicate")
    assert len(cloud.ecs.images) == 1
    assert cloud.mns.states() == ["importing"]


def test_a_manifest_that_breaks_a_rule_is_refused_naming_the_field(cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, sample_disk())
    result = ingest_object(cloud.bucket.drop(MANIFEST, manifest(architecture="sparc")), cloud.services)
    assert result.outcome == "rejected"
    record = cloud.record(MANIFEST)
    assert record["state"] == "rejected"
    assert [p["where"] for p in record["problems"]] == ["architecture"]
    assert cloud.ecs.calls == []
    assert cloud.mns.states() == ["rejected"]
    assert "architecture" in cloud.mns.published[0]["data"]["problems"][0]


def test_ecs_refusing_the_import_ends_it_rejected_with_the_code(cloud: Cloud) -> None:
    cloud.ecs.script.fail("ImportImage", PermanentCloudError(
        "ecs", "InvalidImageName.Duplicated", "The specified image name is already in use."))
    cloud.bucket.drop(DISK, sample_disk())
    result = ingest_object(cloud.bucket.drop(MANIFEST, manifest()), cloud.services)
    assert result.outcome == "rejected"
    record = cloud.record(MANIFEST)
    assert record["problems"][0]["code"] == "InvalidImageName.Duplicated"
    assert cloud.mns.states() == ["rejected"]
    assert cloud.mns.sent == []


def test_throttling_says_why_and_the_platform_retry_imports_once(cloud: Cloud) -> None:
    cloud.ecs.script.fail("ImportImage", throttled())
    cloud.bucket.drop(DISK, sample_disk())
    event = cloud.bucket.drop(MANIFEST, manifest())
    # When ImportImage is throttled, the invocation fails (the platform retries it)…
    with pytest.raises(RetryableCloudError):
        ingest_object(event, cloud.services)
    # …and the record says why nothing happened yet
    waiting = cloud.record(MANIFEST)
    assert waiting["state"] == "waiting" and waiting["problems"][0]["code"] == "Throttling"
    # Then the retry imports, and each state is announced once
    assert ingest_object(event, cloud.services).outcome == "submitted"
    assert len(cloud.ecs.images) == 1
    assert cloud.mns.states() == ["waiting", "importing"]


def test_a_lost_import_answer_retried_gives_the_same_image(cloud: Cloud) -> None:
    # Given ImportImage is carried out but its answer is lost
    cloud.ecs.script.fail("ImportImage", throttled(), lost=True)
    cloud.bucket.drop(DISK, sample_disk())
    event = cloud.bucket.drop(MANIFEST, manifest())
    with pytest.raises(RetryableCloudError):
        ingest_object(event, cloud.services)
    # When the platform retries the invocation
    ingest_object(event, cloud.services)
    # Then the ClientToken returns the first image: one image, one import
    assert len(cloud.ecs.images) == 1
    assert cloud.record(MANIFEST)["image_id"] in cloud.ecs.images
    assert cloud.mns.states() == ["waiting", "importing"]


def test_a_cancel_marker_cancels_the_running_task(cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, sample_disk())
    ingest_object(cloud.bucket.drop(MANIFEST, manifest()), cloud.services)
    result = ingest_object(cloud.bucket.drop(MANIFEST + ".cancel", b""), cloud.services)
    assert result.outcome == "cancelled"
    [task] = cloud.ecs.tasks.values()
    assert task.status == "Cancelled"
    assert cloud.record(MANIFEST)["state"] == "cancelled"
    assert cloud.mns.states() == ["importing", "cancelled"]


def test_a_new_manifest_version_while_importing_is_refused_loudly_and_the_import_goes_on(cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, sample_disk())
    ingest_object(cloud.bucket.drop(MANIFEST, manifest()), cloud.services)
    running = cloud.record(MANIFEST)
    cloud.clock.advance(5)
    result = ingest_object(cloud.bucket.drop(MANIFEST, manifest(description="v2")), cloud.services)
    assert result.outcome == "busy"
    assert cloud.record(MANIFEST)["id"] == running["id"]
    assert cloud.mns.states() == ["importing", "rejected"]
    assert len(cloud.ecs.images) == 1


def test_a_data_disk_arriving_last_completes_the_set(cloud: Cloud) -> None:
    data_key = "incoming/web-data.raw"
    cloud.bucket.drop(DISK, sample_disk())
    result = ingest_object(cloud.bucket.drop(MANIFEST, manifest(
        data_disks=[{"object": "web-data.raw"}])), cloud.services)
    assert result.outcome == "waiting"
    assert cloud.mns.states() == ["waiting"]
    result = ingest_object(cloud.bucket.drop(data_key, bytes(1024 * 1024)), cloud.services)
    assert result.outcome == "submitted"
    assert cloud.mns.states() == ["waiting", "importing"]
    assert f"imagedrop/waiting/{data_key}" not in cloud.bucket.objects


@pytest.mark.parametrize(("restore", "says"), [("", "ossutil restore oss://images/incoming/web.qcow2"),
                                               ('ongoing-request="true"', "under way")])
def test_an_archived_disk_is_refused_from_its_head_without_a_read(cloud: Cloud, restore: str,
                                                                  says: str) -> None:
    cloud.bucket.drop(DISK, sample_disk())
    cloud.bucket.objects[DISK].storage_class = "ColdArchive"
    cloud.bucket.objects[DISK].restore = restore
    cloud.bucket.script.fail("read", PermanentCloudError("oss", "InvalidObjectState", "frozen"),
                             times=100)
    result = ingest_object(cloud.bucket.drop(MANIFEST, manifest()), cloud.services)
    assert result.outcome == "rejected"
    [problem] = cloud.record(MANIFEST)["problems"]
    assert (problem["where"], problem["code"]) == ("oss object incoming/web.qcow2",
                                                   "InvalidOSSObject.NeedRestore")
    assert says in problem["fix"] + problem["rule"]
    assert cloud.ecs.calls == [] and cloud.mns.states() == ["rejected"]


def test_a_restored_archived_disk_is_imported(cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, sample_disk())
    cloud.bucket.objects[DISK].storage_class = "Archive"
    cloud.bucket.objects[DISK].restore = \
        'ongoing-request="false", expiry-date="Mon, 30 Nov 2026 19:00:00 GMT"'
    result = ingest_object(cloud.bucket.drop(MANIFEST, manifest()), cloud.services)
    assert result.outcome == "submitted"
    assert cloud.ecs.calls == ["ImportImage"]


@pytest.mark.parametrize("lost", [False, True])
def test_a_refusal_whose_announced_save_fails_is_marked_announced_by_the_retry(cloud: Cloud,
                                                                               lost: bool) -> None:
    # Given a refused manifest, whose claim is settled as sent but whose save as announced fails
    # (or is carried out, its answer lost)
    cloud.bucket.drop(DISK, sample_disk())
    event = cloud.bucket.drop(MANIFEST, manifest(os_type="plan9"))
    status_key, real_put = f"imagedrop/status/{MANIFEST}", cloud.bucket.put
    failed: list[str] = []

    def put(key: str, data: bytes | str, *args: object, **kw: object) -> None:
        if key == status_key and '"unannounced": false' in str(data) and not failed:
            failed.append(key)
            if lost:
                real_put(key, data, *args, **kw)
            raise throttled("oss")
        real_put(key, data, *args, **kw)
    cloud.bucket.put = put  # type: ignore[method-assign]
    with pytest.raises(RetryableCloudError):
        ingest_object(event, cloud.services)
    assert failed and cloud.record(MANIFEST)["unannounced"] is (not lost)
    # When the platform retries the invocation, and the disk's event comes too
    assert ingest_object(event, cloud.services).outcome == "duplicate"
    ingest_object(cloud.bucket.drop(DISK, sample_disk()), cloud.services)
    # Then the record is the refusal, announced once
    record = cloud.record(MANIFEST)
    assert (record["state"], record["unannounced"]) == ("rejected", False)
    assert cloud.mns.states() == ["rejected"]


def test_an_end_the_ingest_could_not_announce_is_left_to_the_poller(cloud: Cloud) -> None:
    from imagedrop.flows.poll import poll_one

    cloud.bucket.drop(DISK, sample_disk())
    # the rejection is saved, then settling its claim fails on every try: nobody would load the
    # record again, since a refused import has no poller
    cloud.bucket.script.fail("put", throttled("oss"), after=2)
    with pytest.raises(RetryableCloudError):
        ingest_object(cloud.bucket.drop(MANIFEST, manifest(architecture="sparc")), cloud.services)
    assert cloud.record(MANIFEST)["unannounced"]
    [(_, _, delay)] = cloud.mns.sent
    [message] = cloud.mns.track_messages()
    assert message.stage == "announce" and message.manifest_key == MANIFEST and delay > 0
    outcome = poll_one(message, cloud.services)
    assert (outcome.outcome, outcome.detail) == ("announced", "rejected")
    record = cloud.record(MANIFEST)
    assert record["state"] == "rejected" and not record["unannounced"]
    assert {e["id"] for e in cloud.mns.published} == {f"{record['id']}-rejected-1"}
    # the message again (a redelivery, or one from another failed try) announces nothing more
    before = len(cloud.mns.published)
    assert poll_one(message.model_copy(update={"attempt": 1}), cloud.services).outcome == "announced"
    assert len(cloud.mns.published) == before


def test_a_failing_ingest_with_nothing_left_to_announce_leaves_no_message(cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, sample_disk())
    cloud.ecs.script.fail("ImportImage", throttled(), times=1)
    with pytest.raises(RetryableCloudError):
        ingest_object(cloud.bucket.drop(MANIFEST, manifest()), cloud.services)
    assert not cloud.record(MANIFEST)["unannounced"]
    assert [m.stage for m in cloud.mns.track_messages()] == []


def test_a_manifest_deleted_between_its_look_and_its_read_is_left_alone(
        cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an import that succeeded, and a late copy of its manifest's event that saw the
    # manifest just before the success deleted it (delete_source_on_success)
    cloud.bucket.drop(DISK, sample_disk())
    ingest_object(cloud.bucket.drop(MANIFEST, manifest()), cloud.services)
    before = cloud.record(MANIFEST)
    created = cloud.bucket.drop(MANIFEST, manifest())
    real_get = cloud.bucket.get_small
    monkeypatch.setattr(cloud.bucket, "get_small",
                        lambda key, *a, **k: None if key == MANIFEST else real_get(key, *a, **k))
    # When it is handled
    outcome = ingest_object(created, cloud.services)
    # Then nothing is refused, and the record is the import's still
    assert (outcome.outcome, outcome.detail) == ("ignored", "manifest vanished")
    assert cloud.record(MANIFEST) == before
