"""Helpers of the Image Builder tests: an imported base image and real SDK requests."""

from __future__ import annotations

from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from ecs_helpers import import_request

from imagedrop_emulator import FakeCloud

REGION = "cn-hangzhou"
FSTAB_AND_CLOUDINIT = [
    {"Name": "GUESTOS.Fstab", "Value": "Abnormal", "RiskLevel": "High", "RiskCode": "Fstab.Device"},
]


def base_image(ecs: Client, cloud: FakeCloud, name: str = "web-2026.11") -> str:
    """An Available, checked image imported from the test bucket."""
    started = ecs.import_image(import_request(name=name)).body
    cloud.clock.advance(3600)
    return started.image_id


def create_request(image_id: str, *, items: list[str] | None = None, token: str | None = None,
                   prefix: str = "web-2026.11-repaired",
                   **extra: object) -> m.CreateImagePipelineRequest:
    return m.CreateImagePipelineRequest(
        region_id=REGION, base_image_type="IMAGE", base_image=image_id, repair_mode="Customized",
        repair_item=items if items is not None else ["fstab", "cloudinit"],
        delete_instance_on_failure=True, client_token=token,
        image_options=m.CreateImagePipelineRequestImageOptions(image_name=prefix),
        **extra)  # type: ignore[arg-type]


def executions(ecs: Client, **kw: object) -> list[dict]:
    body = ecs.describe_image_pipeline_executions(
        m.DescribeImagePipelineExecutionsRequest(region_id=REGION, **kw)).body
    assert body is not None, "the SDK could not parse the answer"
    return body.to_map()["ImagePipelineExecution"]["ImagePipelineExecutionSet"]


def images(ecs: Client, **kw: object) -> list[dict]:
    body = ecs.describe_images(m.DescribeImagesRequest(region_id=REGION, **kw)).body.to_map()
    return body["Images"]["Image"]


def start(ecs: Client, pipeline_id: str, token: str | None = None) -> str:
    return ecs.start_image_pipeline_execution(m.StartImagePipelineExecutionRequest(
        region_id=REGION, image_pipeline_id=pipeline_id, client_token=token)).body.execution_id
