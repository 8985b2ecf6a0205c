"""A cloud with only the fake MNS, its clock frozen, and the same cloud on a loopback port."""

from __future__ import annotations

from typing import Iterator

import pytest
from mns.account import Account

from imagedrop_emulator import Clock, CloudServer, FakeCloud


@pytest.fixture
def mns_cloud() -> FakeCloud:
    return FakeCloud(clock=Clock(speed=0.0, start=1_800_000_000.0), services=("mns",))


@pytest.fixture
def mns_server(mns_cloud: FakeCloud) -> Iterator[CloudServer]:
    with CloudServer(mns_cloud) as server:
        yield server


@pytest.fixture
def account(mns_cloud: FakeCloud, mns_server: CloudServer) -> Account:
    """The real MNS SDK client, pointed at the loopback fake with the cloud's default key."""
    return Account(mns_server.endpoints["mns"], mns_cloud.access_key_id, mns_cloud.access_key_secret)
