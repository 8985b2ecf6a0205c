"""Shared fixtures: a fresh fake cloud per test, reachable in-process or over loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from imagedrop.emulator import Clock, CloudServer, FakeCloud, mock_cloud

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def cloud() -> FakeCloud:
    """A cloud whose clock stands still until a test (or the pump) moves it."""
    return FakeCloud(clock=Clock(speed=0.0))


@pytest.fixture
def mocked(cloud: FakeCloud) -> Iterator[FakeCloud]:
    """`cloud` behind `responses`: oss2 and the ECS SDK reach it in-process."""
    with mock_cloud(cloud):
        yield cloud


@pytest.fixture
def served(cloud: FakeCloud) -> Iterator[CloudServer]:
    """`cloud` on loopback ports: any client, including the MNS SDK, reaches it."""
    with CloudServer(cloud) as server:
        yield server
