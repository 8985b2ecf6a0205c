"""The function package reads its environment in one module, `imagedrop.config`; every other module
is handed what was read: the logging setup its level, the credentials and the services the
function's environment."""

from __future__ import annotations

import ast
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

import imagedrop
from imagedrop import config
from imagedrop.services import services_for

PACKAGE = Path(imagedrop.__file__).parent
READER = PACKAGE / "config.py"
ENV_FUNCTIONS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}

MINIMAL = {"FC_REGION": "cn-hangzhou", "FC_ACCOUNT_ID": "1234567890123456",
           "IMAGEDROP_QUEUE": "imagedrop-track",
           "IMAGEDROP_MNS_ENDPOINT": "https://1234567890123456.mns.cn-hangzhou.aliyuncs.com"}
CONTEXT = SimpleNamespace(credentials=SimpleNamespace(access_key_id="STS.a", access_key_secret="s",
                                                      security_token="tok"),
                          region="cn-hangzhou", account_id="1234567890123456")


def environment_reads(source: str) -> list[str]:
    """Each use of the process environment in `source`, as `line: what`."""
    tree = ast.parse(source)
    os_names = {alias.asname or "os" for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names if alias.name == "os"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"{node.lineno}: from os import {a.name}" for a in node.names
                      if a.name in ENV_FUNCTIONS or a.name == "*"]
        elif (isinstance(node, ast.Attribute) and node.attr in ENV_FUNCTIONS
              and isinstance(node.value, ast.Name) and node.value.id in os_names):
            found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_only_config_reads_the_environment() -> None:
    # Given every module of the function package but config.py
    modules = [p for p in PACKAGE.rglob("*.py") if p != READER]
    assert len(modules) > 30
    # Then none of them touches the process environment
    reads = {str(p.relative_to(PACKAGE)): environment_reads(p.read_text()) for p in modules}
    assert {path: found for path, found in reads.items() if found} == {}
    # while config.py does: the scan finds a real read
    assert environment_reads(READER.read_text())


@pytest.mark.parametrize("source", ["import os\nos.environ['A']", "import os as o\no.getenv('A')",
                                    "from os import environ", "from os import getenv as g",
                                    "from os import *", "import os\nos.environ.get('A', 'b')"])
def test_the_scan_finds_every_way_of_reading_the_environment(source: str) -> None:
    assert environment_reads(source)


def test_the_scan_leaves_other_uses_of_os_alone() -> None:
    assert environment_reads("import os\nos.path.join('a', 'b')\nenviron = {}\nenviron.get('A')") == []


@pytest.mark.parametrize("given, level", [(None, logging.INFO), ("debug", logging.DEBUG),
                                          ("WARNING", logging.WARNING), ("", logging.INFO),
                                          ("loud", logging.INFO), ("basic_format", logging.INFO)])
def test_the_log_level_setting(given: str | None, level: int) -> None:
    env = {} if given is None else {"IMAGEDROP_LOG_LEVEL": given}
    assert config.log_level(env) == level


def test_the_functions_environment_is_the_contexts_when_it_has_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEDROP_QUEUE", "from-the-process")
    handed = {**MINIMAL, "IMAGEDROP_QUEUE": "from-the-context"}
    assert config.function_environment(SimpleNamespace(environment=handed)) is handed
    assert config.function_environment(SimpleNamespace())["IMAGEDROP_QUEUE"] == "from-the-process"


def test_the_services_are_built_from_the_environment_handed_to_them_once_per_settings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a process environment that says something else
    monkeypatch.setenv("IMAGEDROP_QUEUE", "from-the-process")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "process-key")
    env = {**MINIMAL, "IMAGEDROP_QUEUE": "handed"}
    # When the services are built for a context and the environment handed to them
    services = services_for(CONTEXT, env)
    # Then their settings and credentials are the ones handed over
    assert services.settings.queue == "handed"
    assert services.credentials.access_key_id == "STS.a"
    # and a second invocation with the same settings gets the same services; other settings, new ones
    assert services_for(CONTEXT, dict(env)) is services
    again = services_for(CONTEXT, {**env, "IMAGEDROP_QUEUE": "other"})
    assert again is not services and again.settings.queue == "other"


def test_credentials_without_a_context_come_from_the_environment_handed_over() -> None:
    env = {**MINIMAL, "ALIBABA_CLOUD_ACCESS_KEY_ID": "AK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK"}
    services = services_for(SimpleNamespace(region="cn-hangzhou", account_id="1"), env)
    assert (services.credentials.access_key_id, services.credentials.security_token) == ("AK", None)
