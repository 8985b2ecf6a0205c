"""`pytest tests/sim --seed N` replays one schedule; `--schedules N` sets how many random ones a
run explores (IMAGEDROP_SIM_SEED and IMAGEDROP_SIM_SCHEDULES do the same)."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("simulation")
    group.addoption("--seed", type=int, default=None,
                    help="replay the simulated schedule of this seed only")
    group.addoption("--schedules", type=int, default=None,
                    help="how many random schedules to explore (default 10000)")


@pytest.fixture
def replay_seed(request: pytest.FixtureRequest) -> int | None:
    seed = request.config.getoption("--seed", default=None)
    if seed is None and os.environ.get("IMAGEDROP_SIM_SEED"):
        seed = int(os.environ["IMAGEDROP_SIM_SEED"])
    return seed


@pytest.fixture
def schedules(request: pytest.FixtureRequest) -> int:
    count = request.config.getoption("--schedules", default=None)
    return int(count or os.environ.get("IMAGEDROP_SIM_SCHEDULES") or 10_000)
