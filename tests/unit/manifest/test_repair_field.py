"""The manifest's `repair` and `keep_unrepaired`: the values allowed, one clear answer for the
others, the OS's own item list, and the JSON Schema agreeing with the model."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from imagedrop.manifest import Manifest, manifest_json_schema
from manifest_helpers import problems_of, varied

WINDOWS = {"os_type": "windows", "platform": "Windows Server 2019", "license_type": "BYOL"}


@pytest.mark.parametrize("patch", [
    {"repair": "off"}, {"repair": "auto"}, {"repair": ["fstab", "cloudinit"]},
    {"repair": None}, {"keep_unrepaired": True},
    {**WINDOWS, "repair": ["bcd", "virtio", "vminit"]},
], ids=str)
def test_accepted(patch: dict[str, Any]) -> None:
    doc = varied(**patch)
    assert problems_of(doc) == []
    assert not list(Draft202012Validator(manifest_json_schema()).iter_errors(doc))


@pytest.mark.parametrize("patch, words", [
    ({"repair": "yes"}, "repair: 'yes' is not one of off, auto"),
    ({"repair": "Auto"}, "did you mean"),
    ({"repair": []}, "repair: an empty list repairs nothing"),
    ({"repair": ["fstab", "fstab"]}, "repair[1]: 'fstab' is listed twice"),
    ({"repair": ["teleport"]}, "repair[0]: 'teleport' is not one of"),
    ({"repair": True}, "repair: expected \"off\", \"auto\" or a list of repair items, got"),
    ({"repair": ["bcd"]}, "repair[0]: 'bcd' is not a linux repair item; use fstab"),
    ({**WINDOWS, "repair": ["cloudinit"]}, "repair[0]: 'cloudinit' is not a windows repair item"),
    ({"keep_unrepaired": "yes"}, "keep_unrepaired: expected true or false"),
], ids=str)
def test_refused_with_the_field_the_rule_and_the_fix(patch: dict[str, Any], words: str) -> None:
    doc = varied(**patch)
    problems = problems_of(doc)
    assert any(words in p for p in problems), problems
    assert list(Draft202012Validator(manifest_json_schema()).iter_errors(doc))


def test_defaults_leave_the_choice_to_the_deployment() -> None:
    manifest = Manifest.model_validate(varied())
    assert manifest.repair is None and manifest.keep_unrepaired is False
    assert "repair" not in manifest.to_json_dict()
