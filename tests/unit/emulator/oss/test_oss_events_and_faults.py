"""Trigger payloads as FC receives them, and the fault knobs as oss2 sees them."""

from __future__ import annotations

import json
from typing import Any

import oss2
import pytest
from oss_helpers import BUCKET

from imagedrop_emulator import FakeCloud



def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


FC3_OSS_TEMPLATE = {  # devsapp/fc3 event-template/oss.json, the shape of one record
    "eventName": "str", "eventSource": "str", "eventTime": "str", "eventVersion": "str",
    "oss": {"bucket": {"arn": "str", "name": "str", "ownerIdentity": "str", "virtualBucket": "str"},
            "object": {"deltaSize": "int", "eTag": "str", "key": "str", "size": "int"},
            "ossSchemaVersion": "str", "ruleId": "str"},
    "region": "str", "requestParameters": {"sourceIPAddress": "str"},
    "responseElements": {"requestId": "str"}, "userIdentity": {"principalId": "str"},
}


def _subset(template: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(k in actual and (_subset(v, actual[k]) if isinstance(v, dict) else v == actual[k])
               for k, v in template.items())


def test_put_emits_the_exact_trigger_payload(cloud: FakeCloud, bucket: oss2.Bucket) -> None:
    received: list[bytes] = []
    cloud.oss.add_notification(BUCKET, name="ingest", sink=received.append, prefix="incoming/")
    result = bucket.put_object("incoming/web 1+2.qcow2", b"q" * 10,
                               headers={"x-oss-meta-owner": "team-a"})
    cloud.pump.run_until_idle()

    assert len(received) == 1
    payload = json.loads(received[0])
    record = payload["events"][0]
    assert _subset(FC3_OSS_TEMPLATE, _shape(record))
    assert record["eventName"] == "ObjectCreated:PutObject"
    assert record["oss"]["object"] == {
        "deltaSize": 10, "eTag": result.etag, "key": "incoming/web 1+2.qcow2", "size": 10,
        "objectMeta": {"mimeType": "application/octet-stream",
                       "userMeta": {"x-oss-meta-owner": "team-a"}}}
    assert record["oss"]["bucket"]["arn"] == f"acs:oss:cn-hangzhou:{cloud.account_id}:{BUCKET}"
    assert record["region"] == "cn-hangzhou"
    assert record["responseElements"]["requestId"] == result.request_id
    assert record["eventTime"].endswith(".000Z")


def test_rules_filter_by_prefix_suffix_and_event(cloud: FakeCloud, bucket: oss2.Bucket) -> None:
    manifests: list[bytes] = []
    copies: list[bytes] = []
    cloud.oss.add_notification(BUCKET, name="manifests", sink=manifests.append,
                               prefix="incoming/", suffix=".json")
    cloud.oss.add_notification(BUCKET, name="copies", sink=copies.append,
                               events=("oss:ObjectCreated:CopyObject",))
    bucket.put_object("incoming/a.qcow2", b"1")
    bucket.put_object("incoming/a.qcow2.json", b"{}")
    bucket.put_object("imagedrop/status/a.json", b"{}")
    bucket.copy_object(BUCKET, "incoming/a.qcow2", "archive/a.qcow2")
    cloud.pump.run_until_idle()
    assert [json.loads(m)["events"][0]["oss"]["object"]["key"] for m in manifests] == \
        ["incoming/a.qcow2.json"]
    assert [json.loads(m)["events"][0]["eventName"] for m in copies] == ["ObjectCreated:CopyObject"]


def test_overwrite_reports_delta_size(cloud: FakeCloud) -> None:
    seen: list[dict[str, Any]] = []
    cloud.oss.add_notification(BUCKET, name="f", sink=lambda b: seen.append(json.loads(b)))
    cloud.oss.put_object(BUCKET, "k", b"12345")
    cloud.oss.put_object(BUCKET, "k", b"12")
    cloud.pump.run_until_idle()
    assert [e["events"][0]["oss"]["object"]["deltaSize"] for e in seen] == [5, -3]


def test_throttle_and_503_surface_as_server_errors(cloud: FakeCloud, bucket: oss2.Bucket) -> None:
    bucket.put_object("k", b"1")
    cloud.faults.script("oss", "GetObject", ["throttle", "503"])
    with pytest.raises(oss2.exceptions.ServerError) as throttled:
        bucket.get_object("k")
    assert (throttled.value.status, throttled.value.code) == (503, "TotalQpsLimitExceeded")
    with pytest.raises(oss2.exceptions.ServerError) as unavailable:
        bucket.get_object("k")
    assert (unavailable.value.status, unavailable.value.code) == (503, "ServiceUnavailable")
    assert bucket.get_object("k").read() == b"1"


def test_reset_surfaces_as_request_error(cloud: FakeCloud, bucket: oss2.Bucket) -> None:
    cloud.faults.script("oss", "PutObject", ["reset"])
    with pytest.raises(oss2.exceptions.RequestError):
        bucket.put_object("k", b"1")
    assert "k" not in cloud.oss.bucket(BUCKET).objects
