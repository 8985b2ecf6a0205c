"""A fake cloud with only OSS, reached by real oss2 clients through either door."""

from __future__ import annotations

from typing import Iterator

import oss2
import pytest
from oss_helpers import BUCKET, REAL_ENDPOINT, MakeBucket

from imagedrop_emulator import Clock, CloudServer, FakeCloud, mock_cloud


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    cloud = FakeCloud(clock=Clock(speed=0.0), services=("oss",))
    cloud.oss.create_bucket(BUCKET)
    yield cloud
    cloud.oss.close()


@pytest.fixture(params=["mock", pytest.param("server", marks=pytest.mark.server)])
def endpoint(request: pytest.FixtureRequest, cloud: FakeCloud) -> Iterator[str]:
    """The OSS endpoint of `cloud`: a real host name behind `responses`, or a loopback port."""
    if request.param == "mock":
        with mock_cloud(cloud):
            yield REAL_ENDPOINT
    else:
        with CloudServer(cloud) as server:
            yield server.endpoints["oss"]


@pytest.fixture
def make_bucket(cloud: FakeCloud, endpoint: str) -> MakeBucket:
    """oss2.Bucket for `BUCKET` with V1 (default), V4 or STS credentials, or a wrong secret."""

    def make(version: str = "v1", *, secret: str | None = None, name: str = BUCKET,
             auth: object | None = None) -> oss2.Bucket:
        ak, sk = cloud.access_key_id, secret or cloud.access_key_secret
        if auth is None:
            if version == "v4":
                auth = oss2.AuthV4(ak, sk)
            elif version == "sts":
                auth = oss2.StsAuth(*cloud.credentials.issue_sts())
            elif version == "sts-v4":
                auth = oss2.StsAuth(*cloud.credentials.issue_sts(), auth_version=oss2.AUTH_VERSION_4)
            else:
                auth = oss2.Auth(ak, sk)
        region = "cn-hangzhou" if version.endswith("v4") else None
        return oss2.Bucket(auth, endpoint, name, region=region, connect_timeout=5)

    return make


@pytest.fixture
def bucket(make_bucket: MakeBucket) -> oss2.Bucket:
    return make_bucket()
