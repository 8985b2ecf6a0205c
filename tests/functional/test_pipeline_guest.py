"""The guest's facts end to end on the emulator (real oss2, ECS and MNS clients): a manifest that
leaves the OS to the disk, one that contradicts it, strict preflight, and ECS's check (read from
the same disk by the emulator, or made to disagree per object) beside the prediction."""

from __future__ import annotations

import gzip
from pathlib import Path

from pipeline_harness import Harness

GUESTS = Path(__file__).parents[1] / "fixtures" / "guests"
KEY = "incoming/web.qcow2"


def _guest(stack: Harness, name: str) -> Path:
    out = stack.tmp / name.removesuffix(".gz")
    if not out.exists():
        out.write_bytes(gzip.decompress((GUESTS / name).read_bytes()))
    return out


def test_a_manifest_with_only_a_name_imports_what_the_disk_holds(stack: Harness) -> None:
    key = stack.drop(_guest(stack, "facts-debian12.raw.gz"), {"image_name": "deb-12"})
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    image = stack.cloud.ecs.images[record.image_id]
    assert (image.os_type, image.platform, image.architecture) == ("linux", "Debian", "x86_64")
    assert record.filled["platform"] == {"value": "Debian",
                                         "from": "disk: /etc/os-release ID=debian VERSION_ID=12"}
    assert record.guest is not None and record.guest.distro == "debian"
    # the importing event carries the facts and the predicted risks
    importing = next(e for e in stack.events(key) if e["type"].endswith(".importing"))
    assert importing["data"]["guest"]["distro"] == "debian"
    assert {f["item"] for f in importing["data"]["findings"]} >= {"GUESTOS.Virtio", "GUESTOS.Fstab"}
    # the emulated ECS read the same disk: its check agrees item by item with the prediction
    rows = {row.item: row for row in record.check}
    assert (rows["GUESTOS.Virtio"].predicted, rows["GUESTOS.Virtio"].actual) == ("High", "High")
    assert (rows["GUESTOS.Fstab"].predicted, rows["GUESTOS.Fstab"].actual) == ("High", "High")
    assert all(row.agree is not False for row in record.check), record.check
    last = stack.events(key)[-1]
    assert last["data"]["check"] == [r.model_dump(mode="json") for r in record.check]


def test_ecs_made_to_disagree_per_object_shows_side_by_side(stack: Harness) -> None:
    stack.cloud.ecs.scenario.detection_by_object[f"{stack.info.bucket}/{KEY}"] = [
        {"Name": "GUESTOS.Virtio", "Value": "Supported"}]
    key = stack.drop(_guest(stack, "facts-debian12.raw.gz"), {"image_name": "deb-12b"})
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded"
    rows = {row.item: row for row in record.check}
    assert (rows["GUESTOS.Virtio"].predicted, rows["GUESTOS.Virtio"].actual,
            rows["GUESTOS.Virtio"].agree) == ("High", "none", False)


def test_a_contradiction_is_rejected_before_import_image(stack: Harness) -> None:
    manifest = {"image_name": "el7", "os_type": "linux", "platform": "Ubuntu",
                "architecture": "x86_64"}
    key = stack.drop(_guest(stack, "facts-centos7.vhd.gz"), manifest, key="incoming/el7.vhd")
    stack.run()
    record = stack.status(key)
    assert record.state == "rejected"
    assert [p.where for p in record.problems] == ["platform"]
    assert "holds CentOS Linux 7" in record.problems[0].rule
    assert stack.images() == []


def test_strict_preflight_refuses_a_high_finding(stack: Harness) -> None:
    manifest = {"image_name": "deb-strict", "preflight": "strict"}
    key = stack.drop(_guest(stack, "facts-debian12.raw.gz"), manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "rejected"
    assert [p.where for p in record.problems] == ["preflight: GUESTOS.Virtio",
                                                  "preflight: GUESTOS.Fstab"]
    assert stack.images() == []
