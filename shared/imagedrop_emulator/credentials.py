"""Access keys and STS tokens the fake services accept, and nothing else."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field


@dataclass
class CredentialStore:
    keys: dict[str, str] = field(default_factory=dict)      # AccessKeyId -> secret
    tokens: dict[str, str] = field(default_factory=dict)    # STS AccessKeyId -> its token
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_key(self, access_key_id: str, secret: str) -> None:
        with self._lock:
            self.keys[access_key_id] = secret

    def issue_sts(self) -> tuple[str, str, str]:
        """A fresh STS triple (id, secret, token), as a role assumed by a function would get."""
        ak = "STS." + secrets.token_hex(10)
        sk = secrets.token_urlsafe(24)
        token = "CAIS" + secrets.token_urlsafe(48)
        with self._lock:
            self.keys[ak] = sk
            self.tokens[ak] = token
        return ak, sk, token

    def revoke(self, access_key_id: str) -> None:
        """From now on requests signed with this key are refused (an STS key of a stopped
        function instance)."""
        with self._lock:
            self.keys.pop(access_key_id, None)
            self.tokens.pop(access_key_id, None)

    def secret_for(self, access_key_id: str) -> str | None:
        return self.keys.get(access_key_id)

    def token_ok(self, access_key_id: str, token: str | None) -> bool:
        """An STS key needs its own token; a long-term key must not carry one that is wrong."""
        expected = self.tokens.get(access_key_id)
        if expected is None:
            return not token
        return token == expected
