"""The file as a whole: empty, not JSON, not an object, not UTF-8, duplicated keys, too big; and
the shape of every problem line (never pydantic's own wording)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagedrop.errors import ManifestError
from imagedrop.manifest import (MAX_MANIFEST_BYTES, Manifest, ManifestProblem, check_manifest,
                                manifest_problems, parse_manifest)
from manifest_helpers import BASE, problems_of, varied


@pytest.mark.parametrize("raw,fragment", [
    (b"", "the manifest is empty"),
    (b" \n\t ", "the manifest is empty"),
    ("", "the manifest is empty"),
    (b'{"image_name": "ab",\n  "os_type" "linux"}', "not valid JSON: Expecting ':' delimiter at line 2, column 13"),
    (b"{", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object {…}, not a list"),
    (b'"text"', "must be a JSON object {…}, not the text 'text'"),
    (b"42", "not the number 42"),
    (b"null", "not null"),
    (b"\xff\xfe\x00", "not UTF-8 text (byte 0xff at offset 0)"),
    (b'{"system_disk_gib": NaN}', "NaN is not a JSON number"),
    (b"[" * 100_000, "nested too deeply"),
    (b" " * (MAX_MANIFEST_BYTES + 1), f"larger than {MAX_MANIFEST_BYTES} bytes"),
])
def test_a_file_that_is_not_a_manifest_object_gives_one_line(raw: bytes | str, fragment: str) -> None:
    problems = manifest_problems(raw)
    assert len(problems) == 1, problems
    assert fragment in problems[0]


def test_utf8_bom_and_text_input_are_accepted() -> None:
    text = json.dumps(BASE)
    assert manifest_problems(b"\xef\xbb\xbf" + text.encode()) == []
    assert manifest_problems(text) == []
    assert manifest_problems("\ufeff" + text) == []


def test_a_key_given_twice_is_reported_at_any_depth() -> None:
    raw = ('{"image_name": "ab", "image_name": "web", "os_type": "linux", "platform": "Ubuntu",'
           ' "architecture": "x86_64", "tags": {"team": "a", "team": "b"}}')
    problems = manifest_problems(raw)
    assert [p.split(":")[0] for p in problems] == ["image_name", "tags.team"]
    assert all("appears more than once" in p for p in problems)


def test_parse_manifest_raises_manifest_error_carrying_every_line() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(json.dumps(varied(architecture="amd64", boot_mod="UEFI")))
    assert caught.value.problems == [
        "architecture: 'amd64' is not one of x86_64, i386, arm64; did you mean x86_64?",
        "boot_mod: unknown field; did you mean boot_mode?",
    ]


def test_check_manifest_returns_structured_problems() -> None:
    manifest, problems = check_manifest(json.dumps(varied(data_disks=[{"object": "../x"}])))
    assert manifest is None
    assert problems[0].path == "data_disks[0].object"
    assert isinstance(problems[0], ManifestProblem)
    assert str(problems[0]).startswith("data_disks[0].object: ")


def test_problem_lines_never_leak_pydantic_wording() -> None:
    doc = varied(image_name=5, os_type=None, platform=[], architecture={}, tags="x",
                 data_disks=[1, {"object": 2, "size_gib": "x", "format": 3}],
                 image_check=None, nvme_support=1, region=7, share_with_accounts={})
    for line in problems_of(doc):
        assert "pydantic" not in line and "errors.pydantic.dev" not in line
        assert "Value error" not in line and "Input should" not in line
        assert ": " in line and line.split(": ")[0].replace("_", "").replace(".", "")


def test_valid_manifest_round_trips_through_its_json() -> None:
    doc = varied(image_name="画像-2026.11", format="QCOW2", tags={"team": "web"},
                 data_disks=[{"object": "d.raw", "size_gib": 10}], share_with_accounts=[7],
                 copy_to_regions=["ap-northeast-1"], boot_mode="UEFI")
    manifest = parse_manifest(json.dumps(doc))
    again = parse_manifest(json.dumps(manifest.to_json_dict()))
    assert again == manifest
    assert again.to_json_dict()["format"] == "qcow2"


def test_the_model_enforces_cross_field_rules_when_built_directly() -> None:
    with pytest.raises(ValueError):
        Manifest.model_validate({**BASE, "os_type": "windows", "platform": "Other Windows"})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
field_names = st.sampled_from(sorted(Manifest.model_fields) + ["boot_mod", "$schema"])


@settings(max_examples=300, deadline=None)
@given(patch=st.dictionaries(field_names, json_values, max_size=6))
def test_any_json_gives_a_manifest_or_problem_lines_never_an_exception(patch: dict) -> None:
    manifest, problems = check_manifest(json.dumps({**BASE, **patch}))
    assert (manifest is None) == bool(problems)
    for problem in problems:
        assert str(problem) and "\n" not in str(problem)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200))
def test_any_bytes_give_problem_lines_never_an_exception(raw: bytes) -> None:
    problems = manifest_problems(raw)
    assert all(isinstance(p, str) and p for p in problems)
