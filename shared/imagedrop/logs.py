"""One JSON line per pipeline step, with the import id: readable by Log Service and by people."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_logger = logging.getLogger("imagedrop")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is logged: a stream swapped after the first
    invocation (a test's capture, since closed) is never written to."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure(level: int = logging.INFO) -> None:
    """Log to stderr (Function Compute ships it to Log Service) at `level` (the handlers pass the
    setting IMAGEDROP_LOG_LEVEL, `config.log_level`)."""
    if not any(getattr(h, "_imagedrop", False) for h in _logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._imagedrop = True  # type: ignore[attr-defined]
        _logger.addHandler(handler)
        _logger.propagate = False
    _logger.setLevel(level)


def step(name: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one step: `step("import.submitted", id=..., image_id=...)`."""
    if not _logger.isEnabledFor(level):
        return
    record = {"ts": round(time.time(), 3), "step": name, **{k: v for k, v in fields.items() if v is not None}}
    _logger.log(level, json.dumps(record, ensure_ascii=False, default=str))
