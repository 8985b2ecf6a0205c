"""Deployment settings, read from the environment into a validated model (fail fast, say which)."""

from __future__ import annotations

import os
from typing import Mapping

from pydantic import BaseModel, Field, ValidationError, field_validator

from .errors import ConfigError

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
    webhook_urls: list[str] = Field(default_factory=list, description="IMAGEDROP_WEBHOOK_URLS, comma-separated")
    webhook_secret: str | None = Field(None, description="IMAGEDROP_WEBHOOK_SECRET: HMAC key of X-Imagedrop-Signature")
    dingtalk_url: str | None = Field(None, description="IMAGEDROP_DINGTALK_URL: DingTalk robot webhook")
    dingtalk_secret: str | None = Field(None, description="IMAGEDROP_DINGTALK_SECRET: its signing secret")
    slack_url: str | None = Field(None, description="IMAGEDROP_SLACK_URL: Slack incoming webhook")
    poll_first_seconds: int = Field(60, ge=1, le=3600, description="IMAGEDROP_POLL_FIRST_SECONDS")
    poll_max_seconds: int = Field(600, ge=10, le=43200, description="IMAGEDROP_POLL_MAX_SECONDS")
    deadline_hours: float = Field(12.0, gt=0, le=168, description="IMAGEDROP_DEADLINE_HOURS: give up after")
    api_attempts: int = Field(4, ge=1, le=10, description="IMAGEDROP_API_ATTEMPTS: tries per API call")

    @field_validator("watch_prefix", "state_prefix")
    @classmethod
    def _folder(cls, value: str) -> str:
        if value and not value.endswith("/"):
            value += "/"
        return value

    @field_validator("webhook_urls", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [u.strip() for u in value.split(",") if u.strip()]
        return value

    def model_post_init(self, _: object) -> None:
        if self.state_prefix.startswith(self.watch_prefix) or self.watch_prefix.startswith(self.state_prefix):
            raise ValueError(
                f"state_prefix {self.state_prefix!r} and watch_prefix {self.watch_prefix!r} overlap: "
                "what the pipeline writes would trigger it again")


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


def load_settings(env: Mapping[str, str] | None = None, *, region: str | None = None,
                  account_id: str | None = None) -> Settings:
    """Settings from the environment; `region`/`account_id` from the FC context win when given."""
    env = os.environ if env is None else env
    raw: dict[str, object] = {}
    for name, variables in env_var_names().items():
        for var in variables:
            if env.get(var):
                raw[name] = env[var]
                break
    if region:
        raw["region"] = region
    if account_id:
        raw["account_id"] = account_id
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            var = env_var_name(field)
            what = "is required" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            lines.append(f"{var}: {what}")
        raise ConfigError("invalid deployment settings: " + "; ".join(lines)) from None
