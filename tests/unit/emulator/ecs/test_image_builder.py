"""Image Builder seen through the real ECS SDK: a repair build walks its phases on the emulated
clock and ends in a new image whose check lost the repaired risks; idempotency; the template."""

from __future__ import annotations

from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from builder_helpers import (FSTAB_AND_CLOUDINIT, REGION, base_image, create_request, executions,
                             images, start)

from imagedrop_emulator import FakeCloud

PHASES = ["PREPARING", "REPAIRING", "BUILDING", "RELEASING", "SUCCESS"]


def test_a_repair_build_walks_its_phases_and_makes_a_repaired_image(any_ecs: Client,
                                                                    cloud: FakeCloud) -> None:
    # Given an imported image whose check found fstab and cloud-init at risk
    cloud.ecs.scenario.detection = FSTAB_AND_CLOUDINIT
    base = base_image(any_ecs, cloud)
    before = {i["Name"]: i for i in images(any_ecs,
                                           image_id=base)[0]["DetectionOptions"]["Items"]["Item"]}
    assert before["GUESTOS.Fstab"]["RiskLevel"] == "High"
    assert before["GUESTOS.CloudInit"]["RiskLevel"] == "Medium"
    assert "AliyunServiceRoleForECSImageBuilder" not in cloud.ecs.roles

    # When a Customized repair of both is created and started
    created = any_ecs.create_image_pipeline(create_request(base, token="ip-tok"))
    pipeline_id = created.body.image_pipeline_id
    assert pipeline_id.startswith("ip-bp")
    assert "AliyunServiceRoleForECSImageBuilder" in cloud.ecs.roles   # created by the first call
    execution_id = start(any_ecs, pipeline_id, "ex-tok")
    assert execution_id.startswith("exec-")

    # Then Describe sees each phase in turn, on the clock
    seen = []
    for _ in range(20):
        (ex,) = executions(any_ecs, execution_id=execution_id)
        if not seen or seen[-1] != ex["Status"]:
            seen.append(ex["Status"])
        if ex["Status"] == "SUCCESS":
            break
        cloud.clock.advance(60)
    assert seen == PHASES
    assert ex["ImagePipelineId"] == pipeline_id and ex["ErrorCode"] == "" and ex["ErrorInfo"] == ""
    assert ex["CreationTime"] == "2027-01-15T09:00:00Z"
    assert ex["ModifiedTime"] > ex["CreationTime"]

    # and the result is a new Available image named {prefix}_{ExecutionId}, checked, repaired
    (result,) = images(any_ecs, image_id=ex["ImageId"])
    assert result["ImageId"] != base
    assert result["ImageName"] == f"web-2026.11-repaired_{execution_id}"
    after = {i["Name"]: i for i in result["DetectionOptions"]["Items"]["Item"]}
    assert after["GUESTOS.Fstab"] == {"Name": "GUESTOS.Fstab", "Value": "Normal"}
    assert after["GUESTOS.CloudInit"] == {"Name": "GUESTOS.CloudInit", "Value": "Installed"}
    assert images(any_ecs, image_id=base)[0]["Status"] == "Available"  # the base is unchanged


def test_only_the_asked_items_are_repaired(ecs: Client, cloud: FakeCloud) -> None:
    cloud.ecs.scenario.detection = FSTAB_AND_CLOUDINIT
    base = base_image(ecs, cloud)
    pipeline_id = ecs.create_image_pipeline(create_request(base,
                                                           items=["fstab"])).body.image_pipeline_id
    execution_id = start(ecs, pipeline_id)
    cloud.clock.advance(3600)
    (ex,) = executions(ecs, image_pipeline_id=pipeline_id)
    assert ex["ExecutionId"] == execution_id and ex["Status"] == "SUCCESS"
    (result,) = images(ecs, image_id=ex["ImageId"])
    items = {i["Name"]: i for i in result["DetectionOptions"]["Items"]["Item"]}
    assert "RiskLevel" not in items["GUESTOS.Fstab"]
    assert items["GUESTOS.CloudInit"]["RiskLevel"] == "Medium"


