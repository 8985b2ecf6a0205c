"""Deployment settings, read from the environment into a validated model (fail fast, say which).

The one module of the function package that reads the environment: the handlers take the
function's environment here once per invocation (`function_environment`) and hand what is read
from it to the logging setup (`log_level`), the credentials (`read_credentials`) and the services
(`load_settings`).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Literal, Mapping, NamedTuple
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .redact import SECRET, secret_fields, shown_url

ENV_PREFIX = "IMAGEDROP_"


class Settings(BaseModel):
    region: str = Field(description="FC_REGION: the region of the functions, bucket and imports")
    account_id: str = Field(description="FC_ACCOUNT_ID: the account that owns everything")
    queue: str = Field(description="IMAGEDROP_QUEUE: the MNS queue the poller is triggered by")
    mns_endpoint: str = Field(description="IMAGEDROP_MNS_ENDPOINT: https://<account>.mns.<region>.aliyuncs.com")
    topic: str | None = Field(None, description="IMAGEDROP_TOPIC: MNS topic for notifications")
    oss_endpoint: str | None = Field(None, description="IMAGEDROP_OSS_ENDPOINT (default: the region's)")
    ecs_endpoint: str | None = Field(None, description="IMAGEDROP_ECS_ENDPOINT (default: the region's)")
    watch_prefix: str = Field("incoming/", description="IMAGEDROP_WATCH_PREFIX: what the OSS trigger watches")
    state_prefix: str = Field("imagedrop/", description="IMAGEDROP_STATE_PREFIX: where status and claims go")
    import_role: str = Field("AliyunECSImageImportDefaultRole", description="IMAGEDROP_IMPORT_ROLE")
    webhook_urls: list[str] = Field(default_factory=list, description="IMAGEDROP_WEBHOOK_URLS, comma-separated",
                                    json_schema_extra=SECRET)
    webhook_secret: str | None = Field(
        None, description="IMAGEDROP_WEBHOOK_SECRET: whsec_<base64 key> signing every generic webhook "
        "the Standard Webhooks way", json_schema_extra=SECRET)
    dingtalk_url: str | None = Field(None, description="IMAGEDROP_DINGTALK_URL: DingTalk robot webhook",
                                     json_schema_extra=SECRET)
    dingtalk_secret: str | None = Field(None, description="IMAGEDROP_DINGTALK_SECRET: its signing secret",
                                        json_schema_extra=SECRET)
    slack_url: str | None = Field(None, description="IMAGEDROP_SLACK_URL: Slack incoming webhook",
                                  json_schema_extra=SECRET)
    lark_url: str | None = Field(None, description="IMAGEDROP_LARK_URL: Lark (Feishu) custom bot webhook",
                                 json_schema_extra=SECRET)
    lark_secret: str | None = Field(None, description="IMAGEDROP_LARK_SECRET: its signing secret",
                                    json_schema_extra=SECRET)
    teams_url: str | None = Field(None, description="IMAGEDROP_TEAMS_URL: Microsoft Teams Workflows webhook",
                                  json_schema_extra=SECRET)
    poll_first_seconds: int = Field(60, ge=1, le=3600, description="IMAGEDROP_POLL_FIRST_SECONDS")
    poll_max_seconds: int = Field(600, ge=10, le=43200, description="IMAGEDROP_POLL_MAX_SECONDS")
    deadline_hours: float = Field(12.0, gt=0, le=168, description="IMAGEDROP_DEADLINE_HOURS: give up after")
    api_attempts: int = Field(4, ge=1, le=10, description="IMAGEDROP_API_ATTEMPTS: tries per API call")
    repair: Literal["off", "auto", "forbid"] = Field(
        "off", description="IMAGEDROP_REPAIR: a manifest's default repair (off or auto), or forbid "
        "to refuse manifests that ask for one (a repair bills a temporary instance)")
    repair_instance_type: str | None = Field(
        None, description="IMAGEDROP_REPAIR_INSTANCE_TYPE: the repair's temporary instance type "
        "(default: Image Builder's choice)", pattern=r"^ecs\.[a-z0-9][a-z0-9.\-]*$")
    repair_vswitch_id: str | None = Field(
        None, description="IMAGEDROP_REPAIR_VSWITCH_ID: the vSwitch of the repair's instance "
        "(default: Image Builder creates a VPC and vSwitch)", pattern=r"^vsw-[a-z0-9]+$")

    @field_validator("repair", mode="before")
    @classmethod
    def _repair(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("watch_prefix", "state_prefix")
    @classmethod
    def _folder(cls, value: str) -> str:
        return as_folder(value)

    @field_validator("webhook_urls", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [u.strip() for u in value.split(",") if u.strip()]
        return value

    @field_validator("webhook_urls")
    @classmethod
    def _webhook_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            _check_url(url, "each webhook URL")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _whsec(cls, value: str | None) -> str | None:
        return value if value is None else check_whsec(value)

    @field_validator("dingtalk_url", "slack_url", "lark_url", "teams_url", "mns_endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            _check_url(value, "the URL")
        return value

    @field_validator("oss_endpoint", "ecs_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and "://" in value:   # a bare host name is fine: the SDKs add a scheme
            _check_url(value, "the endpoint")
        elif value is not None and (not value.strip() or any(c.isspace() or c in "/?#@" for c in value)):
            raise ValueError(f"{value!r} is not a host name or an http(s):// URL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        if self.state_prefix.startswith(self.watch_prefix) or self.watch_prefix.startswith(self.state_prefix):
            raise ValueError(
                f"IMAGEDROP_STATE_PREFIX {self.state_prefix!r} and IMAGEDROP_WATCH_PREFIX "
                f"{self.watch_prefix!r} overlap: what the pipeline writes would trigger it again")
        if self.poll_first_seconds > self.poll_max_seconds:
            raise ValueError(
                f"IMAGEDROP_POLL_FIRST_SECONDS ({self.poll_first_seconds}) is more than "
                f"IMAGEDROP_POLL_MAX_SECONDS ({self.poll_max_seconds}): no poll may be further "
                "ahead than the maximum; lower the first or raise the maximum")
        return self


def as_folder(prefix: str) -> str:
    """A key prefix as a folder: `incoming` → `incoming/` (empty stays empty: the whole bucket)."""
    return prefix + "/" if prefix and not prefix.endswith("/") else prefix


def _check_url(url: str, what: str) -> None:
    """An http(s) URL with a host, or a ValueError saying what was wrong (showing only the URL's
    scheme and host: robot and Slack URLs carry their token in the path or the query, and any URL
    may carry a password)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(
            c.isspace() for c in url):
        raise ValueError(f"{what} must be an http:// or https:// URL with a host; got "
                         f"{shown_url(url)!r}")


