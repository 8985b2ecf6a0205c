"""What the pipeline reads from a valid manifest."""

from __future__ import annotations

import json

import pytest

from imagedrop.errors import ManifestError
from imagedrop.manifest import Manifest, parse_manifest, system_disk_key
from manifest_helpers import varied


def manifest(**patch: object) -> Manifest:
    return parse_manifest(json.dumps(varied(**patch)))


@pytest.mark.parametrize("manifest_key,objects,expected", [
    ("incoming/web.qcow2.json", [], ["incoming/web.qcow2"]),
    ("incoming/web.qcow2.json", ["data.raw", "disks/d2.vhd"],
     ["incoming/web.qcow2", "incoming/data.raw", "incoming/disks/d2.vhd"]),
    ("web.qcow2.json", ["data.raw"], ["web.qcow2", "data.raw"]),
    ("a/b/c/画像.raw.json", ["x/データ.raw"], ["a/b/c/画像.raw", "a/b/c/x/データ.raw"]),
])
def test_disk_keys_resolve_against_the_manifest_folder(manifest_key: str, objects: list[str],
                                                       expected: list[str]) -> None:
    m = manifest(data_disks=[{"object": o} for o in objects])
    assert m.disk_keys(manifest_key) == expected


@pytest.mark.parametrize("bad_key", ["incoming/web.qcow2", "incoming/.json", ".json", "web.JSON"])
def test_a_key_that_is_not_a_manifest_key_is_refused(bad_key: str) -> None:
    with pytest.raises(ValueError, match="not a manifest key"):
        system_disk_key(bad_key)


@pytest.mark.parametrize("object_key,what", [("web.qcow2", "the system disk"),
                                             ("web.qcow2.json", "this manifest")])
def test_a_data_disk_cannot_be_the_system_disk_or_the_manifest(object_key: str, what: str) -> None:
    m = manifest(data_disks=[{"object": "ok.raw"}, {"object": object_key}])
    assert m.key_problems("incoming/ok-other.json") == []
    problems = m.key_problems("incoming/web.qcow2.json")
    assert len(problems) == 1 and problems[0].startswith("data_disks[1].object: ")
    assert what in problems[0]
    with pytest.raises(ManifestError):
        m.disk_keys("incoming/web.qcow2.json")


@pytest.mark.parametrize("architecture,boot_mode,expected", [
    ("x86_64", None, None), ("x86_64", "BIOS", "BIOS"), ("x86_64", "UEFI", "UEFI"),
    ("arm64", None, "UEFI"), ("arm64", "UEFI", "UEFI"), ("i386", None, None),
])
def test_effective_boot_mode(architecture: str, boot_mode: str | None, expected: str | None) -> None:
    assert manifest(architecture=architecture, boot_mode=boot_mode).effective_boot_mode == expected


@pytest.mark.parametrize("platform,image_check,expected", [
    ("Ubuntu", True, True), ("Ubuntu", False, False), ("Gentoo", True, False),
    ("Customized Linux", True, False), ("FreeBSD", True, False),
])
def test_image_check_is_skipped_where_ecs_cannot_check(platform: str, image_check: bool,
                                                       expected: bool) -> None:
    assert manifest(platform=platform, image_check=image_check).wants_image_check is expected


def test_nvme_feature_and_tags_for_the_api() -> None:
    assert manifest().nvme_feature is None
    assert manifest(nvme_support="supported").nvme_feature == "supported"
    assert manifest(tags={"b": "1", "a": "2"}).tag_pairs == [("b", "1"), ("a", "2")]


def test_defaults() -> None:
    m = manifest()
    assert (m.image_check, m.delete_source_on_success, m.nvme_support) == (True, False, "auto")
    assert (m.data_disks, m.tags, m.copy_to_regions, m.share_with_accounts) == ([], {}, [], [])
    assert m.license_type is None and m.boot_mode is None and m.region is None
