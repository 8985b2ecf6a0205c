"""Each real guest (tests/fixtures/real_guests) imported end to end through the local stack with
a manifest of only `image_name`: the disk fills os type, platform, architecture and boot mode,
and the emulated ECS's check, read from the same disk, agrees with the prediction."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pipeline_harness import Harness

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "real_guests"))

from guests import GUESTS  # noqa: E402

pytestmark = pytest.mark.timeout(3600)  # the first test may build the corpus
PLATFORMS = {"debian": "Debian"}


@pytest.mark.parametrize("name", [g.name for g in GUESTS])
def test_a_manifest_of_only_a_name_imports_the_real_guest(name: str, real_guests,
                                                          stack: Harness) -> None:
    guest = real_guests[name]
    truth = guest.truth
    key = f"incoming/{guest.image.name}"
    manifest_key = stack.drop(guest.image, {"image_name": name}, key=key)
    stack.run()
    record = stack.status(manifest_key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    image = stack.cloud.ecs.images[record.image_id]
    facts = truth["guest"]
    assert (image.os_type, image.platform, image.architecture) == \
        ("linux", PLATFORMS[facts["distro"]], facts["architecture"])
    assert {k: v["value"] for k, v in record.filled.items()} == {
        "os_type": "linux", "platform": PLATFORMS[facts["distro"]],
        "architecture": facts["architecture"],
        "boot_mode": "UEFI" if facts["architecture"] == "arm64" else truth["disk"]["boot_mode"]}
    assert record.guest is not None and record.guest.kernel == facts["kernel"]
    assert all(row.agree is not False for row in record.check), record.check
