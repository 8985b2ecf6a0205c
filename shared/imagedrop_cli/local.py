"""The pipeline on the local emulator: imagedrop's two handlers plugged into the emulator's stack,
wired to OSS notifications and the MNS queue exactly as the cloud wires them, with the timeout,
memory and async retries s.yaml gives them."""

from __future__ import annotations

from typing import Any

from imagedrop_emulator.local import FunctionLimits, StackInfo, StackSettingError
from imagedrop_emulator.local import LocalStack as EmulatorStack

from .ops.deployed import FUNCTIONS, RUNTIME


def function_limits() -> dict[str, FunctionLimits]:
    """Each function's timeout, memory, runtime and async retries, as s.yaml deploys them."""
    return {name: FunctionLimits(timeout=spec.timeout, memory_mb=spec.memory_mb, runtime=RUNTIME,
                                 async_retries=spec.async_retries,
                                 dead_letter_queue=spec.dead_letter_queue)
            for name, spec in FUNCTIONS.items()}


def _check_settings(env: dict[str, str], region: str, account_id: str) -> None:
    from imagedrop.config import load_settings

    load_settings(env, region=region, account_id=account_id)


class LocalStack(EmulatorStack):
    """The emulator with imagedrop's ingest and poller functions deployed on it."""

    def __init__(self, **kwargs: Any):
        from imagedrop.handlers import ingest_handler, poller_handler

        kwargs.setdefault("functions", {"imagedrop-ingest": ingest_handler,
                                        "imagedrop-poller": poller_handler})
        kwargs.setdefault("check_settings", _check_settings)
        kwargs.setdefault("limits", function_limits())
        super().__init__(**kwargs)


__all__ = ["LocalStack", "StackInfo", "StackSettingError"]
