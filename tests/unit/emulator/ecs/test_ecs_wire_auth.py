"""Who may call the fake ECS, and how the wire answers what it does not know."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from urllib.parse import quote, urlencode

import pytest
import requests
from alibabacloud_ecs20140526 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException
from ecs_helpers import make_client

from imagedrop_emulator import CloudServer, FakeCloud

REGIONS = m.DescribeRegionsRequest()


@pytest.mark.parametrize("credentials, status, code, named", [
    pytest.param({"secret": "not-the-secret"}, 400, "SignatureDoesNotMatch",
                 "The request signature does not conform to Aliyun standards.",
                 id="wrong-secret-is-signature-does-not-match"),
    pytest.param({"access_key_id": "LTAInobody"}, 404, "InvalidAccessKeyId.NotFound", "LTAInobody",
                 id="unknown-access-key"),
])
def test_bad_credentials_are_refused(mocked: FakeCloud, credentials: dict[str, str], status: int,
                                     code: str, named: str) -> None:
    ecs = make_client(mocked, "ecs.cn-hangzhou.aliyuncs.com", **credentials)
    with pytest.raises(ClientException) as err:
        ecs.describe_regions(REGIONS)
    assert (err.value.status_code, err.value.code) == (status, code)
    assert named in err.value.message


@pytest.mark.server
def test_sts_credentials_over_the_loopback_server(cloud: FakeCloud) -> None:
    ak, sk, token = cloud.credentials.issue_sts()
    with CloudServer(cloud) as server:
        endpoint = server.endpoints["ecs"].removeprefix("http://")
        regions = make_client(cloud, endpoint, access_key_id=ak, secret=sk, token=token).describe_regions(REGIONS)
        assert "cn-hangzhou" in [r.region_id for r in regions.body.regions.region]
        for bad in ("CAISwrong", None):
            with pytest.raises(ClientException) as err:
                make_client(cloud, endpoint, access_key_id=ak, secret=sk, token=bad).describe_regions(REGIONS)
            assert err.value.code in ("InvalidSecurityToken.MismatchWithAccessKey",) and "token" in err.value.message


def test_throttling_fault_is_ecs_throttling(ecs, mocked: FakeCloud) -> None:  # type: ignore[no-untyped-def]
    mocked.faults.add("ecs", "DescribeRegions", "throttle", times=1)
    with pytest.raises(ClientException) as err:
        ecs.describe_regions(REGIONS)
    assert (err.value.status_code, err.value.code) == (400, "Throttling.User")
    assert "Request was denied due to user flow control." in err.value.message
    assert ecs.describe_regions(REGIONS).body.regions.region  # only once


def _signed_get(cloud: FakeCloud, base: str, params: dict[str, str], secret: str | None = None) -> requests.Response:
    """A classic RPC call (HMAC-SHA1 `Signature` in the query), as older SDKs and the CLI send."""
    params = {"Format": "JSON", "Version": "2014-05-26", "AccessKeyId": cloud.access_key_id,
              "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
              "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **params}
    canonical = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(params.items()))
    to_sign = f"GET&%2F&{quote(canonical, safe='~')}"
    key = f"{secret or cloud.access_key_secret}&".encode()
    params["Signature"] = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha1).digest()).decode()
    return requests.get(f"{base}/?{urlencode(params)}", timeout=10)


@pytest.mark.server
def test_classic_rpc_get_and_unknown_action(cloud: FakeCloud) -> None:
    with CloudServer(cloud) as server:
        base = server.endpoints["ecs"]
        ok = _signed_get(cloud, base, {"Action": "DescribeRegions"})
        assert ok.status_code == 200 and ok.headers["Content-Type"].startswith("application/json")
        assert {"RegionId": "cn-shanghai", "LocalName": "cn-shanghai", "Status": "available",
                "RegionEndpoint": "ecs.cn-shanghai.aliyuncs.com"} in ok.json()["Regions"]["Region"]
        wrong = _signed_get(cloud, base, {"Action": "DescribeRegions"}, secret="bad")
        assert (wrong.status_code, wrong.json()["Code"]) == (400, "SignatureDoesNotMatch")
        unknown = _signed_get(cloud, base, {"Action": "RunInstances"})
        assert (unknown.status_code, unknown.json()["Code"]) == (404, "InvalidAction.NotFound")
        assert "'RunInstances'" in unknown.json()["Message"]


def test_unsigned_request_is_refused(mocked: FakeCloud) -> None:
    resp = requests.post("https://ecs.cn-hangzhou.aliyuncs.com/?RegionId=cn-hangzhou",
                         headers={"x-acs-action": "DescribeRegions", "x-acs-version": "2014-05-26"})
    assert (resp.status_code, resp.json()["Code"]) == (400, "IncompleteSignature")
