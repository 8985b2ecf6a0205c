"""Shared fixtures: a fresh fake cloud per test, reachable in-process or over loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Iterator

import pytest

from imagedrop_emulator import Clock, CloudServer, FakeCloud, mock_cloud

FIXTURES = Path(__file__).parent / "fixtures"

# Nothing a test does may leave the machine. The credentials chain would otherwise ask the ECS
# metadata service; it reads this when first imported, so it is set before any test imports it.
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_local(host: object) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkRefused(OSError):
    pass


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: object) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if not _is_local(host):
        raise NetworkRefused(f"tests may only reach loopback; refused a connection to {address!r}")
    return _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    host = address[0] if isinstance(address, tuple) else address
    if not _is_local(host):
        raise NetworkRefused(f"tests may only reach loopback; refused a connection to {address!r}")
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if host is not None and not _is_local(host if isinstance(host, str) else host.decode()):
        raise NetworkRefused(f"tests may only reach loopback; refused to resolve {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No IMAGEDROP_* setting of the person running the tests leaks in; set yours with the
    returned monkeypatch and they are undone after the test."""
    for name in [n for n in os.environ if n.startswith("IMAGEDROP_")]:
        monkeypatch.delenv(name)
    return monkeypatch


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


@pytest.fixture(scope="session")
def real_guests() -> dict[str, object]:
    """The real-guest corpus (tests/fixtures/real_guests): found in this machine's cache, or
    built there on first use (as root, about 15 minutes); skipped, with the reason, only where
    it cannot be built."""
    import sys
    sys.path.insert(0, str(FIXTURES / "real_guests"))
    from corpus import find_or_build

    guests, why = find_or_build()
    if guests is None:
        pytest.skip(why)
    return {guest.name: guest for guest in guests}
