"""Image Builder's refusals and failures through the real ECS SDK: one build per template, the
cancel and delete state rules, FAILED and TEST_FAILED, Windows, the service-linked role, bad
parameters, throttling and lost answers."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from builder_helpers import REGION, base_image, create_request, executions, images, start
from ecs_helpers import BUCKET, disk_bytes, import_request

from imagedrop_emulator import FakeCloud


def _code(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientException) as err:
        call()
    return str(err.value.code)


def cancel(ecs: Client, execution_id: str) -> None:
    ecs.cancel_image_pipeline_execution(m.CancelImagePipelineExecutionRequest(
        region_id=REGION, execution_id=execution_id))


def delete(ecs: Client, pipeline_id: str) -> None:
    ecs.delete_image_pipeline(m.DeleteImagePipelineRequest(region_id=REGION,
                                                           image_pipeline_id=pipeline_id))


def test_one_build_per_template_and_delete_only_after_the_end(any_ecs: Client,
                                                              cloud: FakeCloud) -> None:
    base = base_image(any_ecs, cloud)
    pipeline_id = any_ecs.create_image_pipeline(create_request(base)).body.image_pipeline_id
    start(any_ecs, pipeline_id)
    assert _code(lambda: start(any_ecs, pipeline_id)) == "InvalidImagePipeline.HasRunningExecution"
    assert _code(lambda: delete(any_ecs, pipeline_id)) == "InvalidImagePipeline.HasRunningExecution"
    cloud.clock.advance(3600)
    delete(any_ecs, pipeline_id)
    # the template and its builds are gone
    gone = _code(lambda: executions(any_ecs, image_pipeline_id=pipeline_id))
    assert gone == "InvalidImagePipeline.NotFound"
    assert _code(lambda: delete(any_ecs, pipeline_id)) == "InvalidImagePipeline.NotFound"
    assert _code(lambda: start(any_ecs, pipeline_id)) == "InvalidImagePipeline.NotFound"


@pytest.mark.parametrize("phase_wait", [0, 150, 500])   # PREPARING, REPAIRING, BUILDING
def test_cancel_in_a_cancellable_phase_ends_cancelled_without_an_image(ecs: Client,
                                                                       cloud: FakeCloud,
                                                                      phase_wait: int) -> None:
    base = base_image(ecs, cloud)
    pipeline_id = ecs.create_image_pipeline(create_request(base)).body.image_pipeline_id
    execution_id = start(ecs, pipeline_id)
    cloud.clock.advance(phase_wait)
    cancel(ecs, execution_id)
    assert executions(ecs, execution_id=execution_id)[0]["Status"] == "CANCELLING"
    assert _code(lambda: cancel(ecs, execution_id)) == "InvalidStatus.ImagePipelineExecution"
    assert _code(lambda: delete(ecs, pipeline_id)) == "InvalidImagePipeline.HasRunningExecution"
    cloud.clock.advance(60)
    (ex,) = executions(ecs, execution_id=execution_id)
    assert ex["Status"] == "CANCELLED"
    assert [i["ImageId"] for i in images(ecs, status="ALL")] == [base]   # no half-made image
    delete(ecs, pipeline_id)


def test_cancel_is_refused_after_building_and_for_unknown_builds(ecs: Client,
                                                                 cloud: FakeCloud) -> None:
    base = base_image(ecs, cloud)
    pipeline_id = ecs.create_image_pipeline(create_request(base)).body.image_pipeline_id
    execution_id = start(ecs, pipeline_id)
    cloud.clock.advance(120 + 300 + 240 + 1)   # RELEASING
    assert executions(ecs, execution_id=execution_id)[0]["Status"] == "RELEASING"
    assert _code(lambda: cancel(ecs, execution_id)) == "InvalidStatus.ImagePipelineExecution"
    assert _code(lambda: cancel(ecs, "exec-nope")) == "InvalidImagePipelineExecution.NotFound"


def test_a_failed_build_carries_its_code_and_leaves_no_image(any_ecs: Client,
                                                             cloud: FakeCloud) -> None:
    base = base_image(any_ecs, cloud)
    cloud.ecs.fail_next_build("RepairFailed", "cloud-init could not be installed",
                              phase="REPAIRING")
    pipeline_id = any_ecs.create_image_pipeline(create_request(base)).body.image_pipeline_id
    execution_id = start(any_ecs, pipeline_id)
    cloud.clock.advance(3600)
    (ex,) = executions(any_ecs, execution_id=execution_id)
    assert ex["Status"] == "FAILED" and ex["ErrorCode"] == "RepairFailed"
    assert ex["ErrorInfo"] == "cloud-init could not be installed"
    assert "cloud-init" in ex["Message"]
    assert [i["ImageId"] for i in images(any_ecs, status="ALL")] == [base]
    delete(any_ecs, pipeline_id)


def test_test_failed_keeps_the_built_image(ecs: Client, cloud: FakeCloud) -> None:
    base = base_image(ecs, cloud)
    cloud.ecs.fail_next_build("TestFailed", "the test command exited 1", phase="TESTING")
    request = create_request(base, test_content="RUN false")
    pipeline_id = ecs.create_image_pipeline(request).body.image_pipeline_id
    start(ecs, pipeline_id)
    cloud.clock.advance(3600)
    (ex,) = executions(ecs, image_pipeline_id=pipeline_id)
    assert ex["Status"] == "TEST_FAILED" and ex["ErrorCode"] == "TestFailed"
    assert images(ecs, image_id=ex["ImageId"])[0]["Status"] == "Available"


def test_the_result_name_taken_fails_the_build(ecs: Client, cloud: FakeCloud) -> None:
    base = base_image(ecs, cloud, name="web-fixed")
    no_suffix = m.CreateImagePipelineRequestAdvancedOptions(image_name_suffix="disable")
    request = create_request(base, prefix="web-fixed", advanced_options=no_suffix)
    start(ecs, ecs.create_image_pipeline(request).body.image_pipeline_id)
    cloud.clock.advance(3600)
    (pipeline_id,) = cloud.ecs.pipelines
    (ex,) = executions(ecs, image_pipeline_id=pipeline_id)
    assert ex["Status"] == "FAILED" and ex["ErrorCode"] == "InvalidImageName.Duplicated"


def test_windows_base_images_are_refused_unless_supported(ecs: Client, cloud: FakeCloud) -> None:
    cloud.oss.put_object(BUCKET, "win.qcow2", disk_bytes("mbr-linux.qcow2"))
    started = ecs.import_image(import_request("win.qcow2", name="win", ostype="windows",
                                              platform="Windows Server 2019")).body
    cloud.clock.advance(3600)
    request = create_request(started.image_id, items=["bcd", "virtio"])
    code = _code(lambda: ecs.create_image_pipeline(request))
    assert code == "ImagePipeline.NotSupportWindowsInstance"
    cloud.ecs.builder_supports_windows = True
    assert ecs.create_image_pipeline(request).body.image_pipeline_id
    # A Linux-only item on Windows is refused
    bad = create_request(started.image_id, items=["cloudinit"])
    assert _code(lambda: ecs.create_image_pipeline(bad)) == "InvalidParameter.RepairItem"


def test_without_leave_to_create_the_service_linked_role(ecs: Client, cloud: FakeCloud) -> None:
    base = base_image(ecs, cloud)
    cloud.ecs.builder_may_create_role = False
    code = _code(lambda: ecs.create_image_pipeline(create_request(base)))
    assert code == "InvalidOperation.NoPermissionCreateServiceLinkedRole"
    cloud.ecs.roles.add("AliyunServiceRoleForECSImageBuilder")   # made once by someone allowed to
    assert ecs.create_image_pipeline(create_request(base)).body.image_pipeline_id


@pytest.mark.parametrize("change, code", [
    ({"repair_mode": "Everything"}, "InvalidParameter.RepairMode"),
    ({"repair_item": ["teleport"]}, "InvalidParameter.RepairItem"),
    ({"repair_item": []}, "MissingParameter"),
    ({"base_image": "m-bpnothere"}, "InvalidImageId.NotFound"),
    ({"base_image_type": "DISK"}, "InvalidParameter.BaseImageType"),
    ({"system_disk_size": 10}, "InvalidParameter.SystemDiskSize"),
    ({"image_options": m.CreateImagePipelineRequestImageOptions(image_name="1bad")},
     "InvalidImageName.Malformed"),
])
def test_create_refuses_bad_parameters(ecs: Client, cloud: FakeCloud, change: dict,
                                       code: str) -> None:
    request = create_request(base_image(ecs, cloud))
    for key, value in change.items():
        setattr(request, key, value)
    assert _code(lambda: ecs.create_image_pipeline(request)) == code
    assert cloud.ecs.pipelines == {}


def test_describe_needs_a_template_or_a_build(ecs: Client, cloud: FakeCloud) -> None:
    assert _code(lambda: executions(ecs)) == "MissingParameter"
    assert _code(lambda: executions(ecs, image_pipeline_id="ip-x",
                                    status="DONE")) == "InvalidParameter.Status"
    assert executions(ecs, execution_id="exec-unknown") == []


def test_throttling_and_lost_answers_work_for_builder_actions(mocked: FakeCloud,
                                                              ecs: Client) -> None:
    base = base_image(ecs, mocked)
    mocked.faults.add("ecs", "CreateImagePipeline", "throttle", times=1)
    code = _code(lambda: ecs.create_image_pipeline(create_request(base, token="tok")))
    assert code == "Throttling.User"
    assert mocked.ecs.pipelines == {}
    # A lost answer: the template exists, and the retry with the same token finds it
    mocked.faults.add("ecs", "CreateImagePipeline", "lost-503", times=1)
    with pytest.raises(Exception):
        ecs.create_image_pipeline(create_request(base, token="tok"))
    assert len(mocked.ecs.pipelines) == 1
    pipeline_id = ecs.create_image_pipeline(create_request(base,
                                                           token="tok")).body.image_pipeline_id
    assert list(mocked.ecs.pipelines) == [pipeline_id]
    mocked.faults.add("ecs", "StartImagePipelineExecution", "lost-reset", times=1)
    with pytest.raises(Exception):
        start(ecs, pipeline_id, "run")
    assert start(ecs, pipeline_id, "run") == next(iter(mocked.ecs.executions))
