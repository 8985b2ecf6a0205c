"""OSS refuses a request whose own time is more than 15 minutes from the real clock, as the cloud
does (403 RequestTimeTooSkewed), whatever the emulated clock says. Real oss2 clients with a
clock set back to 2020, V1 and V4, through both doors."""

from __future__ import annotations

from datetime import datetime

import oss2
import pytest
from oss_helpers import MakeBucket

from imagedrop_emulator import FakeCloud

STALE = 1_600_000_000  # 2020-09-13T12:26:40Z


class _Stale2020(datetime):
    @classmethod
    def utcnow(cls) -> "datetime":  # type: ignore[override]
        return datetime(2020, 9, 13, 12, 26, 40)


def _stale_http_date(timeval: float | None = None) -> str:
    return oss2.utils.formatdate(STALE, usegmt=True)


def test_a_v1_date_from_2020_is_too_skewed(make_bucket: MakeBucket,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = make_bucket()
    bucket.put_object("fresh.txt", b"signed now")
    monkeypatch.setattr(oss2.utils, "http_date", _stale_http_date)
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.put_object("stale.txt", b"signed in 2020")
    assert (err.value.status, err.value.code) == (403, "RequestTimeTooSkewed")
    assert err.value.details["MaxAllowedSkewMilliseconds"] == "900000"
    assert err.value.details["RequestTime"] == "Sun, 13 Sep 2020 12:26:40 GMT"
    monkeypatch.undo()
    assert not bucket.object_exists("stale.txt")
    assert bucket.get_object("fresh.txt").read() == b"signed now"


def test_a_v4_x_oss_date_from_2020_is_too_skewed(make_bucket: MakeBucket,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = make_bucket("v4")
    bucket.put_object("fresh.txt", b"signed now")
    monkeypatch.setattr(oss2.auth, "datetime", _Stale2020)
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.get_object("fresh.txt")
    assert (err.value.status, err.value.code) == (403, "RequestTimeTooSkewed")
    assert err.value.details["RequestTime"] == "20200913T122640Z"


def test_the_emulated_clock_running_ahead_changes_nothing(make_bucket: MakeBucket,
                                                         cloud: FakeCloud) -> None:
    cloud.clock.advance(30 * 24 * 3600)  # a month of emulated time: the real clock decides
    bucket = make_bucket()
    bucket.put_object("a.txt", b"x")
    assert bucket.get_object("a.txt").read() == b"x"


def test_a_wrong_signature_is_named_before_the_date(make_bucket: MakeBucket,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oss2.utils, "http_date", _stale_http_date)
    with pytest.raises(oss2.exceptions.ServerError) as err:
        make_bucket(secret="not-the-secret").put_object("x.txt", b"x")
    assert err.value.code == "SignatureDoesNotMatch"


def test_a_date_that_is_no_date_is_refused_naming_the_header(make_bucket: MakeBucket,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oss2.utils, "http_date", lambda timeval=None: "yesterday")
    with pytest.raises(oss2.exceptions.ServerError) as err:
        make_bucket().put_object("x.txt", b"x")
    assert (err.value.status, err.value.code) == (403, "AccessDenied")
    assert "Date header 'yesterday' is not a date" in err.value.message
