"""One OSS call of an operator command, its failure said as the command's error: the object, the
code OSS answered, or the endpoint that could not be reached."""

from __future__ import annotations

from typing import Any, Callable

from imagedrop.cloud.oss_errors import translate_oss_error
from imagedrop.errors import CloudError
from .exit_codes import CLOUD_ERROR, OpsError


def oss_call(what: str, fn: Callable[[], Any]) -> Any:
    """`fn()`; None for a missing object; an `OpsError` for any other failure."""
    import oss2

    try:
        return fn()
    except oss2.exceptions.NoSuchKey:
        return None
    except oss2.exceptions.OssError as exc:
        err = translate_oss_error(exc, what)
        if not isinstance(err, CloudError):
            raise
        if not isinstance(exc, oss2.exceptions.RequestError):  # OSS answered
            raise OpsError(f"{what}: {err.code}: {exc.message}", CLOUD_ERROR) from None
        from .net_errors import short_reason

        raise OpsError(f"{what}: cannot reach OSS at {bucket_endpoint(exc)}({short_reason(exc)}); check the "
                       "endpoint (--endpoint, IMAGEDROP_OSS_ENDPOINT) and the network", CLOUD_ERROR) from None


def bucket_endpoint(exc: Exception) -> str:
    """The host:port an oss2 RequestError was for, from the URL in its message ('' when unknown)."""
    import re

    found = re.search(r"host='([^']+)', port=(\d+)", str(exc))
    return f"{found.group(1)}:{found.group(2)} " if found else ""
