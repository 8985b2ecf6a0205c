"""Fixtures of the functional tests: a whole local deployment per test."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from pipeline_harness import Harness

from imagedrop.local import LocalStack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Harness]:
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("IMAGEDROP_")]:
        del os.environ[name]
    local = LocalStack(speed=0.0, faults="", background=False)
    local.start()
    try:
        yield Harness(local, tmp_path)
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
