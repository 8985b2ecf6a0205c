"""oss2's exceptions → the error tree, the one translation the pipeline and the CLI share."""

from __future__ import annotations

import oss2
import pytest

from imagedrop.cloud.oss_errors import translate_oss_error
from imagedrop.errors import PermanentCloudError, RetryableCloudError


def answer(status: int, code: str, message: str = "") -> oss2.exceptions.ServerError:
    return oss2.exceptions.ServerError(status, {"x-oss-request-id": "R1"}, b"",
                                       {"Code": code, "Message": message})


@pytest.mark.parametrize("status, code", [(503, "ServiceUnavailable"), (500, "InternalError"),
                                          (429, "TooManyRequests"), (403, "SlowDown")])
def test_throttling_and_server_faults_are_retryable(status: int, code: str) -> None:
    err = translate_oss_error(answer(status, code, "try later"), "GET oss://b/k")
    assert isinstance(err, RetryableCloudError)
    assert (err.service, err.code, err.status, err.request_id) == ("oss", code, status, "R1")
    assert err.message == "GET oss://b/k: try later"


def test_a_refusal_is_permanent_and_names_the_call() -> None:
    err = translate_oss_error(answer(403, "AccessDenied", "no right"), "PUT oss://b/k")
    assert isinstance(err, PermanentCloudError)
    assert (err.code, err.message) == ("AccessDenied", "PUT oss://b/k: no right")
    bare = translate_oss_error(answer(404, ""), "HEAD oss://b/k")
    assert isinstance(bare, PermanentCloudError)
    assert (bare.code, bare.message) == ("404", "HEAD oss://b/k: HTTP 404")


def test_a_network_error_is_retryable_and_anything_else_stays_as_it_is() -> None:
    reset = oss2.exceptions.RequestError(ConnectionError("reset"))
    err = translate_oss_error(reset, "GET oss://b/k")
    assert isinstance(err, RetryableCloudError) and err.code == "RequestError"
    assert "reset" in err.message
    other = KeyError("k")
    assert translate_oss_error(other, "GET oss://b/k") is other
