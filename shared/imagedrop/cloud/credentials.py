"""Where a function's credentials come from: the FC context (python3.10) or the environment (3.12)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import ConfigError


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str
    security_token: str | None = None


def credentials_from(context: Any = None, env: Mapping[str, str] | None = None) -> Credentials:
    env = os.environ if env is None else env
    creds = getattr(context, "credentials", None)
    ak = getattr(creds, "access_key_id", None) or getattr(creds, "accessKeyId", None) \
        or env.get("ALIBABA_CLOUD_ACCESS_KEY_ID")
    sk = getattr(creds, "access_key_secret", None) or getattr(creds, "accessKeySecret", None) \
        or env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
    token = getattr(creds, "security_token", None) or getattr(creds, "securityToken", None) \
        or env.get("ALIBABA_CLOUD_SECURITY_TOKEN")
    if not ak or not sk:
        raise ConfigError(
            "no credentials: the function context has none and ALIBABA_CLOUD_ACCESS_KEY_ID / "
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set; give the function a role (s.yaml `role`)")
    return Credentials(ak, sk, token or None)
