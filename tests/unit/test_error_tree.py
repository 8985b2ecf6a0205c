"""Every error imagedrop raises on purpose sits in one tree under `ImagedropError`."""

from __future__ import annotations

import pytest

from imagedrop.errors import CloudError, ImagedropError, TransitionRefused
from imagedrop.model.status import StatusRecord, moved
from imagedrop_cli.ops.exit_codes import CLOUD_ERROR, OpsError
from imagedrop_cli.ops.fc_invoke import FcError


def test_a_refused_status_move_is_an_imagedrop_error() -> None:
    record = StatusRecord(id="idp-1", state="succeeded", bucket="b",
                          manifest="incoming/a.qcow2.json", region="cn-hangzhou")
    with pytest.raises(ImagedropError) as caught:
        moved(record, "importing", "again", "2026-11-29T00:00:00Z")
    assert isinstance(caught.value, TransitionRefused)
    assert "cannot move from succeeded to importing" in str(caught.value)


def test_the_cli_errors_sit_under_the_tree_and_keep_their_exit_code_and_line() -> None:
    ops = OpsError("bucket b: not found; check --bucket", CLOUD_ERROR)
    assert isinstance(ops, ImagedropError)
    assert (ops.message, ops.exit_code) == ("bucket b: not found; check --bucket", CLOUD_ERROR)
    fc = FcError("FunctionNotFound", "imagedrop-ingest: no such function; run `s deploy`")
    assert isinstance(fc, CloudError) and fc.service == "fc"
    assert fc.code == "FunctionNotFound"
    assert str(fc) == "FunctionNotFound: imagedrop-ingest: no such function; run `s deploy`"
