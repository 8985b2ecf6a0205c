"""Pure pieces: parameter flattening, booleans, name rules, and the ACS3 canonical query."""

from __future__ import annotations

import pytest

from imagedrop_emulator import ServiceError
from imagedrop_emulator import acs_auth
from imagedrop_emulator.ecs.backend import params, rules


def test_indexed_parameters_come_back_as_structures() -> None:
    query = {"DiskDeviceMapping.2.OSSObject": "b", "DiskDeviceMapping.1.OSSObject": "a",
             "DiskDeviceMapping.1.OSSBucket": "x", "AddAccount.2": "22", "AddAccount.1": "11",
             "Tag.1.Key": "k"}
    assert params.indexed(query, "DiskDeviceMapping") == {1: {"OSSObject": "a", "OSSBucket": "x"},
                                                          2: {"OSSObject": "b"}}
    assert list(params.indexed_values(query, "AddAccount").values()) == ["11", "22"]


@pytest.mark.parametrize("raw, value", [("True", True), ("false", False), ("TRUE", True), (None, False)])
def test_booleans_as_the_sdk_and_people_send_them(raw: str | None, value: bool) -> None:
    assert params.boolean({} if raw is None else {"DryRun": raw}, "DryRun") is value


def test_a_boolean_that_is_not_one_names_the_field() -> None:
    with pytest.raises(ServiceError, match="DryRun"):
        params.boolean({"DryRun": "yes"}, "DryRun")


@pytest.mark.parametrize("name, ok", [("web-2026.11", True), ("中文镜像", True), ("a:b_c", True),
                                      ("w", False), ("9lives", False), ("acs:img", False),
                                      ("Aliyun-x", False), ("x" * 129, False), ("a/b", False)])
def test_image_name_rules(name: str, ok: bool) -> None:
    if ok:
        rules.check_name(name)
    else:
        with pytest.raises(ServiceError) as err:
            rules.check_name(name)
        assert err.value.code == "InvalidImageName.Malformed"


def test_canonical_query_requotes_form_spaces_as_percent_20() -> None:
    # The URL carries `+` for a space and %2B for a plus; the signature sees %20 and %2B.
    assert acs_auth.canonical_query("b=a+b%2Bc&a=d%2Fe") == "a=d%2Fe&b=a%20b%2Bc"
