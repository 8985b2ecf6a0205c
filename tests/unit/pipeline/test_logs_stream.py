"""The pipeline's log lines go to the stderr of the moment, not the one of the first invocation."""

from __future__ import annotations

import io
import json
import sys

import pytest

from imagedrop import logs


def test_a_stream_swapped_after_configure_gets_the_lines_and_a_closed_one_is_not_written(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given logging configured while stderr was a stream that is closed afterwards
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logs.configure()
    first.close()
    # When stderr is another stream and a step is logged
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logs.step("import.test", id="idp-1")
    # Then the line reaches the current stream, and nothing fails on the closed one
    lines = second.getvalue().splitlines()
    assert [json.loads(line)["step"] for line in lines] == ["import.test"], lines
