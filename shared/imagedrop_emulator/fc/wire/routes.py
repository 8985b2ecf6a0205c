"""Which FC 3.0 action a request names: its method and path (the function and trigger names
arrive percent-encoded)."""

from __future__ import annotations

import re
from urllib.parse import unquote

from ...core import ServiceError

VERSION = "2023-03-30"
_NAME = r"([^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(rf"^/{VERSION}/functions/?$"), "ListFunctions"),
    ("GET", re.compile(rf"^/{VERSION}/functions/{_NAME}/?$"), "GetFunction"),
    ("GET", re.compile(rf"^/{VERSION}/functions/{_NAME}/triggers/?$"), "ListTriggers"),
    ("GET", re.compile(rf"^/{VERSION}/functions/{_NAME}/triggers/{_NAME}/?$"), "GetTrigger"),
    ("POST", re.compile(rf"^/{VERSION}/functions/{_NAME}/invocations/?$"), "InvokeFunction"),
]


def route(method: str, path: str) -> tuple[str, list[str]]:
    for want, pattern, action in ROUTES:
        match = pattern.match(path)
        if match and method == want:
            return action, [unquote(g) for g in match.groups()]
    raise ServiceError(404, "PathNotSupported",
                       f"{method} {path} is not a Function Compute {VERSION} API path this "
                       f"emulator answers (FC 3.0: /{VERSION}/functions/{{name}}"
                       "[/invocations|/triggers])")
