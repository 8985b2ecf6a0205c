"""Where a function's credentials come from: the FC context (python3.10) or the environment (3.12)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..config import read_credentials
from ..errors import ConfigError


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str
    security_token: str | None = None


def credentials_from(context: Any, env: Mapping[str, str]) -> Credentials:
    """The context's credentials, else those of the ALIBABA_CLOUD_* variables of `env` (the
    function's environment, `config.function_environment`)."""
    creds = getattr(context, "credentials", None)
    from_env = read_credentials(env)
    ak = getattr(creds, "access_key_id", None) or getattr(creds, "accessKeyId", None) \
        or from_env.access_key_id
    sk = getattr(creds, "access_key_secret", None) or getattr(creds, "accessKeySecret", None) \
        or from_env.access_key_secret
    token = getattr(creds, "security_token", None) or getattr(creds, "securityToken", None) \
        or from_env.security_token
    if not ak or not sk:
        raise ConfigError(
            "no credentials: the function context has none and ALIBABA_CLOUD_ACCESS_KEY_ID / "
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set; give the function a role (s.yaml `role`)")
    return Credentials(ak, sk, token or None)
