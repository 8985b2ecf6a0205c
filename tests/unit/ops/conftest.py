"""Real disk images for the operator tests: the gzipped fixtures, decompressed once per session."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Callable

import pytest

DISKS = Path(__file__).resolve().parents[2] / "fixtures" / "disks"


@pytest.fixture(scope="session")
def fixture_disk(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    folder = tmp_path_factory.mktemp("disks")

    def get(name: str) -> Path:
        target = folder / name
        if not target.exists():
            with gzip.open(DISKS / f"{name}.gz", "rb") as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        return target
    return get