def check_whsec(secret: str) -> str:
    """A Standard Webhooks secret: `whsec_` then the base64 of a key of 24 to 64 bytes."""
    import base64
    import binascii

    body = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(body, validate=True) if body != secret else b""
    except (binascii.Error, ValueError):
        key = b""
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret must be whsec_ followed by the base64 of 24 to 64 random "
                         "bytes; make one with: python3 -c \"import base64,os; print('whsec_' + "
                         "base64.b64encode(os.urandom(32)).decode())\"")
    return secret


_SECRETS = secret_fields(Settings)


_ENV_NAMES = {
    "region": ("FC_REGION", "IMAGEDROP_REGION"),
    "account_id": ("FC_ACCOUNT_ID", "IMAGEDROP_ACCOUNT_ID"),
}


def env_var_name(field: str) -> str:
    """The environment variable a setting is read from first."""
    return _ENV_NAMES.get(field, (ENV_PREFIX + field.upper(),))[0]


def env_var_names() -> dict[str, tuple[str, ...]]:
    """Every setting and the environment variables it is read from, in order."""
    return {name: _ENV_NAMES.get(name, (ENV_PREFIX + name.upper(),)) for name in Settings.model_fields}


def function_environment(context: Any = None) -> Mapping[str, str]:
    """The environment a function's settings come from: FC sets them as environment variables of
    the function's instance; the local runtime, which runs the functions in its own process, hands
    them over in the context (`environment`)."""
    environment = getattr(context, "environment", None)
    return os.environ if environment is None else environment


LOG_LEVEL_VARIABLE = ENV_PREFIX + "LOG_LEVEL"


def log_level(env: Mapping[str, str]) -> int:
    """IMAGEDROP_LOG_LEVEL as a `logging` level: a level's name in any case; INFO when unset or
    not a level's name."""
    level = getattr(logging, env.get(LOG_LEVEL_VARIABLE, "INFO").upper(), logging.INFO)
    return level if isinstance(level, int) else logging.INFO


class EnvCredentials(NamedTuple):
    """The ALIBABA_CLOUD_* access key set in the environment; each part None when not set."""

    access_key_id: str | None
    access_key_secret: str | None
    security_token: str | None


CREDENTIAL_VARIABLES = EnvCredentials(
    "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")


def read_credentials(env: Mapping[str, str]) -> EnvCredentials:
    """The access key of the standard ALIBABA_CLOUD_* variables (an empty one counts as unset)."""
    return EnvCredentials(*(env.get(var) or None for var in CREDENTIAL_VARIABLES))


def read_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each setting set in the environment, as given: the first of its variables that is set
    (`env_var_names`). The one place settings are read; `load_settings` validates them, the CLI
    takes the few it needs."""
    env = os.environ if env is None else env
    raw: dict[str, str] = {}
    for name, variables in env_var_names().items():
        for var in variables:
            if env.get(var):
                raw[name] = env[var]
                break
    return raw


def load_settings(env: Mapping[str, str] | None = None, *, region: str | None = None,
                  account_id: str | None = None) -> Settings:
    """Settings from the environment; `region`/`account_id` from the FC context win when given."""
    raw: dict[str, object] = dict(read_env(env))
    if region:
        raw["region"] = region
    if account_id:
        raw["account_id"] = account_id
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            what = "is required" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            if not err["loc"]:  # a rule between settings: the message names the variables
                lines.append(what)
                continue
            field = str(err["loc"][0])
            given = err.get("input")
            if err["type"] not in ("missing", "value_error") and field not in _SECRETS and isinstance(given, str):
                what += f" (got {given!r})"
            lines.append(f"{env_var_name(field)}: {what}")
        raise ConfigError("invalid deployment settings: " + "; ".join(lines)) from None
