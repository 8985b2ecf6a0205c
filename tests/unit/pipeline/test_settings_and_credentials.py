"""Settings come from the environment and fail fast naming the variable; credentials come from
the FC context (python3.10) or the environment (python3.12)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from imagedrop.cloud.credentials import Credentials, credentials_from
from imagedrop.config import env_var_names, load_settings
from imagedrop.errors import ConfigError

MINIMAL = {"FC_REGION": "cn-hangzhou", "FC_ACCOUNT_ID": "1234567890123456",
           "IMAGEDROP_QUEUE": "imagedrop-track",
           "IMAGEDROP_MNS_ENDPOINT": "https://1234567890123456.mns.cn-hangzhou.aliyuncs.com"}


def test_minimal_settings_and_safe_defaults() -> None:
    s = load_settings(MINIMAL)
    assert (s.region, s.queue, s.watch_prefix, s.state_prefix) == ("cn-hangzhou", "imagedrop-track",
                                                                   "incoming/", "imagedrop/")
    assert s.import_role == "AliyunECSImageImportDefaultRole"
    assert s.webhook_urls == [] and s.topic is None


def test_missing_settings_are_named_by_their_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"FC_REGION": "cn-hangzhou"})
    text = str(err.value)
    for var in ("FC_ACCOUNT_ID", "IMAGEDROP_QUEUE", "IMAGEDROP_MNS_ENDPOINT"):
        assert f"{var}: is required" in text
    assert "FC_REGION" not in text


def test_the_context_wins_over_the_environment_for_region_and_account() -> None:
    s = load_settings(MINIMAL, region="ap-northeast-1", account_id="42")
    assert (s.region, s.account_id) == ("ap-northeast-1", "42")


@pytest.mark.parametrize("watch, state", [("incoming/", "incoming/state/"), ("data/", "data/"),
                                          ("a/b/", "a/")])
def test_overlapping_prefixes_are_refused(watch: str, state: str) -> None:
    # a write under a watched prefix would trigger the function again, forever
    env = {**MINIMAL, "IMAGEDROP_WATCH_PREFIX": watch, "IMAGEDROP_STATE_PREFIX": state}
    with pytest.raises(ConfigError, match="overlap"):
        load_settings(env)


def test_lists_and_numbers_are_parsed_and_checked() -> None:
    s = load_settings({**MINIMAL, "IMAGEDROP_WEBHOOK_URLS": " https://a.example/h , https://b.example/h ",
                       "IMAGEDROP_POLL_FIRST_SECONDS": "30", "IMAGEDROP_WATCH_PREFIX": "drop"})
    assert s.webhook_urls == ["https://a.example/h", "https://b.example/h"]
    assert s.poll_first_seconds == 30
    assert s.watch_prefix == "drop/"
    with pytest.raises(ConfigError, match="IMAGEDROP_POLL_MAX_SECONDS"):
        load_settings({**MINIMAL, "IMAGEDROP_POLL_MAX_SECONDS": "1"})


def test_every_setting_has_an_environment_variable() -> None:
    names = env_var_names()
    assert names["region"] == ("FC_REGION", "IMAGEDROP_REGION")
    assert names["webhook_secret"] == ("IMAGEDROP_WEBHOOK_SECRET",)


def test_python310_context_credentials() -> None:
    ctx = SimpleNamespace(credentials=SimpleNamespace(access_key_id="STS.a", access_key_secret="s",
                                                      security_token="tok"))
    assert credentials_from(ctx, env={}) == Credentials("STS.a", "s", "tok")


def test_python312_environment_credentials() -> None:
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.b", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s2",
           "ALIBABA_CLOUD_SECURITY_TOKEN": "tok2"}
    assert credentials_from(SimpleNamespace(region="cn-hangzhou"), env=env) == Credentials("STS.b", "s2", "tok2")


def test_no_credentials_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match="role"):
        credentials_from(None, env={})
