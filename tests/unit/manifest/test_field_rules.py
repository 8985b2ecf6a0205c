"""Every field rule, valid and invalid: each invalid case must produce exactly one problem line,
naming the field path and the rule."""

from __future__ import annotations

from typing import Any

import pytest

from imagedrop.manifest import parse_manifest

from manifest_helpers import DROP, problems_of, varied

WIN = {"os_type": "windows", "platform": "Windows Server 2022", "license_type": "BYOL"}

VALID: list[tuple[str, dict[str, Any]]] = [
    ("minimal linux", {}),
    ("cjk name", {"image_name": "画像-2026.11"}),
    ("cjk only", {"image_name": "画像"}),
    ("astral cjk (extension B)", {"image_name": "\U00020000x"}),
    ("two chars", {"image_name": "ab"}),
    ("128 chars", {"image_name": "a" * 128}),
    ("name with all allowed punctuation", {"image_name": "a1.b_c:d-e"}),
    ("name containing aliyun later", {"image_name": "my-aliyun"}),
    ("windows with license", WIN),
    ("windows Other Windows", {**WIN, "platform": "Other Windows", "license_type": "Auto"}),
    ("license Aliyun", {**WIN, "license_type": "Aliyun"}),
    ("Others Linux", {"platform": "Others Linux"}),
    ("Customized Linux", {"platform": "Customized Linux"}),
    ("Fedora CoreOS", {"platform": "Fedora CoreOS"}),
    ("i386", {"architecture": "i386"}),
    # Left out, these are read from the disk by the ingest (and push).
    ("os_type left out", {"os_type": DROP}),
    ("platform left out", {"platform": DROP}),
    ("architecture left out", {"architecture": DROP}),
    ("all four left out", {"os_type": DROP, "platform": DROP, "architecture": DROP}),
    ("os_type left out, a license for the disk to confirm",
     {"os_type": DROP, "platform": DROP, "license_type": "BYOL"}),
    ("windows platform without os_type", {"os_type": DROP, "platform": "Other Windows",
                                          "license_type": "Auto"}),
    ("preflight strict", {"preflight": "strict"}),
    ("preflight report", {"preflight": "report"}),
    ("arm64 no boot mode", {"architecture": "arm64"}),
    ("arm64 UEFI", {"architecture": "arm64", "boot_mode": "UEFI"}),
    ("x86 BIOS", {"boot_mode": "BIOS"}),
    ("format upper", {"format": "QCOW2"}),
    ("format mixed", {"format": "Vmdk"}),
    ("format vhd raw", {"format": "raw"}),
    ("disk 1 GiB", {"system_disk_gib": 1}),
    ("disk 2048 GiB", {"system_disk_gib": 2048}),
    ("16 data disks", {"data_disks": [{"object": f"d{i}.raw"} for i in range(16)]}),
    ("data disk in subfolder", {"data_disks": [{"object": "disks/d1.raw", "size_gib": 2048,
                                                "format": "VHD"}]}),
    ("description 2", {"description": "ab"}),
    ("description 256", {"description": "d" * 256}),
    ("description mentions url later", {"description": "see https://example.com"}),
    ("20 tags", {"tags": {f"k{i}": "v" for i in range(20)}}),
    ("tag key 128 and value 128", {"tags": {"k" * 128: "v" * 128}}),
    ("empty tag value", {"tags": {"team": ""}}),
    ("cjk tag", {"tags": {"チーム": "ウェブ"}}),
    # Tag.N.Value may start with aliyun (only a key may not): ImportImage API reference.
    ("tag value aliyun", {"tags": {"os": "Aliyun", "distro": "aliyun-3"}}),
    ("resource group", {"resource_group_id": "rg-acfmzw2jz2z"}),
    ("image family", {"image_family": "web-family"}),
    ("image family cjk", {"image_family": "家族"}),
    ("nvme supported", {"nvme_support": "supported"}),
    ("imds v2", {"imds_support": "v2"}),
    ("regions", {"copy_to_regions": ["cn-hangzhou", "ap-northeast-1", "us-west-1"]}),
    ("accounts as strings and ints", {"share_with_accounts": ["1234567890123456", 42]}),
    ("100 accounts", {"share_with_accounts": [str(10**10 + i) for i in range(100)]}),
    ("delete source", {"delete_source_on_success": True}),
    ("image_check off", {"image_check": False}),
    ("region", {"region": "cn-shanghai", "copy_to_regions": ["cn-beijing"]}),
    ("schema version 1", {"schema_version": 1}),
    ("$schema for editors", {"$schema": "./manifest.schema.json"}),
    ("null optional fields", {"boot_mode": None, "format": None, "tags": None,
                              "data_disks": None, "description": None}),
]