def test_name_suffix_disabled_and_an_unchecked_result(ecs: Client, cloud: FakeCloud) -> None:
    base = base_image(ecs, cloud)
    cloud.ecs.builder_checks_output = False
    no_suffix = m.CreateImagePipelineRequestAdvancedOptions(image_name_suffix="disable")
    request = create_request(base, prefix="web-fixed", advanced_options=no_suffix)
    start(ecs, ecs.create_image_pipeline(request).body.image_pipeline_id)
    cloud.clock.advance(3600)
    (result,) = images(ecs, image_name="web-fixed")
    assert result["ImageName"] == "web-fixed" and "DetectionOptions" not in result


def test_client_tokens_make_create_and_start_idempotent(any_ecs: Client, cloud: FakeCloud) -> None:
    base = base_image(any_ecs, cloud)
    first = any_ecs.create_image_pipeline(create_request(base, token="t-1")).body.image_pipeline_id
    again = any_ecs.create_image_pipeline(create_request(base, token="t-1")).body.image_pipeline_id
    assert again == first and len(cloud.ecs.pipelines) == 1
    execution_id = start(any_ecs, first, "s-1")
    assert start(any_ecs, first, "s-1") == execution_id
    assert len(executions(any_ecs, image_pipeline_id=first)) == 1


def test_describe_pipelines_echoes_the_template_with_wrapped_lists(ecs: Client,
                                                                   cloud: FakeCloud) -> None:
    base = base_image(ecs, cloud)
    request = create_request(base, instance_type="ecs.g6.large", v_switch_id="vsw-1",
                             to_region_id=["cn-shanghai"], add_account=[1234567890])
    pipeline_id = ecs.create_image_pipeline(request).body.image_pipeline_id
    body = ecs.describe_image_pipelines(m.DescribeImagePipelinesRequest(
        region_id=REGION, image_pipeline_id=[pipeline_id])).body.to_map()
    (entry,) = body["ImagePipeline"]["ImagePipelineSet"]
    assert body["TotalCount"] == 1 and entry["BaseImage"] == base
    assert entry["RepairItems"] == {"RepairItem": ["fstab", "cloudinit"]}
    assert entry["ToRegionIds"] == {"ToRegionId": ["cn-shanghai"]}
    assert entry["AddAccounts"] == {"AddAccount": ["1234567890"]}
    assert entry["InstanceType"] == "ecs.g6.large" and entry["VSwitchId"] == "vsw-1"
    assert entry["DeleteInstanceOnFailure"] is True
    assert entry["ImageOptions"]["ImageName"] == "web-2026.11-repaired"


def test_distribution_phase_runs_only_with_copies_or_shares(ecs: Client, cloud: FakeCloud) -> None:
    base = base_image(ecs, cloud)
    request = create_request(base, to_region_id=["cn-shanghai"])
    pipeline_id = ecs.create_image_pipeline(request).body.image_pipeline_id
    start(ecs, pipeline_id)
    statuses = []
    for _ in range(20):
        status = executions(ecs, image_pipeline_id=pipeline_id)[0]["Status"]
        if not statuses or statuses[-1] != status:
            statuses.append(status)
        cloud.clock.advance(60)
    assert statuses == ["PREPARING", "REPAIRING", "BUILDING", "DISTRIBUTING", "RELEASING",
                        "SUCCESS"]


def test_paging_with_next_token(ecs: Client, cloud: FakeCloud) -> None:
    base = base_image(ecs, cloud)
    pipeline_id = ecs.create_image_pipeline(create_request(base)).body.image_pipeline_id
    ids = []
    for _ in range(3):
        ids.append(start(ecs, pipeline_id))
        cloud.clock.advance(3600)
    first = ecs.describe_image_pipeline_executions(m.DescribeImagePipelineExecutionsRequest(
        region_id=REGION, image_pipeline_id=pipeline_id, max_results=2)).body
    assert first.total_count == 3 and first.next_token
    second = ecs.describe_image_pipeline_executions(m.DescribeImagePipelineExecutionsRequest(
        region_id=REGION, image_pipeline_id=pipeline_id, max_results=2,
        next_token=first.next_token)).body
    seen = [e.execution_id for e in first.image_pipeline_execution.image_pipeline_execution_set]
    seen += [e.execution_id for e in second.image_pipeline_execution.image_pipeline_execution_set]
    assert sorted(seen) == sorted(ids) and not second.next_token
    success = executions(ecs, image_pipeline_id=pipeline_id, status="SUCCESS,FAILED")
    assert len(success) == 3
