"""ECS refuses a stale `x-acs-date` (400 InvalidTimeStamp.Expired) and a nonce it has seen
(400 SignatureNonceUsed), as the cloud does, checked against the real clock. The real
alibabacloud-ecs20140526 client, its clock or its nonce source pinned, through both doors."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils import Utils

from imagedrop_emulator import FakeCloud

REGIONS = m.DescribeRegionsRequest()


@pytest.mark.parametrize("stamp, code, named", [
    pytest.param("2020-09-13T12:26:40Z", "InvalidTimeStamp.Expired", "2020-09-13T12:26:40Z",
                 id="stale-is-expired"),
    pytest.param("29/11/2026 19:00", "InvalidTimeStamp.Format", "'29/11/2026 19:00'",
                 id="malformed-is-named"),
])
def test_a_bad_x_acs_date_is_refused_and_the_next_good_one_is_not(
        any_ecs: Client, monkeypatch: pytest.MonkeyPatch, stamp: str, code: str,
        named: str) -> None:
    monkeypatch.setattr(Utils, "get_timestamp", staticmethod(lambda: stamp))
    with pytest.raises(ClientException) as err:
        any_ecs.describe_regions(REGIONS)
    assert (err.value.status_code, err.value.code) == (400, code)
    assert named in err.value.message
    monkeypatch.undo()
    assert any_ecs.describe_regions(REGIONS).body.regions.region


def test_the_same_nonce_twice_is_refused(any_ecs: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Utils, "get_nonce",
                        staticmethod(lambda: "0f1e2d3c4b5a69788796a5b4c3d2e1f0"))
    assert any_ecs.describe_regions(REGIONS).body.regions.region
    with pytest.raises(ClientException) as err:
        any_ecs.describe_regions(REGIONS)
    assert (err.value.status_code, err.value.code) == (400, "SignatureNonceUsed")
    assert "0f1e2d3c4b5a69788796a5b4c3d2e1f0" in err.value.message


def test_a_replayed_import_is_not_carried_out_twice(ecs: Client, mocked: FakeCloud,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A captured ImportImage sent again (same date, same nonce, same signature) is refused."""
    from ecs_helpers import import_request

    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: "replayed-nonce-1"))
    first = ecs.import_image(import_request(name="replay-1")).body
    with pytest.raises(ClientException) as err:
        ecs.import_image(import_request(name="replay-2"))
    assert err.value.code == "SignatureNonceUsed"
    tasks = mocked.ecs.find_tasks("cn-hangzhou", [], "", "", [])
    assert [t.task_id for t in tasks] == [first.task_id]


def test_the_emulated_clock_running_ahead_changes_nothing(any_ecs: Client,
                                                         cloud: FakeCloud) -> None:
    cloud.clock.advance(365 * 24 * 3600)
    assert any_ecs.describe_regions(REGIONS).body.regions.region
