"""Owner-style checks with the real ECS SDK: the documented time filters of DescribeTasks
(StartTime/EndTime) and DescribeImages (Filter.N CreationStartTime/CreationEndTime)."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from ecs_helpers import BUCKET, disk_bytes, import_request

from imagedrop_emulator import FakeCloud

REGION = "cn-hangzhou"
# START = 1_800_000_000 is 2027-01-15T08:00:00Z.


def error_of(call) -> ClientException:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientException) as err:
        call()
    return err.value


def test_describe_tasks_start_and_end_time(ecs: Client, cloud: FakeCloud) -> None:
    early = ecs.import_image(import_request(name="early")).body
    cloud.clock.advance(3600)
    late = ecs.import_image(import_request(name="late")).body

    def ids(**kw: object) -> list[str]:
        body = ecs.describe_tasks(m.DescribeTasksRequest(region_id=REGION, **kw)).body
        assert body.total_count == len(body.task_set.task)
        return [t.task_id for t in body.task_set.task]

    assert ids() == [late.task_id, early.task_id]
    assert ids(start_time="2027-01-15T08:30:00Z") == [late.task_id]
    assert ids(end_time="2027-01-15T08:30:00Z") == [early.task_id]
    assert ids(start_time="2027-01-15T08:00Z", end_time="2027-01-15T09:00Z") == [late.task_id, early.task_id]
    assert ids(start_time="2027-01-15T10:00:00Z") == []

    err = error_of(lambda: ids(start_time="yesterday"))
    assert (err.code, err.status_code) == ("InvalidStartTime.Malformed", 400)
    assert "StartTime" in err.message and "yesterday" in err.message
    assert error_of(lambda: ids(end_time="2027-13-01T00:00Z")).code == "InvalidEndTime.Malformed"


def test_describe_images_creation_time_filters(ecs: Client, cloud: FakeCloud) -> None:
    early = ecs.import_image(import_request(name="early")).body.image_id
    cloud.clock.advance(3600)
    late = ecs.import_image(import_request(name="late")).body.image_id
    cloud.clock.advance(3600)

    def ids(*filters: tuple[str, str]) -> list[str]:
        body = ecs.describe_images(m.DescribeImagesRequest(
            region_id=REGION, status="ALL",
            filter=[m.DescribeImagesRequestFilter(key=k, value=v) for k, v in filters])).body
        return [i.image_id for i in body.images.image]

    assert ids() == [late, early]
    assert ids(("CreationStartTime", "2027-01-15T08:30Z")) == [late]
    assert ids(("CreationEndTime", "2027-01-15T08:30Z")) == [early]
    assert ids(("CreationStartTime", "2027-01-15T08:00Z"), ("CreationEndTime", "2027-01-15T09:00Z")) == [late, early]
    assert ids(("CreationStartTime", "2027-01-16T00:00Z")) == []
    err = error_of(lambda: ids(("CreationStartTime", "last week")))
    assert err.code == "InvalidParameter" and "Filter.1.Value" in err.message


def test_a_disk_too_large_to_import_does_not_advise_an_impossible_size(ecs: Client, cloud: FakeCloud) -> None:
    cloud.oss.put_object(BUCKET, "big-3t.qcow2", disk_bytes("big-3t.qcow2"))
    for size in (10, None):
        err = error_of(lambda: ecs.import_image(import_request("big-3t.qcow2", name=f"big-{size}", size=size)))
        assert (err.code, err.status_code) == ("InvalidImageSize", 400)
        assert "3072 GiB" in err.message and "2048 GiB" in err.message
        assert "at least 3072" not in err.message
    cloud.oss.put_object(BUCKET, "big-2t.qcow2", disk_bytes("big-2t.qcow2"))
    err = error_of(lambda: ecs.import_image(import_request("big-2t.qcow2", name="big-2t", size=10)))
    assert err.code == "InvalidImageSize" and "Set DiskImageSize to at least 2048" in err.message


@pytest.mark.parametrize("platform", ["Windows Server 2003", "Windows Server 2008"])
def test_image_check_of_an_unsupported_windows_is_refused(ecs: Client, platform: str) -> None:
    err = error_of(lambda: ecs.import_image(import_request(name="win-old", ostype="windows", platform=platform)))
    assert (err.code, err.status_code) == ("ImageCheckUnsupported.WindowsImage", 403)
    assert err.message.startswith("code: 403, Image check is unsupported for windows image")
    assert platform in err.message
    # Without the check the same image imports.
    assert ecs.import_image(import_request(name="win-old", ostype="windows", platform=platform,
                                           check=False)).body.task_id


def test_image_check_of_a_supported_windows_runs(ecs: Client, cloud: FakeCloud) -> None:
    image_id = ecs.import_image(import_request(name="win-new", ostype="windows",
                                               platform="Windows Server 2019")).body.image_id
    cloud.clock.advance(7200)
    [image] = ecs.describe_images(m.DescribeImagesRequest(region_id=REGION, image_id=image_id)).body.images.image
    assert image.detection_options.status == "Finished"
    assert image.detection_options.items.item


def test_an_encrypted_copy_shows_encrypted_disks(ecs: Client, cloud: FakeCloud) -> None:
    source = ecs.import_image(import_request(name="plain")).body.image_id
    cloud.clock.advance(7200)

    def copy(name: str, **kw: object) -> str:
        return ecs.copy_image(m.CopyImageRequest(region_id=REGION, image_id=source, destination_region_id="cn-shanghai",
                                                 destination_image_name=name, **kw)).body.image_id

    encrypted, plain = copy("sealed", encrypted=True), copy("open", encrypted=False)
    cloud.clock.advance(7200)

    def disks(image_id: str, region: str) -> list[dict]:
        body = ecs.describe_images(m.DescribeImagesRequest(region_id=region, image_id=image_id)).body.to_map()
        return body["Images"]["Image"][0]["DiskDeviceMappings"]["DiskDeviceMapping"]

    assert [d["Encrypted"] for d in disks(encrypted, "cn-shanghai")] == [True]
    assert [d["Encrypted"] for d in disks(plain, "cn-shanghai")] == [False]
    assert [d["Encrypted"] for d in disks(source, REGION)] == [False]
    err = error_of(lambda: copy("bad", encrypted="maybe"))
    assert err.code == "InvalidParameter" and "Encrypted" in err.message
