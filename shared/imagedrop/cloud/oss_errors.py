"""oss2's exceptions in the error tree: the one translation, used by the pipeline's `ObjectStore`
and by the CLI's own OSS calls."""

from __future__ import annotations

from ..errors import PermanentCloudError, RetryableCloudError

THROTTLED_CODES = ("SlowDown", "Throttling")


def translate_oss_error(exc: Exception, what: str) -> Exception:
    """`exc` as a `RetryableCloudError` (network, throttling, 5xx) or a `PermanentCloudError`
    (any other answer), its message starting with `what`; anything not from oss2 as it is."""
    import oss2

    if isinstance(exc, oss2.exceptions.RequestError):
        return RetryableCloudError("oss", "RequestError", f"{what}: {exc}")
    if isinstance(exc, oss2.exceptions.ServerError):
        code = exc.code or str(exc.status)
        message = exc.message or f"HTTP {exc.status}"
        if exc.status >= 500 or exc.status == 429 or code in THROTTLED_CODES:
            return RetryableCloudError("oss", code, f"{what}: {message}", status=exc.status,
                                       request_id=exc.request_id)
        return PermanentCloudError("oss", code, f"{what}: {message}", status=exc.status,
                                   request_id=exc.request_id)
    return exc