@pytest.mark.parametrize("patch", [v[1] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_manifests_have_no_problems(patch: dict[str, Any]) -> None:
    assert problems_of(varied(**patch)) == []


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    # (case, patch, expected path, fragment of the message)
    ("name missing", {"image_name": DROP}, "image_name", "required"),
    ("name 1 char", {"image_name": "a"}, "image_name", "2 to 128"),
    ("name 129 chars", {"image_name": "a" * 129}, "image_name", "2 to 128"),
    ("name empty", {"image_name": ""}, "image_name", "2 to 128"),
    ("name starts with digit", {"image_name": "1web"}, "image_name", "start with an ASCII letter"),
    ("name starts with dash", {"image_name": "-web"}, "image_name", "start with an ASCII letter"),
    ("name starts with kana", {"image_name": "カスタム"}, "image_name", "start with an ASCII letter"),
    ("name with space", {"image_name": "web 1"}, "image_name", "' ' at position 4"),
    ("name with slash", {"image_name": "web/1"}, "image_name", "'/' at position 4"),
    ("name with accented letter", {"image_name": "café"}, "image_name", "'é' at position 4"),
    ("name aliyun", {"image_name": "aliyun-web"}, "image_name", "'aliyun'"),
    ("name Aliyun any case", {"image_name": "ALIYUN_web"}, "image_name", "'ALIYUN'"),
    ("name acs:", {"image_name": "acs:web"}, "image_name", "'acs:'"),
    ("name http", {"image_name": "http://x"}, "image_name", "'http://'"),
    ("name https", {"image_name": "https://x"}, "image_name", "'https://'"),
    ("name not text", {"image_name": 12}, "image_name", "the number 12"),
    ("os_type other", {"os_type": "macos"}, "os_type", "not one of linux, windows"),
    ("os_type case", {"os_type": "Linux"}, "os_type", "did you mean linux?"),
    ("windows platform, no os_type, no license",
     {"os_type": DROP, "platform": "Windows Server 2019"}, "license_type",
     "required when platform 'Windows Server 2019' is a Windows platform"),
    ("linux platform, no os_type, a license", {"os_type": DROP, "license_type": "BYOL"},
     "license_type", "only to windows images; remove it (platform 'Ubuntu' is a Linux platform)"),
    ("preflight other", {"preflight": "paranoid"}, "preflight", "not one of report, strict"),
    ("platform unknown", {"platform": "Plan9"}, "platform", "not one of"),
    ("platform case", {"platform": "ubuntu"}, "platform", "did you mean Ubuntu?"),
    ("platform with version", {"platform": "Ubuntu 22.04"}, "platform", "did you mean Ubuntu?"),
    ("platform rhel", {"platform": "RHEL"}, "platform", "did you mean RedHat?"),
    ("platform windows on linux", {"platform": "Windows Server 2019"}, "platform",
     "Windows platform but os_type is 'linux'"),
    ("platform linux on windows", {**WIN, "platform": "Debian"}, "platform",
     "Linux platform but os_type is 'windows'"),
    ("amd64", {"architecture": "amd64"}, "architecture",
     "'amd64' is not one of x86_64, i386, arm64; did you mean x86_64?"),
    ("aarch64", {"architecture": "aarch64"}, "architecture", "did you mean arm64?"),
    ("x86", {"architecture": "x86"}, "architecture", "did you mean i386?"),
    ("windows without license", {**WIN, "license_type": DROP}, "license_type",
     "required when os_type is windows"),
    ("windows null license", {**WIN, "license_type": None}, "license_type", "required"),
    ("linux with license", {"license_type": "BYOL"}, "license_type", "only to windows"),
    ("license bad", {**WIN, "license_type": "byol"}, "license_type", "did you mean BYOL?"),
    ("arm64 BIOS", {"architecture": "arm64", "boot_mode": "BIOS"}, "boot_mode", "UEFI only"),
    ("boot mode bad", {"boot_mode": "legacy"}, "boot_mode", "did you mean BIOS?"),
    ("boot mode UEFI-Preferred", {"boot_mode": "UEFI-Preferred"}, "boot_mode", "not one of BIOS, UEFI"),
    ("vhdx", {"format": "vhdx"}, "format", "qemu-img convert -O qcow2 in.vhdx out.qcow2"),
    ("VDI", {"format": "VDI"}, "format", "qemu-img convert -O qcow2 in.vdi out.qcow2"),
    ("iso", {"format": "iso"}, "format", "install it onto a disk first"),
    ("format unknown", {"format": "ova"}, "format", "not one of qcow2, vhd, raw, vmdk"),
    ("disk 0", {"system_disk_gib": 0}, "system_disk_gib", "1 to 2048"),
    ("disk 2049", {"system_disk_gib": 2049}, "system_disk_gib", "1 to 2048"),
    ("disk float", {"system_disk_gib": 40.5}, "system_disk_gib", "whole number"),
    ("disk text", {"system_disk_gib": "40"}, "system_disk_gib", "whole number"),
    ("disk bool", {"system_disk_gib": True}, "system_disk_gib", "whole number"),
    ("17 data disks", {"data_disks": [{"object": f"d{i}.raw"} for i in range(17)]},
     "data_disks", "at most 16"),
    ("data disks not list", {"data_disks": {"object": "a"}}, "data_disks", "expected a list"),
    ("data disk not object", {"data_disks": ["a.raw"]}, "data_disks[0]", "expected an object"),
    ("data disk ..", {"data_disks": [{"object": "../x"}]}, "data_disks[0].object", "'..'"),
    ("data disk inner ..", {"data_disks": [{"object": "a/../../x"}]}, "data_disks[0].object", "'..'"),
    ("data disk abs", {"data_disks": [{"object": "/abs"}]}, "data_disks[0].object", "starts with '/'"),
    ("data disk oss url", {"data_disks": [{"object": "oss://b/k"}]}, "data_disks[0].object", "URL"),
    ("data disk https url", {"data_disks": [{"object": "https://h/k"}]}, "data_disks[0].object", "URL"),
    ("data disk backslash", {"data_disks": [{"object": "a\\b"}]}, "data_disks[0].object", "'\\'"),
    ("data disk empty", {"data_disks": [{"object": ""}]}, "data_disks[0].object", "empty"),
    ("data disk control char", {"data_disks": [{"object": "a\nb"}]}, "data_disks[0].object",
     "control character"),
    ("data disk folder", {"data_disks": [{"object": "disks/"}]}, "data_disks[0].object", "segment"),
    ("data disk dot", {"data_disks": [{"object": "./d.raw"}]}, "data_disks[0].object", "'d.raw'"),
    ("data disk missing object", {"data_disks": [{"size_gib": 3}]}, "data_disks[0].object", "required"),
    ("data disk size 0", {"data_disks": [{"object": "d", "size_gib": 0}]}, "data_disks[0].size_gib",
     "1 to 2048"),
    ("data disk size 2049", {"data_disks": [{"object": "d", "size_gib": 2049}]},
     "data_disks[0].size_gib", "1 to 2048"),
    ("data disk vhdx", {"data_disks": [{"object": "d", "format": "VHDX"}]}, "data_disks[0].format",
     "qemu-img convert"),
    ("data disk typo", {"data_disks": [{"object": "d", "sizegib": 3}]}, "data_disks[0].sizegib",
     "did you mean size_gib?"),
    ("data disk twice", {"data_disks": [{"object": "d"}, {"object": "d"}]}, "data_disks[1].object",
     "listed twice"),
    ("image_check text", {"image_check": "true"}, "image_check", "true or false"),
    ("delete_source int", {"delete_source_on_success": 1}, "delete_source_on_success", "true or false"),
    ("description 1", {"description": "a"}, "description", "2 to 256"),
    ("description 257", {"description": "d" * 257}, "description", "2 to 256"),
    ("description url first", {"description": "https://example.com is home"}, "description",
     "must not start with http"),
    ("description HTTP upper", {"description": "HTTP://x.y"}, "description", "must not start with http"),
    ("21 tags", {"tags": {f"k{i}": "v" for i in range(21)}}, "tags", "at most 20"),
    ("tags as list", {"tags": [{"key": "a", "value": "b"}]}, "tags", 'expected an object {"key": "value"}'),
    ("tag key empty", {"tags": {"": "v"}}, 'tags[""]', "1 to 128"),
    ("tag key 129", {"tags": {"k" * 129: "v"}}, "tags." + "k" * 129, "1 to 128"),
    ("tag value 129", {"tags": {"team": "v" * 129}}, "tags.team", "at most 128"),
    ("tag key aliyun", {"tags": {"aliyun-x": "v"}}, "tags.aliyun-x", "'aliyun'"),
    ("tag key acs:", {"tags": {"acs:x": "v"}}, 'tags["acs:x"]', "'acs:'"),
    ("tag value acs:", {"tags": {"team": "acs:x"}}, "tags.team", "tag value must not start with 'acs:'"),
    ("tag key url", {"tags": {"see http://x": "v"}}, 'tags["see\\u0020http://x"]', "URL"),
    ("tag value url", {"tags": {"team": "see https://x"}}, "tags.team", "URL"),
    ("tag value number", {"tags": {"team": 1}}, "tags.team", "must be text"),
    ("resource group bad", {"resource_group_id": "group-1"}, "resource_group_id", "rg-"),
    ("resource group upper", {"resource_group_id": "rg-ABC"}, "resource_group_id", "rg-"),
    ("family 1 char", {"image_family": "a"}, "image_family", "2 to 128"),
    ("family 129", {"image_family": "a" * 129}, "image_family", "2 to 128"),
    ("family digit", {"image_family": "1a"}, "image_family", "start with"),
    ("family aliyun", {"image_family": "aliyun-x"}, "image_family", "'aliyun'"),
    ("family acs", {"image_family": "ACS:x"}, "image_family", "'ACS:'"),
    ("family url", {"image_family": "fam-http://x"}, "image_family", "http://"),
    ("nvme bad", {"nvme_support": "yes"}, "nvme_support", "auto, supported, unsupported"),
    ("imds bad", {"imds_support": "v3"}, "imds_support", "v1, v2"),
    ("region bad", {"copy_to_regions": ["Hangzhou"]}, "copy_to_regions[0]", "region id"),
    ("region no dash", {"copy_to_regions": ["cnhangzhou"]}, "copy_to_regions[0]", "region id"),
    ("region duplicate", {"copy_to_regions": ["cn-beijing", "cn-beijing"]}, "copy_to_regions[1]",
     "listed twice"),
    ("copy to own region", {"region": "cn-beijing", "copy_to_regions": ["cn-beijing"]},
     "copy_to_regions[0]", "import region itself"),
    ("regions not list", {"copy_to_regions": "cn-beijing"}, "copy_to_regions", "expected a list"),
    ("import region bad", {"region": "cn_hangzhou"}, "region", "region id"),
    ("account letters", {"share_with_accounts": ["12ab"]}, "share_with_accounts[0]", "account id"),
    ("account negative", {"share_with_accounts": [-5]}, "share_with_accounts[0]", "account id"),
    ("account duplicate int and str", {"share_with_accounts": [123, "123"]},
     "share_with_accounts[1]", "listed twice"),
    ("101 accounts", {"share_with_accounts": [str(10**10 + i) for i in range(101)]},
     "share_with_accounts", "at most 100"),
    ("schema version 2", {"schema_version": 2}, "schema_version", "upgrade imagedrop"),
    ("schema version text", {"schema_version": "1"}, "schema_version", "write 1"),
    ("typo boot_mod", {"boot_mod": "UEFI"}, "boot_mod", "unknown field; did you mean boot_mode?"),
    ("wire name", {"ImageFamily": "x"}, "ImageFamily", "did you mean image_family?"),
    ("unknown far", {"colour": "red"}, "colour", "unknown field; remove it"),
]


@pytest.mark.parametrize("patch,path,fragment", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_each_broken_rule_is_one_line_naming_the_field(patch: dict[str, Any], path: str,
                                                       fragment: str) -> None:
    problems = problems_of(varied(**patch))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: "), problems
    assert fragment in problems[0]


def test_several_problems_are_all_reported_in_one_pass() -> None:
    # Given a manifest with a bad name, a bad architecture and a windows/linux mismatch
    doc = varied(image_name="aliyun-x", architecture="amd64", os_type="windows", boot_mod="x")
    # When it is checked
    problems = problems_of(doc)
    # Then each problem gets its own line, cross-field rules included
    fields = sorted(p.split(":")[0] for p in problems)
    assert fields == ["architecture", "boot_mod", "image_name", "license_type", "platform"]


def test_format_is_normalised_to_lower_case() -> None:
    manifest = parse_manifest('{"image_name":"ab","os_type":"linux","platform":"Ubuntu",'
                              '"architecture":"x86_64","format":"VMDK",'
                              '"data_disks":[{"object":"d","format":"QCow2"}]}')
    assert manifest.format == "vmdk"
    assert manifest.data_disks[0].format == "qcow2"


def test_account_ids_given_as_numbers_become_text() -> None:
    manifest = parse_manifest('{"image_name":"ab","os_type":"linux","platform":"Ubuntu",'
                              '"architecture":"x86_64","share_with_accounts":[1234567890123456]}')
    assert manifest.share_with_accounts == ["1234567890123456"]
