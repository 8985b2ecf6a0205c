"""Fixtures of the functional tests: a whole local deployment per test."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from pipeline_harness import Harness

from imagedrop_cli.local import LocalStack


@pytest.fixture
def stack(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Iterator[Harness]:
    local = LocalStack(speed=0.0, faults="", background=False)
    local.start()
    try:
        yield Harness(local, tmp_path)
    finally:
        local.stop()
