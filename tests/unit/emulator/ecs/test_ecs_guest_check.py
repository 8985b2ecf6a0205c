"""The fake's image check follows what the disk holds: items read from the guest's own files
(through imagedrop_disk), per-object and per-image overrides over them (real ECS SDK)."""

from __future__ import annotations

import gzip
from pathlib import Path

from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from ecs_helpers import BUCKET, import_request

from imagedrop_emulator import FakeCloud

GUESTS = Path(__file__).parents[3] / "fixtures" / "guests"


def _checked_items(ecs: Client, cloud: FakeCloud, fixture: str, key: str) -> dict[str, dict]:
    cloud.oss.put_object(BUCKET, key, gzip.decompress((GUESTS / fixture).read_bytes()))
    fmt = key.rsplit(".", 1)[1].upper()
    started = ecs.import_image(import_request(key, name=key.replace(".", "-"), fmt=fmt,
                                              size=None)).body
    cloud.clock.advance(cloud.ecs.tasks[started.task_id].duration + cloud.ecs.detection_seconds + 1)
    body = ecs.describe_images(m.DescribeImagesRequest(region_id="cn-hangzhou",
                                                       image_id=started.image_id)).body.to_map()
    (image,) = body["Images"]["Image"]
    assert image["DetectionOptions"]["Status"] == "Finished"
    return {i["Name"]: i for i in image["DetectionOptions"]["Items"]["Item"]}


def test_items_follow_the_guest_files(ecs: Client, cloud: FakeCloud) -> None:
    # Debian 12 with a kernel lacking virtio, fstab naming /dev/sda1, no cloud-init
    items = _checked_items(ecs, cloud, "facts-debian12.raw.gz", "deb.raw")
    assert (items["GUESTOS.Virtio"]["Value"], items["GUESTOS.Virtio"]["RiskLevel"]) == (
        "NotSupported", "High")
    assert items["GUESTOS.Fstab"]["RiskLevel"] == "High"
    assert items["GUESTOS.CloudInit"]["Value"] == "NotInstalled"
    # Ubuntu 22.04 with virtio and cloud-init: the same items, no risk
    items = _checked_items(ecs, cloud, "facts-ubuntu2204.qcow2.gz", "ubu.qcow2")
    assert items["GUESTOS.Virtio"] == {"Name": "GUESTOS.Virtio", "Value": "Supported"}
    assert items["GUESTOS.CloudInit"] == {"Name": "GUESTOS.CloudInit", "Value": "Installed"}
    assert not any("RiskLevel" in i for n, i in items.items() if n.startswith("GUESTOS.")
                   and n not in ("GUESTOS.BootMode",))


def test_rocky_selinux_enforcing_and_a_static_address(ecs: Client, cloud: FakeCloud) -> None:
    items = _checked_items(ecs, cloud, "facts-rocky9.vmdk.gz", "rocky.vmdk")
    assert (items["GUESTOS.Selinux"]["Value"], items["GUESTOS.Selinux"]["RiskLevel"]) == (
        "Enforcing", "Medium")
    assert items["GUESTOS.Dhcp"]["RiskLevel"] == "High"


def test_a_per_object_override_makes_ecs_disagree_with_the_disk(ecs: Client,
                                                                cloud: FakeCloud) -> None:
    cloud.ecs.scenario.detection_by_object[f"{BUCKET}/deb.raw"] = [
        {"Name": "GUESTOS.Virtio", "Value": "Supported"}]
    items = _checked_items(ecs, cloud, "facts-debian12.raw.gz", "deb.raw")
    assert items["GUESTOS.Virtio"] == {"Name": "GUESTOS.Virtio", "Value": "Supported"}
    assert items["GUESTOS.Fstab"]["RiskLevel"] == "High"   # the rest still follows the disk
