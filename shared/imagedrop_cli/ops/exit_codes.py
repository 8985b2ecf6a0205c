"""Exit codes of the operator commands, one table so scripts and CI can rely on them.

    0  done: the import succeeded (push --wait, watch), all doctor checks passed, the command worked
    1  the import ended failed or cancelled; a doctor check failed
    2  bad input: a manifest or disk refused before upload, the import was rejected, a bad flag
    3  could not reach or use the cloud: credentials, endpoint, bucket, an interrupted upload
    4  gave up waiting (--timeout) before the import reached a terminal state
  130  stopped waiting with Ctrl-C (the import itself goes on)
"""

from __future__ import annotations

from imagedrop.errors import ImagedropError

OK = 0
IMPORT_FAILED = 1
CHECK_FAILED = 1
BAD_INPUT = 2
CLOUD_ERROR = 3
TIMED_OUT = 4
INTERRUPTED = 130  # Ctrl-C while following an import (the shell's 128 + SIGINT)

_BY_STATE = {"succeeded": OK, "failed": IMPORT_FAILED, "cancelled": IMPORT_FAILED, "rejected": BAD_INPUT}


def exit_code_for_state(state: str | None) -> int:
    """The exit code of a followed import: only `succeeded` is 0; no terminal state is TIMED_OUT."""
    if state is None:
        return TIMED_OUT
    return _BY_STATE.get(state, TIMED_OUT)


class OpsError(ImagedropError):
    """A one-line error for the user (what, which rule, what to do) and the exit code it ends with."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
