"""What s.yaml deploys, as the command line needs it: the runtime the function package is built
for (`doctor` compares it with the deployed functions) and each function's limits (the local stack
keeps them). A test holds these equal to s.yaml."""

from __future__ import annotations

from dataclasses import dataclass

RUNTIME = "python3.12"


@dataclass(frozen=True)
class FunctionSpec:
    timeout: int                      # seconds
    memory_mb: int
    async_retries: int                # asyncInvokeConfig.maxAsyncRetryAttempts
    dead_letter_queue: str | None     # asyncInvokeConfig.destinationConfig.onFailure, a queue


FUNCTIONS: dict[str, FunctionSpec] = {
    "imagedrop-ingest": FunctionSpec(timeout=120, memory_mb=512, async_retries=3,
                                     dead_letter_queue="imagedrop-track-dlq"),
    "imagedrop-poller": FunctionSpec(timeout=300, memory_mb=512, async_retries=3,
                                     dead_letter_queue=None),
}
