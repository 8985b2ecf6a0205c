"""A hook on an ECS action, through the real SDK and each door: another party takes an image
name right before ECS carries out the rename that wanted it."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from ecs_helpers import import_request

from imagedrop_emulator import FakeCloud, ServiceError
from imagedrop_emulator.faults import Call

REGION = "cn-hangzhou"


def test_a_name_taken_right_before_the_rename_is_refused_as_ecs_refuses_it(
        any_ecs: Client, cloud: FakeCloud) -> None:
    image_id = any_ecs.import_image(import_request(name="web-2026.11")).body.image_id
    cloud.clock.advance(3600)
    taken: list[str] = []

    def take(call: Call) -> None:
        taken.append(cloud.ecs.add_image(call.params["ImageName"]).image_id)

    cloud.faults.before("ecs", "ModifyImageAttribute", take,
                        when=lambda call: call.params.get("ImageName") == "web-final")
    any_ecs.modify_image_attribute(m.ModifyImageAttributeRequest(   # not the name it waits for
        region_id=REGION, image_id=image_id, description="renamed next"))
    with pytest.raises(ClientException) as refused:
        any_ecs.modify_image_attribute(m.ModifyImageAttributeRequest(
            region_id=REGION, image_id=image_id, image_name="web-final"))

    assert refused.value.code == "InvalidImageName.Duplicated"
    [other] = taken
    names = {i.image_id: (i.name, i.status) for i in cloud.ecs.images.values()}
    assert names == {image_id: ("web-2026.11", "Available"), other: ("web-final", "Available")}


def test_add_image_keeps_the_name_rule(cloud: FakeCloud) -> None:
    cloud.ecs.add_image("web-2026.11")
    with pytest.raises(ServiceError) as taken:
        cloud.ecs.add_image("web-2026.11")
    assert taken.value.code == "InvalidImageName.Duplicated"
    assert cloud.ecs.add_image("web-2026.11", "cn-shanghai").region == "cn-shanghai"
