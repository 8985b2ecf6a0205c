"""Function Compute 3.0 through `alibabacloud-fc20230330`: async InvokeFunction, GetFunction and
ListTriggers of a function named on its own (FC 3.0 has no services), with throttling ridden out
and every other error turned into one line that names the function and the fix."""

from __future__ import annotations

import time
from typing import Any, Callable

from imagedrop.errors import CloudError

from .connection import Connection
from .exit_codes import CLOUD_ERROR, OpsError

# Answers that mean "not now": worth waiting for, unlike a missing function or a refused key.
THROTTLED = frozenset({"ResourceThrottled", "ResourceExhausted", "Throttling", "Throttling.User",
                       "Throttling.Api", "ConcurrentUpdateError"})
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 5
FIRST_BACKOFF_SECONDS = 0.5
QUALIFIER = "LATEST"   # s.yaml's triggers invoke LATEST; so does replay


class FcError(CloudError):
    """Function Compute answered `code` (or could not be reached: `NetworkError`); `message` is one
    line naming the function and the fix."""

    def __init__(self, code: str, message: str):
        super().__init__("fc", code, message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _clean(message: str) -> str:
    """tea wraps messages as `code: 404, <text> request id: …`; keep the text."""
    if message.startswith("code: ") and ", " in message:
        message = message.split(", ", 1)[1].rsplit(" request id:", 1)[0]
    return message


def explain(code: str, message: str, function: str, conn: Connection) -> str:
    """FC's answer, plus what to do about it where the code says it."""
    where = f"in {conn.region}" + (f" of account {conn.account_id}" if conn.account_id else "")
    if code == "FunctionNotFound":
        return (f"function {function!r} does not exist {where} (FC 3.0); deploy it with `s deploy` "
                "from the repository root, or name the deployed function with --function "
                "(doctor: --ingest-function / --poller-function)")
    if code in THROTTLED:
        return (f"{message} (still throttled after {ATTEMPTS} tries); run the command again later: "
                "invoking the ingest again for the same objects is safe")
    if code in ("InvalidAccessKeyId", "InvalidAccessKeyId.NotFound", "SignatureNotMatch",
                "SignatureDoesNotMatch", "AccessDenied", "Forbidden.RAM"):
        return (f"{message}; check the credentials, and that their RAM policy allows "
                "fc:InvokeFunction, fc:GetFunction and fc:ListTriggers")
    return message


class FunctionCompute:
    def __init__(self, conn: Connection, *, sleep: Callable[[float], None] = time.sleep):
        if not conn.fc_endpoint:
            raise OpsError("Function Compute endpoint unknown: pass --account-id (or set IMAGEDROP_ACCOUNT_ID) "
                           "or IMAGEDROP_FC_ENDPOINT", CLOUD_ERROR)
        from alibabacloud_fc20230330.client import Client
        from alibabacloud_tea_openapi.models import Config

        endpoint = conn.fc_endpoint
        host = endpoint.removeprefix("http://").removeprefix("https://").rstrip("/")
        creds = conn.credentials
        self._conn = conn
        self._endpoint = endpoint
        self._sleep = sleep
        self._client = Client(Config(access_key_id=creds.access_key_id, access_key_secret=creds.access_key_secret,
                                     security_token=creds.security_token, region_id=conn.region, endpoint=host,
                                     protocol="http" if endpoint.startswith("http://") else "https",
                                     connect_timeout=5000, read_timeout=30000))

    def _call(self, function: str, fn: Any, *args: Any) -> Any:
        """One API call; throttling and 5xx answers are retried with backoff, then reported."""
        from alibabacloud_tea_openapi import exceptions as tea_exc
        from alibabacloud_tea_util.models import RuntimeOptions

        delay = FIRST_BACKOFF_SECONDS
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return fn(function, *args, RuntimeOptions(autoretry=True, max_attempts=3))
            except tea_exc.AlibabaCloudException as exc:
                code, status = str(exc.code or "Unknown"), getattr(exc, "status_code", None)
                if (code in THROTTLED or status in TRANSIENT_STATUS) and attempt < ATTEMPTS:
                    self._sleep(delay)
                    delay *= 2
                    continue
                raise FcError(code, explain(code, _clean(str(exc.message or "")), function,
                                            self._conn)) from None
            except Exception as exc:  # network: requests/urllib3 errors wrapped by darabonba
                from .net_errors import short_reason

                raise FcError("NetworkError", f"cannot reach Function Compute at {self._endpoint} "
                                              f"({short_reason(exc, 160)})") from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def invoke_async(self, function: str, payload: bytes) -> str:
        """Queue one asynchronous invocation of LATEST; returns FC's request id."""
        from alibabacloud_fc20230330 import models

        response = self._call(function, self._client.invoke_function_with_options,
                              models.InvokeFunctionRequest(body=payload, qualifier=QUALIFIER),
                              models.InvokeFunctionHeaders(x_fc_invocation_type="Async"))
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        return str(headers.get("x-fc-request-id", ""))

    def get_function(self, function: str) -> dict[str, Any]:
        from alibabacloud_fc20230330 import models

        response = self._call(function, self._client.get_function_with_options,
                              models.GetFunctionRequest(), {})
        return response.body.to_map()  # type: ignore[no-any-return]

    def list_triggers(self, function: str) -> list[dict[str, Any]]:
        """Every trigger of the function, page after page."""
        from alibabacloud_fc20230330 import models

        triggers: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            response = self._call(function, self._client.list_triggers_with_options,
                                  models.ListTriggersRequest(limit=100, next_token=token), {})
            body = response.body.to_map()
            triggers += list(body.get("triggers") or [])
            token = body.get("nextToken") or None
            if not token:
                return triggers
