"""Function Compute through `alibabacloud-fc-open20210406`: async InvokeFunction, GetFunction and
ListTriggers, with errors turned into one line that names the function."""

from __future__ import annotations

from typing import Any

from .connection import Connection
from .exit_codes import CLOUD_ERROR, OpsError


class FcError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _clean(message: str) -> str:
    """tea wraps messages as `code: 404, <text> request id: …`; keep the text."""
    if message.startswith("code: ") and ", " in message:
        message = message.split(", ", 1)[1].rsplit(" request id:", 1)[0]
    return message


class FunctionCompute:
    def __init__(self, conn: Connection):
        if not conn.fc_endpoint:
            raise OpsError("Function Compute endpoint unknown: pass --account-id (or set IMAGEDROP_ACCOUNT_ID) "
                           "or IMAGEDROP_FC_ENDPOINT", CLOUD_ERROR)
        from alibabacloud_fc_open20210406.client import Client
        from alibabacloud_tea_openapi.models import Config

        endpoint = conn.fc_endpoint
        host = endpoint.removeprefix("http://").removeprefix("https://").rstrip("/")
        creds = conn.credentials
        self._endpoint = endpoint
        self.service = conn.fc_service
        self._client = Client(Config(access_key_id=creds.access_key_id, access_key_secret=creds.access_key_secret,
                                     security_token=creds.security_token, region_id=conn.region, endpoint=host,
                                     protocol="http" if endpoint.startswith("http://") else "https",
                                     connect_timeout=5000, read_timeout=30000))

    def _call(self, fn: Any, *args: Any) -> Any:
        from alibabacloud_tea_openapi import exceptions as tea_exc
        from alibabacloud_tea_util.models import RuntimeOptions

        try:
            return fn(*args, RuntimeOptions(autoretry=True, max_attempts=3))
        except tea_exc.AlibabaCloudException as exc:
            raise FcError(str(exc.code or "Unknown"), _clean(str(exc.message or ""))) from None
        except Exception as exc:  # network: requests/urllib3 errors wrapped by darabonba
            from .net_errors import short_reason

            raise FcError("NetworkError", f"cannot reach Function Compute at {self._endpoint} "
                                          f"({short_reason(exc, 160)})") from None

    def invoke_async(self, function: str, payload: bytes) -> str:
        """Queue one asynchronous invocation; returns FC's request id."""
        from alibabacloud_fc_open20210406 import models

        response = self._call(self._client.invoke_function_with_options, self.service, function,
                              models.InvokeFunctionRequest(body=payload),
                              models.InvokeFunctionHeaders(x_fc_invocation_type="Async"))
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        return str(headers.get("x-fc-request-id", ""))

    def get_function(self, function: str) -> dict[str, Any]:
        from alibabacloud_fc_open20210406 import models

        response = self._call(self._client.get_function_with_options, self.service, function,
                              models.GetFunctionRequest(), models.GetFunctionHeaders())
        return response.body.to_map()  # type: ignore[no-any-return]

    def list_triggers(self, function: str) -> list[dict[str, Any]]:
        from alibabacloud_fc_open20210406 import models

        response = self._call(self._client.list_triggers_with_options, self.service, function,
                              models.ListTriggersRequest(), models.ListTriggersHeaders())
        return list(response.body.to_map().get("triggers") or [])
