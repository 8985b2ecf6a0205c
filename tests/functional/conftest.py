"""Fixtures of the functional tests: a whole local deployment per test."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from pipeline_harness import Harness, running


@pytest.fixture
def stack(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Iterator[Harness]:
    yield from running(tmp_path, faults="")
