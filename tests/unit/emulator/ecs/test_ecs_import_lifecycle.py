"""An import seen through the real ECS SDK: task progress on the emulated clock, the image that
is invisible while importing, the image check, idempotency, failures, cancel and hung tasks."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from ecs_helpers import BUCKET, disk_bytes, import_request

from imagedrop_emulator import FakeCloud

REGION = "cn-hangzhou"
ALL = "Creating,Waiting,Available,UnAvailable,CreateFailed"


def task_of(ecs: Client, task_id: str) -> dict:
    return ecs.describe_task_attribute(
        m.DescribeTaskAttributeRequest(region_id=REGION, task_id=task_id)).body.to_map()


def images(ecs: Client, **kw: object) -> list[dict]:
    body = ecs.describe_images(m.DescribeImagesRequest(region_id=REGION, **kw)).body.to_map()
    return body["Images"]["Image"]


def test_import_runs_on_the_clock_and_the_image_appears_when_available(any_ecs: Client, cloud: FakeCloud) -> None:
    # Given a 10 GiB import of a real qcow2 and a throughput knob making it last 100 s
    size = len(disk_bytes("mbr-linux.qcow2"))
    cloud.ecs.import_base_seconds = 60
    cloud.ecs.import_bytes_per_second = size / 40
    started = any_ecs.import_image(import_request(token="tok-1")).body
    assert started.image_id.startswith("m-bp") and started.task_id.startswith("t-bp")
    assert started.region_id == REGION

    # When a quarter of the time has passed
    cloud.clock.advance(25)
    task = task_of(any_ecs, started.task_id)
    # Then the task reports its progress as real ECS does: strings with % and "true"
    assert task["TaskStatus"] == "Processing" and task["TaskProcess"] == "25%"
    assert task["SupportCancel"] == "true" and task["CreationTime"] == "2027-01-15T08:00Z"
    assert task["FinishedTime"] == ""
    # and the importing image is invisible without Status, visible with it
    assert images(any_ecs) == []
    creating = images(any_ecs, status=ALL)
    assert [i["Status"] for i in creating] == ["Creating"]
    mapping = creating[0]["DiskDeviceMappings"]["DiskDeviceMapping"][0]
    assert mapping["Progress"] == "25%" and mapping["RemainTime"] == 75
    assert mapping["Size"] == "10" and mapping["ImportOSSObject"] == "linux.qcow2"

    # When the task's time is up
    cloud.clock.advance(75)
    task = task_of(any_ecs, started.task_id)
    assert task["TaskStatus"] == "Finished" and task["TaskProcess"] == "100%"
    assert task["SupportCancel"] == "false" and task["FinishedTime"] == "2027-01-15T08:01Z"
    assert task["OperationProgressSet"]["OperationProgress"][0]["OperationStatus"] == "Success"
    (image,) = images(any_ecs)
    assert image["ImageId"] == started.image_id and image["Status"] == "Available"
    assert image["Size"] == 10 and image["Progress"] == "100%"
    assert image["DiskDeviceMappings"]["DiskDeviceMapping"][0]["SnapshotId"].startswith("s-")


def test_same_client_token_gives_the_same_image_and_task(any_ecs: Client, cloud: FakeCloud) -> None:
    first = any_ecs.import_image(import_request(token="import-abc")).body
    # A retry with the same token, even with other parameters, answers the original
    again = any_ecs.import_image(import_request(token="import-abc", name="other-name", size=20)).body
    assert (again.image_id, again.task_id) == (first.image_id, first.task_id)
    assert len(images(any_ecs, status="ALL")) == 1
    # A new token is a new import (here refused: the name is taken)
    with pytest.raises(ClientException) as err:
        any_ecs.import_image(import_request(token="import-def"))
    assert err.value.code == "InvalidImageName.Duplicated"


def test_image_check_is_processing_then_finished_with_items(ecs: Client, cloud: FakeCloud) -> None:
    cloud.oss.put_object(BUCKET, "both.qcow2", disk_bytes("gpt-both.qcow2"))
    cloud.ecs.detection_seconds = 300
    cloud.ecs.scenario.detection = [{"Name": "GUESTOS.Nvme", "Value": "NotSupported",
                                     "RiskLevel": "High", "RiskCode": "NVMe.NotInstallded"}]
    started = ecs.import_image(import_request("both.qcow2", name="both-boot")).body
    cloud.clock.advance(cloud.ecs.tasks[started.task_id].duration + 299)
    (image,) = images(ecs, image_id=started.image_id)
    assert image["Status"] == "Available"
    assert image["DetectionOptions"] == {"Status": "Processing", "Items": {"Item": []}}
    cloud.clock.advance(1)
    (image,) = images(ecs, image_id=started.image_id)
    assert image["DetectionOptions"]["Status"] == "Finished"
    items = {i["Name"]: i for i in image["DetectionOptions"]["Items"]["Item"]}
    # The disk boots both ways but was registered BIOS: an at-risk item suggests UEFI-Preferred
    assert items["GUESTOS.BootMode"]["Value"] == "UEFI-Preferred"
    assert items["GUESTOS.BootMode"]["RiskLevel"] == "Medium"
    # The scenario's item replaced the default one; items not at risk carry no RiskLevel
    assert items["GUESTOS.Nvme"]["RiskCode"] == "NVMe.NotInstallded"
    assert "RiskLevel" not in items["GUESTOS.Virtio"]


def test_no_check_asked_means_no_detection_options(ecs: Client, cloud: FakeCloud) -> None:
    started = ecs.import_image(import_request(check=False)).body
    cloud.clock.advance(3600)
    (image,) = images(ecs, image_id=started.image_id)
    assert "DetectionOptions" not in image


@pytest.mark.parametrize("fixture, declared, code, words", [
    ("install.iso", None, "InvalidImageFormat.Malformed", "iso image"),
    ("gpt-esp.vhdx", None, "InvalidImageFormat.Malformed", "vhdx image"),
    ("mbr-linux.vhd", "QCOW2", "InvalidImageFormat.Malformed", "declared QCOW2 but is VHD"),
    ("empty-ish", None, "ImportImageFailed", "could not be read"),
])
def test_broken_content_fails_the_task_not_the_call(ecs: Client, cloud: FakeCloud, fixture: str,
                                                    declared: str | None, code: str, words: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"\x00" * 512 if fixture == "empty-ish" else disk_bytes(fixture)
    if fixture == "empty-ish":  # a reader that cannot make sense of the bytes
        import imagedrop_disk as disk

        def unreadable(source: object) -> object:
            raise ValueError("truncated header")
        monkeypatch.setattr(disk, "inspect", unreadable)
    cloud.oss.put_object(BUCKET, "broken", data)
    started = ecs.import_image(import_request("broken", fmt=declared)).body
    assert task_of(ecs, started.task_id)["TaskStatus"] == "Processing"
    cloud.clock.advance(cloud.ecs.import_base_seconds)
    task = task_of(ecs, started.task_id)
    operation = task["OperationProgressSet"]["OperationProgress"][0]
    assert task["TaskStatus"] == "Failed" and task["FailedCount"] == 1
    assert operation["ErrorCode"] == code and words in operation["ErrorMsg"]
    (image,) = images(ecs, status="CreateFailed")
    assert image["ImageId"] == started.image_id


def test_real_inspection_is_called(ecs: Client, cloud: FakeCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    import imagedrop_disk as disk
    seen: list[int] = []
    real = disk.inspect

    def spy(source):  # type: ignore[no-untyped-def]
        seen.append(source.size)
        return real(source)
    monkeypatch.setattr(disk, "inspect", spy)
    ecs.import_image(import_request())
    assert seen == [len(disk_bytes("mbr-linux.qcow2"))]


def test_fail_next_import_knob(ecs: Client, cloud: FakeCloud) -> None:
    cloud.ecs.fail_next_import("InvalidVHDImage.IncorrectSize", "header is wrong")
    started = ecs.import_image(import_request()).body
    cloud.clock.advance(3600)
    operation = task_of(ecs, started.task_id)["OperationProgressSet"]["OperationProgress"][0]
    assert (operation["ErrorCode"], operation["ErrorMsg"]) == ("InvalidVHDImage.IncorrectSize", "header is wrong")


def test_cancel_removes_the_image_and_a_finished_task_cannot_be_cancelled(any_ecs: Client, cloud: FakeCloud) -> None:
    started = any_ecs.import_image(import_request()).body
    cloud.clock.advance(10)
    any_ecs.cancel_task(m.CancelTaskRequest(region_id=REGION, task_id=started.task_id))
    task = task_of(any_ecs, started.task_id)
    assert task["TaskStatus"] == "Cancelled" and task["SupportCancel"] == "false"
    assert images(any_ecs, status="ALL") == []
    with pytest.raises(ClientException) as err:
        any_ecs.cancel_task(m.CancelTaskRequest(region_id=REGION, task_id=started.task_id))
    assert err.value.code == "InvalidTaskId.IncorrectTaskStatus"
    assert err.value.status_code == 403 and "Cancelled" in err.value.message


def test_a_hung_task_never_finishes(ecs: Client, cloud: FakeCloud) -> None:
    cloud.ecs.hang_next_import(at=0.37)
    started = ecs.import_image(import_request()).body
    cloud.clock.advance(10 * 24 * 3600)
    task = task_of(ecs, started.task_id)
    assert (task["TaskStatus"], task["TaskProcess"]) == ("Processing", "37%")


def test_unknown_task_id(ecs: Client) -> None:
    with pytest.raises(ClientException) as err:
        task_of(ecs, "t-bpnothere")
    assert err.value.code == "InvalidTaskId.NotFound" and "t-bpnothere" in err.value.message


def test_describe_tasks_filters_and_pages(ecs: Client, cloud: FakeCloud) -> None:
    ids = []
    for n in range(3):
        ids.append(ecs.import_image(import_request(name=f"img-{n}")).body)
        cloud.clock.advance(1)
    cloud.ecs.cancel_task(REGION, ids[0].task_id)

    def describe(**kw: object) -> dict:
        return ecs.describe_tasks(m.DescribeTasksRequest(region_id=REGION, **kw)).body.to_map()
    body = describe(task_ids=f"{ids[0].task_id},{ids[1].task_id}", task_action="ImportImage")
    assert body["TotalCount"] == 2
    assert {t["ResourceId"] for t in body["TaskSet"]["Task"]} == {ids[0].image_id, ids[1].image_id}
    assert describe(task_status="Processing")["TotalCount"] == 2
    assert describe(resource_ids=[ids[2].image_id])["TaskSet"]["Task"][0]["TaskId"] == ids[2].task_id
    paged = describe(page_size=2, page_number=2)
    assert (paged["TotalCount"], len(paged["TaskSet"]["Task"])) == (3, 1)


@pytest.mark.skipif(not __import__("ecs_helpers").real_oss_available(), reason="fake OSS not built yet")
def test_object_uploaded_with_oss2_is_imported(ecs: Client, mocked: FakeCloud) -> None:
    import oss2

    # Given a disk uploaded with the real OSS SDK to the fake OSS
    bucket = oss2.Bucket(oss2.Auth(mocked.access_key_id, mocked.access_key_secret),
                         "https://oss-cn-hangzhou.aliyuncs.com", BUCKET)
    bucket.put_object("incoming/web both.qcow2", disk_bytes("gpt-both.qcow2"))
    # When ECS imports it
    started = ecs.import_image(import_request("incoming/web both.qcow2", name="from-oss2",
                                              boot_mode="UEFI")).body
    mocked.clock.advance(3600)
    # Then the image is there, and the check saw a disk that boots both ways
    (image,) = images(ecs, image_id=started.image_id)
    assert image["DiskDeviceMappings"]["DiskDeviceMapping"][0]["ImportOSSObject"] == "incoming/web both.qcow2"
    assert image["BootMode"] == "UEFI" and image["Status"] == "Available"
