"""The committed JSON Schema and Markdown reference are current, complete, and agree with the
model on what they can express."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from imagedrop.manifest import manifest_json_schema, render_manifest_reference, render_schema_json
from manifest_helpers import DROP, problems_of, varied

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "shared" / "imagedrop_cli" / "samples" / "web.qcow2.json"
REGENERATE = "regenerate with: python -m imagedrop.manifest --write ."


def test_committed_schema_is_current() -> None:
    assert (ROOT / "schema" / "manifest.schema.json").read_text(encoding="utf-8") == \
        render_schema_json(), REGENERATE


def test_committed_reference_is_current() -> None:
    assert (ROOT / "docs" / "manifest.md").read_text(encoding="utf-8") == \
        render_manifest_reference(), REGENERATE


def test_reference_has_a_row_for_every_field() -> None:
    text = render_manifest_reference()
    for name in manifest_json_schema()["properties"]:
        assert f"| `{name}` |" in text


def test_every_field_has_a_title_and_a_description_and_no_extra_fields_are_allowed() -> None:
    schema = manifest_json_schema()
    Draft202012Validator.check_schema(schema)
    for model in (schema, schema["$defs"]["DataDisk"]):
        assert model["additionalProperties"] is False
        for name, prop in model["properties"].items():
            assert prop.get("title") and prop.get("description"), name


def test_bundled_sample_is_valid() -> None:
    raw = SAMPLE.read_bytes()
    assert problems_of(json.loads(raw)) == []
    assert not list(Draft202012Validator(manifest_json_schema()).iter_errors(json.loads(raw)))


# Documents the schema can judge on its own; the model must give the same verdict.
AGREEMENT: list[tuple[str, dict[str, Any]]] = [
    ("valid", {}),
    ("cjk name", {"image_name": "画像-2026.11"}),
    ("name 1 char", {"image_name": "a"}),
    ("name 129", {"image_name": "a" * 129}),
    ("name 128", {"image_name": "a" * 128}),
    ("name digit first", {"image_name": "1a"}),
    ("name aliyun", {"image_name": "Aliyun-x"}),
    ("name acs", {"image_name": "acs:x"}),
    ("name space", {"image_name": "a b"}),
    ("os_type bad", {"os_type": "macos"}),
    ("missing platform", {"platform": DROP}),
    ("platform mismatch", {"platform": "Windows Server 2016"}),
    ("windows ok", {"os_type": "windows", "platform": "Other Windows", "license_type": "BYOL"}),
    ("windows no license", {"os_type": "windows", "platform": "Other Windows"}),
    ("linux with license", {"license_type": "Auto"}),
    ("arm64 bios", {"architecture": "arm64", "boot_mode": "BIOS"}),
    ("arm64 uefi", {"architecture": "arm64", "boot_mode": "UEFI"}),
    ("format upper", {"format": "QCOW2"}),
    ("format vhdx", {"format": "vhdx"}),
    ("disk 0", {"system_disk_gib": 0}),
    ("disk 2048", {"system_disk_gib": 2048}),
    ("disk 2049", {"system_disk_gib": 2049}),
    ("17 disks", {"data_disks": [{"object": f"d{i}"} for i in range(17)]}),
    ("disk ..", {"data_disks": [{"object": "a/../b"}]}),
    ("disk abs", {"data_disks": [{"object": "/b"}]}),
    ("disk oss", {"data_disks": [{"object": "oss://b/k"}]}),
    ("disk backslash", {"data_disks": [{"object": "a\\b"}]}),
    ("disk dot", {"data_disks": [{"object": "./b"}]}),
    ("disk ok", {"data_disks": [{"object": "d/e.raw", "size_gib": 3, "format": "Raw"}]}),
    ("disk extra", {"data_disks": [{"object": "d", "extra": 1}]}),
    ("description 1", {"description": "a"}),
    ("description url", {"description": "https://x"}),
    ("description 256", {"description": "x" * 256}),
    ("21 tags", {"tags": {f"k{i}": "v" for i in range(21)}}),
    ("tag aliyun", {"tags": {"aliyun": "v"}}),
    ("tag value url", {"tags": {"k": "a http://b"}}),
    ("tag value 129", {"tags": {"k": "v" * 129}}),
    ("tag ok", {"tags": {"k": ""}}),
    ("rg bad", {"resource_group_id": "rg-"}),
    ("family url", {"image_family": "ab-https://x"}),
    ("family ok", {"image_family": "家族-web"}),
    ("nvme bad", {"nvme_support": "maybe"}),
    ("region bad", {"copy_to_regions": ["CN-X"]}),
    ("region dup", {"copy_to_regions": ["cn-x1", "cn-x1"]}),
    ("account bad", {"share_with_accounts": ["abc"]}),
    ("account int", {"share_with_accounts": [12]}),
    ("unknown", {"boot_mod": "UEFI"}),
    ("$schema", {"$schema": "x.json"}),
    ("null optional", {"boot_mode": None, "tags": None}),
    ("schema version 2", {"schema_version": 2}),
]


@pytest.mark.parametrize("patch", [a[1] for a in AGREEMENT], ids=[a[0] for a in AGREEMENT])
def test_schema_and_model_agree(patch: dict[str, Any]) -> None:
    doc = varied(**patch)
    schema_ok = not list(Draft202012Validator(manifest_json_schema()).iter_errors(doc))
    model_ok = problems_of(doc) == []
    assert schema_ok == model_ok, problems_of(doc)


@pytest.mark.parametrize("field", ["image_check", "delete_source_on_success", "nvme_support",
                                   "data_disks", "tags", "copy_to_regions", "share_with_accounts",
                                   "boot_mode", "region", "schema_version"])
def test_null_means_not_given_for_every_optional_field(field: str) -> None:
    doc = varied(**{field: None})
    assert problems_of(doc) == []
    assert not list(Draft202012Validator(manifest_json_schema()).iter_errors(doc))
