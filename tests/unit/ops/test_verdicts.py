"""Pure decisions of the operator commands: exit codes and the doctor's verdicts."""

from __future__ import annotations

import json

import pytest

from imagedrop_cli.ops.doctor_checks import (bucket_region_check, prefixes_check, role_check,
                                         trigger_check)
from imagedrop_cli.ops.exit_codes import exit_code_for_state
from imagedrop_cli.ops.imports import age_of, manifest_key_of


@pytest.mark.parametrize("state, code", [("succeeded", 0), ("failed", 1), ("cancelled", 1),
                                         ("rejected", 2), ("importing", 4), (None, 4)])
def test_only_succeeded_exits_zero(state: str | None, code: int) -> None:
    assert exit_code_for_state(state) == code


@pytest.mark.parametrize("watch, state, ok", [("incoming/", "imagedrop/", True),
                                              ("incoming/", "incoming/state/", False),
                                              ("", "imagedrop/", False),
                                              ("data/in/", "data/", False)])
def test_prefix_overlap(watch: str, state: str, ok: bool) -> None:
    check = prefixes_check(watch, state)
    assert check.ok is ok
    assert (check.fix == "") is ok


def test_bucket_in_another_region_says_where_to_deploy() -> None:
    check = bucket_region_check("b", "cn-shanghai", "cn-hangzhou")
    assert not check.ok
    assert "cn-shanghai" in check.detail and "deploy imagedrop to cn-shanghai" in check.fix


@pytest.mark.parametrize("code, ok", [("DryRunOperation", True), ("DRYRUN.SUCCESS", True),
                                      ("NoSetRoletoECSServiceAcount", False), ("Forbidden.RAM", False),
                                      ("InvalidOSSObject.NotFound", True)])
def test_role_verdict_from_a_dry_run(code: str, ok: bool) -> None:
    check = role_check(code, "message")
    assert check.ok is ok
    if code == "NoSetRoletoECSServiceAcount":
        assert "AliyunECSImageImportDefaultRole" in check.fix and "AliyunECSImageImportRolePolicy" in check.fix


def test_trigger_verdicts() -> None:
    oss = {"triggerName": "t", "triggerType": "oss",
           "triggerConfig": json.dumps({"filter": {"key": {"prefix": "incoming/"}}})}
    assert trigger_check("ingest", [oss], want_type="oss", watch_prefix="incoming/").ok
    wrong = trigger_check("ingest", [oss], want_type="oss", watch_prefix="drop/")
    assert not wrong.ok and "'incoming/'" in wrong.detail
    missing = trigger_check("poller", [oss], want_type="mns")
    assert not missing.ok and "found: oss" in missing.detail and "s deploy" in missing.fix
    assert trigger_check("poller", [{"triggerName": "q", "triggerType": "eventbridge"}], want_type="mns").ok


def test_names_and_ages() -> None:
    assert manifest_key_of("incoming/web.qcow2") == "incoming/web.qcow2.json"
    assert manifest_key_of("incoming/web.qcow2.json") == "incoming/web.qcow2.json"
    assert manifest_key_of("incoming/web.qcow2.json.cancel") == "incoming/web.qcow2.json"
    stamp = "2027-01-15T08:00:00Z"
    then = 1_800_000_000.0  # that moment in epoch seconds
    assert age_of(stamp, then + 59) == "59s"
    assert age_of(stamp, then + 7300) == "2h"
    assert age_of(stamp, then + 3 * 86400 + 5) == "3d"
    assert age_of("garbage", then) == "?"
