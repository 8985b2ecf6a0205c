"""The local runtime hands the functions their settings as values (in the context), the way FC
hands each instance its environment, and leaves the process environment as it found it."""

from __future__ import annotations

import os
from typing import Any

import pytest

from imagedrop_emulator.local import LocalStack


def test_the_functions_get_their_settings_and_the_process_environment_is_untouched(
        clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("IMAGEDROP_WEBHOOK_URLS", "http://127.0.0.1:9/hook")  # a person's own setting
    before = dict(os.environ)
    seen: list[Any] = []
    functions = {"imagedrop-ingest": lambda payload, context: seen.append(context.environment),
                 "imagedrop-poller": lambda payload, context: None}
    with LocalStack(functions=functions, background=False, speed=0) as stack:
        assert dict(os.environ) == before
        stack.sink("imagedrop-ingest")(b"{}")
        info = stack.info
    assert dict(os.environ) == before
    assert info is not None
    (environment,) = seen
    assert (environment["FC_REGION"], environment["FC_ACCOUNT_ID"]) == (info.region, info.account_id)
    assert (environment["IMAGEDROP_QUEUE"], environment["IMAGEDROP_OSS_ENDPOINT"]) == (
        info.queue, info.oss)
    assert environment["IMAGEDROP_WEBHOOK_URLS"] == "http://127.0.0.1:9/hook"
