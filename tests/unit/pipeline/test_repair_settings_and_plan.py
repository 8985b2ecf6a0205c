"""The repair's deployment settings (checked at start, naming the variable) and the ingest's
refusal of a manifest that asks for a repair where the deployment forbids it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_plan import BASE, KEY, inspection, problems, request
from test_settings_and_credentials import MINIMAL

from imagedrop.config import load_settings
from imagedrop.errors import ConfigError
from imagedrop.manifest import parse_manifest
from imagedrop.decide.plan import DiskFacts, plan_import, wanted_disks


def test_repair_is_off_unless_the_deployment_says_otherwise() -> None:
    s = load_settings(MINIMAL)
    assert (s.repair, s.repair_instance_type, s.repair_vswitch_id) == ("off", None, None)
    s = load_settings({**MINIMAL, "IMAGEDROP_REPAIR": "Auto", "IMAGEDROP_REPAIR_INSTANCE_TYPE":
                       "ecs.g6.large", "IMAGEDROP_REPAIR_VSWITCH_ID": "vsw-bp1abc"})
    assert (s.repair, s.repair_instance_type, s.repair_vswitch_id) == ("auto", "ecs.g6.large",
                                                                       "vsw-bp1abc")


@pytest.mark.parametrize("variable, value", [("IMAGEDROP_REPAIR", "yes"),
                                             ("IMAGEDROP_REPAIR_INSTANCE_TYPE", "g6.large"),
                                             ("IMAGEDROP_REPAIR_VSWITCH_ID", "vpc-1")])
def test_bad_repair_settings_fail_at_start_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({**MINIMAL, variable: value})
    assert f"{variable}:" in str(err.value)


def _plan(manifest: dict[str, Any], policy: str):  # type: ignore[no-untyped-def]
    m = parse_manifest(json.dumps({**BASE, **manifest}))
    disks = [DiskFacts(key=w.key, role=w.role, size=2 << 30, etag="E", inspection=inspection(),
                       wanted_format=w.format, wanted_gib=w.size_gib, field=w.field)
             for w in wanted_disks(m, KEY)]
    return plan_import(m, manifest_key=KEY, bucket="bkt", bucket_region="cn-hangzhou",
                       function_region="cn-hangzhou", disks=disks, import_role="R",
                       client_token="t", repair_policy=policy)


@pytest.mark.parametrize("repair", ["auto", ["fstab"]])
def test_a_forbidding_deployment_rejects_a_manifest_that_asks(repair: Any) -> None:
    text = problems(_plan({"repair": repair}, "forbid"))
    assert text.startswith("repair: asks for") and "IMAGEDROP_REPAIR=forbid" in text
    assert 'set it to "off"' in text


@pytest.mark.parametrize("manifest, policy", [({}, "forbid"), ({"repair": "off"}, "forbid"),
                                              ({"repair": "auto"}, "auto"), ({"repair": "auto"},
                                                                             "off")])
def test_otherwise_the_import_goes_ahead(manifest: dict[str, Any], policy: str) -> None:
    assert request(_plan(manifest, policy))["ImageName"] == "web-1"
