"""The guest facts through the ingest and poll flows: fields filled from the disk, contradictions
and strict preflight refused before ImportImage, findings in the record and the `importing`
event, and the check side by side once ECS's is back (real guest disks, in-memory adapters)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from imagedrop.flows.ingest import ingest_object
from imagedrop.flows.poll import poll_one

from .fakes import Cloud, manifest

GUESTS = Path(__file__).resolve().parents[1] / "fixtures" / "guests"
DISK = "incoming/web.qcow2"
MANIFEST = DISK + ".json"


def guest_disk(name: str) -> bytes:
    return gzip.decompress((GUESTS / name).read_bytes())


@pytest.fixture
def cloud() -> Cloud:
    return Cloud()


def test_left_out_fields_are_read_from_the_disk_and_the_record_says_from_where(
        cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, guest_disk("facts-centos7.vhd.gz"))
    body = json.dumps({"image_name": "el7-web"})
    result = ingest_object(cloud.bucket.drop(MANIFEST, body), cloud.services)
    assert result.outcome == "submitted", result.detail
    [image] = cloud.ecs.images.values()
    assert (image.params["OSType"], image.params["Platform"], image.params["Architecture"]) == (
        "linux", "CentOS", "x86_64")
    record = cloud.record(MANIFEST)
    assert record["filled"]["platform"] == {"value": "CentOS",
                                            "from": "disk: /etc/os-release ID=centos VERSION_ID=7"}
    assert record["filled"]["architecture"]["from"] == "disk: the ELF header of /bin/sh"
    assert record["filled"]["os_type"]["value"] == "linux"
    assert record["guest"]["distro"] == "centos" and record["guest"]["version"] == "7"
    assert [f["item"] for f in record["findings"]] == ["GUESTOS.Dhcp", "GUESTOS.OnlineResizeFS"]
    # the importing event carries the same
    [event] = cloud.mns.published
    assert event["type"].endswith(".importing")
    assert event["data"]["guest"] == record["guest"]
    assert event["data"]["findings"] == record["findings"]
    assert event["data"]["filled"] == record["filled"]
    # the claim keeps the filled manifest, for the poller's finishing step
    claim = next(json.loads(o.data) for k, o in cloud.bucket.objects.items() if "/claims/" in k)
    assert claim["spec"]["platform"] == "CentOS"


def test_a_manifest_that_contradicts_the_disk_is_refused_before_import_image(cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, guest_disk("facts-centos7.vhd.gz"))
    result = ingest_object(cloud.bucket.drop(MANIFEST, manifest(boot_mode=None)), cloud.services)
    assert result.outcome == "rejected"
    assert cloud.ecs.calls == []
    record = cloud.record(MANIFEST)
    [problem] = record["problems"]
    assert problem["where"] == "platform"
    assert "says Ubuntu but the system disk holds CentOS Linux 7" in problem["rule"]
    assert "set platform to CentOS" in problem["fix"]
    assert record["guest"]["distro"] == "centos"
    assert cloud.mns.published[0]["data"]["guest"]["distro"] == "centos"


def test_others_linux_is_honoured(cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, guest_disk("facts-centos7.vhd.gz"))
    body = manifest(platform="Others Linux", boot_mode=None)
    assert ingest_object(cloud.bucket.drop(MANIFEST, body), cloud.services).outcome == "submitted"


def test_a_disk_that_cannot_tell_is_refused_naming_the_field(cloud: Cloud) -> None:
    # The sample disk's root file system is empty: no os-release, no /bin/sh.
    from .fakes import sample_disk
    cloud.bucket.drop(DISK, sample_disk())
    result = ingest_object(cloud.bucket.drop(MANIFEST, json.dumps({"image_name": "web-1"})),
                           cloud.services)
    assert result.outcome == "rejected"
    wheres = [p["where"] for p in cloud.record(MANIFEST)["problems"]]
    assert wheres == ["platform", "architecture"]
    assert all("write it in the manifest" in p["fix"] for p in cloud.record(MANIFEST)["problems"])
    assert cloud.ecs.calls == []


def test_strict_preflight_refuses_a_high_finding_and_report_imports(cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, guest_disk("facts-debian12.raw.gz"))
    strict = json.dumps({"image_name": "deb-1", "preflight": "strict"})
    assert ingest_object(cloud.bucket.drop(MANIFEST, strict), cloud.services).outcome == "rejected"
    wheres = [p["where"] for p in cloud.record(MANIFEST)["problems"]]
    assert wheres == ["preflight: GUESTOS.Virtio", "preflight: GUESTOS.Fstab"]
    assert cloud.ecs.calls == []
    report = json.dumps({"image_name": "deb-1"})
    assert ingest_object(cloud.bucket.drop(MANIFEST, report), cloud.services).outcome == "submitted"
    record = cloud.record(MANIFEST)
    assert {f["item"] for f in record["findings"]} >= {"GUESTOS.Virtio", "GUESTOS.Fstab"}


def test_the_check_is_recorded_beside_the_prediction(cloud: Cloud) -> None:
    cloud.bucket.drop(DISK, guest_disk("facts-debian12.raw.gz"))
    ingest_object(cloud.bucket.drop(MANIFEST, json.dumps({"image_name": "deb-1"})), cloud.services)
    [msg] = cloud.mns.track_messages()
    cloud.ecs.finish(msg.task_id, risks=[
        {"Name": "GUESTOS.Virtio", "Value": "NotSupported", "RiskLevel": "High"},
        {"Name": "GUESTOS.Fstab", "Value": "Normal"},
        {"Name": "GUESTOS.CloudInit", "Value": "NotInstalled", "RiskLevel": "Medium"},
    ])
    cloud.clock.advance(600)
    poll_one(msg, cloud.services)
    record = cloud.record(MANIFEST)
    assert record["state"] == "succeeded"
    rows = {row["item"]: (row["predicted"], row["actual"], row["agree"]) for row in record["check"]}
    assert rows["GUESTOS.Virtio"] == ("High", "High", True)
    assert rows["GUESTOS.Fstab"] == ("High", "none", False)       # ECS disagrees
    assert rows["GUESTOS.CloudInit"] == ("Medium", "Medium", True)
    assert rows["GUESTOS.Nvme"] == ("Medium", "none", False)      # predicted, not reported
    assert cloud.mns.published[-1]["data"]["check"] == record["check"]
