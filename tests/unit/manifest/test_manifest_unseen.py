"""Manifests the first tests did not think of: an adversarial pass over every rule of the import
guide and the ImportImage reference, the JSON corners (lone surrogates, huge numbers, 20.0 for a
whole number, keys that are not words), and the shape of every problem line, which the pipeline
splits at the first ': ' (the field) and the first '; ' (rule, then fix)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from imagedrop_cli import app
from imagedrop.manifest import (Manifest, check_manifest, manifest_json_schema, manifest_problems,
                                parse_manifest)
from imagedrop.manifest.choices import LINUX_PLATFORMS, WINDOWS_PLATFORMS
from manifest_helpers import BASE, problems_of, varied

WIN = {"os_type": "windows", "platform": "Windows Server 2022", "license_type": "BYOL"}


def assert_well_formed(line: str) -> None:
    """`field: rule; fix` on one line, the field free of whitespace so readers can find it."""
    assert "\n" not in line and "\r" not in line, line
    field, sep, rest = line.partition(": ")
    assert sep and field, line
    assert not any(ch.isspace() for ch in field), line
    assert "; " in rest, line
    line.encode("utf-8")  # no lone surrogate can reach a log or a notification


def with_raw(extra: str) -> str:
    """BASE as JSON text with `extra` (raw JSON members) spliced in."""
    return json.dumps(BASE)[:-1] + ", " + extra + "}"


VALID: list[tuple[str, dict[str, Any]]] = [
    # Whole numbers written as JSON floats are integers to JSON Schema, so to the model too.
    ("system disk 20.0", {"system_disk_gib": 20.0}),
    ("system disk 2048.0", {"system_disk_gib": 2048.0}),
    ("data disk 1.0", {"data_disks": [{"object": "d.raw", "size_gib": 1.0}]}),
    ("schema_version 1.0", {"schema_version": 1.0}),
    ("account as a whole float", {"share_with_accounts": [1234567890123456.0]}),
    ("name 2 cjk", {"image_name": "画像"}),
    ("name 128 cjk", {"image_name": "漢" * 128}),
    ("name 128 with ext A first", {"image_name": "\u3400" + "a" * 127}),
    ("name with extension I ideograph", {"image_name": "\U0002EBF0x"}),
    ("name containing acs: later", {"image_name": "web-acs:1"}),
    ("name with colon and dot", {"image_name": "Ubuntu:22.04.3"}),
    ("family with dot and colon (image_name rules)", {"image_family": "web.prod:v1"}),
    ("family 2 chars", {"image_family": "ab"}),
    ("family 128 chars", {"image_family": "f" * 128}),
    ("tag value starting with aliyun", {"tags": {"os": "aliyun-3"}}),
    ("tag value 128 cjk", {"tags": {"k": "値" * 128}}),
    ("tag key with spaces", {"tags": {"cost center": "42"}}),
    ("description 2 cjk", {"description": "説明"}),
    ("description 256 cjk", {"description": "説" * 256}),
    ("description with newline", {"description": "line one\nline two"}),
    ("finance and gov region ids", {"copy_to_regions": ["cn-shanghai-finance-1",
                                                        "cn-north-2-gov-1"]}),
    # OSS keys are literal: these name odd but real objects below the manifest's folder.
    ("key with %2e%2e", {"data_disks": [{"object": "%2e%2e/x.raw"}]}),
    ("key with fullwidth dots", {"data_disks": [{"object": "．．/x.raw"}]}),
    ("key with cjk and spaces", {"data_disks": [{"object": "データ ディスク.raw"}]}),
    ("key oss:/ without //", {"data_disks": [{"object": "oss:/b/x.raw"}]}),
    ("license Auto", {**WIN, "license_type": "Auto"}),
    ("windows i386", {**WIN, "architecture": "i386"}),
    ("arm64 linux UEFI null boot", {"architecture": "arm64", "boot_mode": None}),
]


@pytest.mark.parametrize("patch", [v[1] for v in VALID], ids=[v[0] for v in VALID])
def test_more_valid_manifests(patch: dict[str, Any]) -> None:
    assert problems_of(varied(**patch)) == []


@pytest.mark.parametrize("platform", LINUX_PLATFORMS)
def test_every_linux_platform_is_valid_with_linux(platform: str) -> None:
    assert problems_of(varied(platform=platform)) == []


@pytest.mark.parametrize("platform", WINDOWS_PLATFORMS)
def test_every_windows_platform_needs_windows_and_a_licence(platform: str) -> None:
    assert problems_of(varied(**{**WIN, "platform": platform})) == []
    assert [p.split(": ")[0] for p in problems_of(varied(platform=platform))] == ["platform"]


def test_whole_floats_become_ints() -> None:
    manifest = parse_manifest(json.dumps(varied(system_disk_gib=20.0, schema_version=1.0,
                                                data_disks=[{"object": "d", "size_gib": 3.0}])))
    assert manifest.system_disk_gib == 20 and type(manifest.system_disk_gib) is int
    assert manifest.data_disks[0].size_gib == 3 and type(manifest.data_disks[0].size_gib) is int
    assert manifest.schema_version == 1
    assert parse_manifest(with_raw('"system_disk_gib": 2e3')).system_disk_gib == 2000


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("gib 20.5", {"system_disk_gib": 20.5}, "system_disk_gib", "got the number 20.5; write a "
     "whole number, e.g. 21"),
    ("gib quoted", {"system_disk_gib": "40"}, "system_disk_gib", "write the number without quotes"),
    ("gib 0.0", {"system_disk_gib": 0.0}, "system_disk_gib", "0.0 GiB is out of range"),
    ("gib 1e300", {"system_disk_gib": 1e300}, "system_disk_gib", "GiB is out of range"),
    ("gib huge int", {"system_disk_gib": 10**40}, "system_disk_gib",
     "a number of 41 digits GiB is out of range"),
    ("data disk 2.5", {"data_disks": [{"object": "d", "size_gib": 2.5}]}, "data_disks[0].size_gib",
     "e.g. 3"),
    ("data disk size true", {"data_disks": [{"object": "d", "size_gib": True}]},
     "data_disks[0].size_gib", "got true"),
    ("schema_version true", {"schema_version": True}, "schema_version", "write 1"),
    ("schema_version 1.5", {"schema_version": 1.5}, "schema_version", "write 1"),
    ("account true", {"share_with_accounts": [True]}, "share_with_accounts[0]", "got true"),
    ("account fraction", {"share_with_accounts": [1.5]}, "share_with_accounts[0]", "in quotes"),
    ("account beyond float precision", {"share_with_accounts": [1e17]}, "share_with_accounts[0]",
     "in quotes"),
    ("account int and float twice", {"share_with_accounts": [7, 7.0]}, "share_with_accounts[1]",
     "listed twice"),
    ("name null", {"image_name": None}, "image_name", "got null; write it in quotes"),
    ("name 129 cjk", {"image_name": "漢" * 129}, "image_name", "2 to 128"),
    ("name 1 cjk", {"image_name": "漢"}, "image_name", "2 to 128"),
    ("name hangul first", {"image_name": "한국"}, "image_name", "start with an ASCII letter"),
    ("name fullwidth latin", {"image_name": "ｗｅｂ"}, "image_name", "start with an ASCII letter"),
    ("name ideographic space", {"image_name": "画像\u30001"}, "image_name", "position 3"),
    ("name tab", {"image_name": "web\t1"}, "image_name", "'\\t' at position 4"),
    ("name AcS: mixed case", {"image_name": "AcS:web"}, "image_name", "'AcS:'"),
    ("family with space", {"image_family": "web family"}, "image_family", "' ' at position 4"),
    ("family with slash", {"image_family": "web/prod"}, "image_family", "'/' at position 4"),
    ("family ideographic space", {"image_family": "家族\u3000x"}, "image_family", "position 3"),
    ("family aliyun any case", {"image_family": "AliYun-x"}, "image_family", "'AliYun'"),
    ("family https", {"image_family": "https://x"}, "image_family", "'https://'"),
    ("family empty", {"image_family": ""}, "image_family", "2 to 128"),
    ("tag value acs: any case", {"tags": {"k": "ACS:x"}}, "tags.k",
     "tag value must not start with 'ACS:' (reserved by Alibaba Cloud); change it"),
    ("tag key aliyun exact", {"tags": {"aliyun": "v"}}, "tags.aliyun", "rename it"),
    ("tag value HTTPS inside", {"tags": {"k": "docs at HTTPS://x"}}, "tags.k", "URL"),
    ("tag value null", {"tags": {"k": None}}, "tags.k", "must be text, got null"),
    ("tag value true", {"tags": {"k": True}}, "tags.k", "must be text, got true"),
    ("tags as a list of pairs", {"tags": [["k", "v"]]}, "tags", 'e.g. {"team": "web"}'),
    ("description Https mixed case", {"description": "Https://x.example"}, "description",
     "must not start with http"),
    ("description empty", {"description": ""}, "description", "or remove description"),
    ("platform Windows Server 2025", {**WIN, "platform": "Windows Server 2025"}, "platform",
     "did you mean Other Windows?"),
    ("platform Windows 10", {**WIN, "platform": "Windows 10"}, "platform",
     "did you mean Other Windows?"),
    ("platform 2012 R2", {**WIN, "platform": "Windows Server 2012 R2"}, "platform",
     "did you mean Windows Server 2012?"),
    ("platform RHEL 9", {"platform": "RHEL 9"}, "platform", "did you mean RedHat?"),
    ("platform Red Hat Enterprise Linux 9", {"platform": "Red Hat Enterprise Linux 9"}, "platform",
     "did you mean RedHat?"),
    ("platform Alibaba Cloud Linux 3", {"platform": "Alibaba Cloud Linux 3"}, "platform",
     "did you mean Aliyun?"),
    ("platform CentOS Stream 9", {"platform": "CentOS Stream 9"}, "platform",
     "did you mean CentOS Stream?"),
    ("platform Rocky", {"platform": "rocky 9.3"}, "platform", "did you mean Rocky Linux?"),
    ("platform double space", {"platform": "Rocky  Linux"}, "platform",
     "did you mean Rocky Linux?"),
    ("platform unknown", {"platform": "Haiku"}, "platform", "use 'Others Linux'"),
    ("os_type null", {"os_type": None}, "os_type", "got null; write one of them in quotes"),
    ("architecture no hint", {"architecture": "sparc"}, "architecture", "; use one of them"),
    ("semicolon in a value is escaped", {"architecture": "x; y"}, "architecture", "'x;\\x20y'"),
    ("long value is cut short", {"region": "x" * 5000}, "region", "…' is not a region id"),
    ("region upper", {"region": "CN-HANGZHOU"}, "region", "region id"),
    ("regions null item", {"copy_to_regions": [None]}, "copy_to_regions[0]", "got null"),
    ("regions as text", {"copy_to_regions": "cn-beijing"}, "copy_to_regions",
     '["ap-northeast-1"]'),
    ("accounts as object", {"share_with_accounts": {"a": 1}}, "share_with_accounts",
     '["1234567890123456"]'),
    ("data disks as object", {"data_disks": {"object": "d"}}, "data_disks", '[{"object": '),
    ("data disk as text", {"data_disks": ["d.raw"]}, "data_disks[0]", '{"object": "data.raw"}'),
    ("data disk key number", {"data_disks": [{"object": 7}]}, "data_disks[0].object",
     "write it in quotes"),
    ("data disk key ..\\", {"data_disks": [{"object": "..\\x"}]}, "data_disks[0].object", "'\\'"),
    ("data disk key https upper", {"data_disks": [{"object": "HTTPS://h/k"}]},
     "data_disks[0].object", "URL"),
    ("data disk key double slash", {"data_disks": [{"object": "a//b"}]}, "data_disks[0].object",
     "'a/b'"),
    ("data disk key DEL char", {"data_disks": [{"object": "a\x7fb"}]}, "data_disks[0].object",
     "control character"),
    ("data disk key too long", {"data_disks": [{"object": "d" * 1001}]}, "data_disks[0].object",
     "shorten it"),
    ("format vpc (qemu-img's VHD)", {"format": "vpc"}, "format", "did you mean vhd?"),
    ("format img", {"data_disks": [{"object": "d", "format": "IMG"}]}, "data_disks[0].format",
     "did you mean raw?"),
    ("boot mode lower", {"boot_mode": "uefi"}, "boot_mode", "did you mean UEFI?"),
    ("arm64 BIOS lower", {"architecture": "arm64", "boot_mode": "bios"}, "boot_mode",
     "did you mean BIOS?"),
    ("image_check null text", {"image_check": "null"}, "image_check", "without quotes"),
    ("image_check 0", {"image_check": 0}, "image_check", "write true or false"),
    ("nvme true", {"nvme_support": True}, "nvme_support", "write one of them in quotes"),
    ("imds upper", {"imds_support": "V2"}, "imds_support", "did you mean v2?"),
    ("license lower on windows", {**WIN, "license_type": "auto"}, "license_type",
     "did you mean Auto?"),
    # Unknown fields: the wire names and short forms people write get a did-you-mean.
    ("wire DiskDeviceMapping", {"DiskDeviceMapping": []}, "DiskDeviceMapping",
     "did you mean data_disks?"),
    ("short arch", {"arch": "x86_64"}, "arch", "did you mean architecture?"),
    ("wire Tag", {"Tag": {}}, "Tag", "did you mean tags?"),
    ("wire DetectionStrategy", {"DetectionStrategy": "Standard"}, "DetectionStrategy",
     "did you mean image_check?"),
    ("data disk oss_object", {"data_disks": [{"object": "d", "oss_object": "d"}]},
     "data_disks[0].oss_object", "did you mean object?"),
    ("data disk DiskImageSize", {"data_disks": [{"object": "d", "DiskImageSize": 3}]},
     "data_disks[0].DiskImageSize", "did you mean size_gib?"),
    # Keys that are not words are quoted, whitespace escaped: the field stays one token.
    ("empty key", {"": 1}, '[""]', "unknown field"),
    ("key with a space", {"boot mode": "UEFI"}, '["boot\\u0020mode"]', "did you mean boot_mode?"),
    ("key with newline", {"a\nb": 1}, '["a\\nb"]', "unknown field"),
    ("key with ': '", {"x: y": 1}, '["x:\\u0020y"]', "unknown field"),
    ("tag key with ': '", {"tags": {"a: b": "acs:x"}}, 'tags["a:\\u0020b"]', "'acs:'"),
    ("tag key with tab", {"tags": {"a\tb": "https://x"}}, 'tags["a\\tb"]', "URL"),
]


@pytest.mark.parametrize("patch,path,fragment", [c[1:] for c in INVALID],
                         ids=[c[0] for c in INVALID])
def test_each_unseen_broken_rule_is_one_well_formed_line(patch: dict[str, Any], path: str,
                                                         fragment: str) -> None:
    problems = problems_of(varied(**patch))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: "), problems
    assert fragment in problems[0], problems
    assert_well_formed(problems[0])


@pytest.mark.parametrize("raw,path", [
    (with_raw('"description": "ab\\ud800"'), "description"),
    (with_raw('"image_family": "\\udc00ab"'), "image_family"),
    (with_raw('"tags": {"k": "\\ud83d"}'), "tags.k"),
    (with_raw('"tags": {"\\ud83d": "v"}'), 'tags["\\ud83d"]'),
    (with_raw('"data_disks": [{"object": "a\\udfff.raw"}]'), "data_disks[0].object"),
    (with_raw('"\\ud800": 1'), '["\\ud800"]'),
])
def test_a_lone_surrogate_is_refused_where_it_is(raw: str, path: str) -> None:
    # A `\ud800` escape decodes to text that cannot be written as UTF-8: it must not pass.
    for given_as in (raw, raw.encode()):
        problems = manifest_problems(given_as)
        assert len(problems) == 1, problems
        assert problems[0].startswith(f"{path}: holds "), problems
        assert "surrogate" in problems[0]
        assert_well_formed(problems[0])


def test_a_proper_surrogate_pair_is_one_character() -> None:
    manifest = parse_manifest(with_raw('"description": "emoji \\ud83d\\ude00"'))
    assert manifest.description == "emoji \U0001F600"


@pytest.mark.parametrize("raw,fragment", [
    (with_raw('"system_disk_gib": ' + "9" * 5000), "a number of 5000 digits"),
    (with_raw('"system_disk_gib": -' + "9" * 1500), "a number of 1500 digits"),
    (with_raw('"system_disk_gib": Infinity'), "Infinity is not a JSON number"),
    (with_raw('"system_disk_gib": -Infinity'), "-Infinity is not a JSON number"),
    ('{"a": 1,}', "not valid JSON"),
    ("// comment\n{}", "not valid JSON"),
    ("{'image_name': 'ab'}", "not valid JSON"),
    (json.dumps(BASE).encode("utf-16"), "not UTF-8"),
    (json.dumps(BASE).encode("utf-32"), "not UTF-8"),
    ("true", "not true"),
    ("1.5", "not the number 1.5"),
])
def test_more_files_that_are_not_a_manifest(raw: str | bytes, fragment: str) -> None:
    problems = manifest_problems(raw)
    assert len(problems) == 1, problems
    assert fragment in problems[0]
    assert "set_int_max_str_digits" not in problems[0]


def test_a_key_twice_inside_a_data_disk_is_named() -> None:
    raw = with_raw('"data_disks": [{"object": "a.raw", "object": "b.raw"}]')
    problems = manifest_problems(raw)
    assert len(problems) == 1
    assert problems[0].startswith("data_disks[0].object: appears more than once")


# Documents the schema can judge on its own; the model must give the same verdict.
AGREEMENT: list[tuple[str, dict[str, Any]]] = [
    ("gib 20.0", {"system_disk_gib": 20.0}),
    ("gib 20.5", {"system_disk_gib": 20.5}),
    ("data disk 3.0", {"data_disks": [{"object": "d", "size_gib": 3.0}]}),
    ("schema_version 1.0", {"schema_version": 1.0}),
    ("schema_version true", {"schema_version": True}),
    ("family space", {"image_family": "web family"}),
    ("family dot", {"image_family": "web.prod"}),
    ("family cjk first", {"image_family": "家族"}),
    ("family digit first", {"image_family": "1web"}),
    ("tag value aliyun", {"tags": {"os": "Aliyun"}}),
    ("tag value acs", {"tags": {"os": "acs:x"}}),
    ("tag value ACS upper", {"tags": {"os": "ACS:x"}}),
    ("tag key aliyun", {"tags": {"Aliyun-x": "v"}}),
    ("account whole float", {"share_with_accounts": [12.0]}),
    ("name 128 cjk", {"image_name": "漢" * 128}),
    ("name 129 cjk", {"image_name": "漢" * 129}),
]


@pytest.mark.parametrize("patch", [a[1] for a in AGREEMENT], ids=[a[0] for a in AGREEMENT])
def test_schema_and_model_agree_on_the_unseen(patch: dict[str, Any]) -> None:
    doc = varied(**patch)
    schema_ok = not list(Draft202012Validator(manifest_json_schema()).iter_errors(doc))
    assert schema_ok == (problems_of(doc) == []), problems_of(doc)


# ---- random input: a manifest or well-formed lines, never an exception ------------------------

any_character = st.characters(codec=None, exclude_categories=())  # surrogates included
weird_text = st.text(any_character, max_size=12) | st.sampled_from(
    ["", " ", "a: b", "x; y", "\ud800", "aliyun", "ACS:", "https://x", "..", "/", "漢字", "20"])
numbers = (st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from([0, 1, 2048, 2049, 20.0, 20.5, 1e300]))
json_values = st.recursive(
    st.none() | st.booleans() | numbers | weird_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(weird_text, inner, max_size=4),
    max_leaves=16,
)
field_names = st.sampled_from(sorted(Manifest.model_fields) + ["$schema", "boot mode", ""])
disk_items = st.fixed_dictionaries({}, optional={"object": json_values, "size_gib": json_values,
                                                 "format": json_values, "key": json_values})


def _check_lines(problems: list[str]) -> None:
    for line in problems:
        assert line and "\n" not in line
        line.encode("utf-8")
        field = line.partition(": ")[0]
        if not field.startswith("the manifest"):
            assert_well_formed(line)


@settings(max_examples=300, deadline=None)
@given(patch=st.dictionaries(field_names, json_values, max_size=6),
       disks=st.none() | st.lists(disk_items, max_size=3))
def test_any_json_with_odd_text_and_numbers_gives_a_manifest_or_well_formed_lines(
        patch: dict[str, Any], disks: list[dict[str, Any]] | None) -> None:
    doc = {**BASE, **patch}
    if disks is not None:
        doc["data_disks"] = disks
    raw = json.dumps(doc)  # ASCII: lone surrogates travel as \ud800 escapes, as in a real file
    manifest, problems = check_manifest(raw.encode())
    assert (manifest is None) == bool(problems)
    _check_lines([str(p) for p in problems])
    if manifest is not None:
        assert parse_manifest(json.dumps(manifest.to_json_dict())) == manifest


@settings(max_examples=60, deadline=None)
@given(doc=st.dictionaries(weird_text, json_values, max_size=5))
def test_validate_never_shows_a_traceback(tmp_path_factory: pytest.TempPathFactory,
                                          doc: dict[str, Any]) -> None:
    path = tmp_path_factory.mktemp("m") / "m.json"
    path.write_text(json.dumps({**BASE, **doc}))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.output
    assert (result.exit_code == 0) == (result.stderr == "")
    _check_lines(result.stderr.splitlines())


def test_validate_prints_escaped_lines_for_surrogates_and_odd_keys(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(with_raw('"description": "ab\\ud800", "x y": 1'))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "description: holds '\\ud800', half of a UTF-16 surrogate pair and not a character; "
        "fix that \\u escape or save the file as UTF-8"]
