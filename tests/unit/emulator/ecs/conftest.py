"""A fake cloud with ECS (and OSS) for the ECS tests, and real ECS SDK clients pointed at it."""

from __future__ import annotations

from typing import Iterator

import pytest
from alibabacloud_ecs20140526.client import Client
from ecs_helpers import BUCKET, START, StandInOss, disk_bytes, make_client, real_oss_available

from imagedrop_emulator import Clock, CloudServer, FakeCloud, mock_cloud


@pytest.fixture
def cloud() -> FakeCloud:
    """ECS plus OSS (the real fake OSS once it exists, a stand-in until then), clock frozen."""
    if real_oss_available():
        cloud = FakeCloud(clock=Clock(speed=0.0, start=START), services=("oss", "ecs"))
    else:
        cloud = FakeCloud(clock=Clock(speed=0.0, start=START), services=("ecs",))
        cloud.oss = StandInOss(cloud)  # type: ignore[assignment]
    cloud.oss.create_bucket(BUCKET)
    cloud.oss.put_object(BUCKET, "linux.qcow2", disk_bytes("mbr-linux.qcow2"))
    return cloud


@pytest.fixture
def ecs(mocked: FakeCloud) -> Client:
    """The real SDK client, in-process through `responses` (the doc's regional endpoint)."""
    return make_client(mocked, "ecs.cn-hangzhou.aliyuncs.com")


@pytest.fixture(params=["mock", pytest.param("server", marks=pytest.mark.server)])
def any_ecs(request: pytest.FixtureRequest, cloud: FakeCloud) -> Iterator[Client]:
    """The real SDK client through each door: `responses` and the loopback server."""
    if request.param == "mock":
        with mock_cloud(cloud):
            yield make_client(cloud, "ecs-cn-hangzhou.aliyuncs.com")
    else:
        with CloudServer(cloud) as server:
            yield make_client(cloud, server.endpoints["ecs"].removeprefix("http://"))


