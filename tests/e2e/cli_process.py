"""Test support: the `imagedrop` command as a child process, in an environment without the
caller's IMAGEDROP_* settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Iterator


def cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from imagedrop_cli import main; main()", *args]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEDROP_")}
    env.update(extra)
    return env


def serve(*args: str) -> Iterator[dict[str, str]]:
    """`imagedrop local serve ARGS` for the life of a fixture: yields its endpoints line."""
    proc = subprocess.Popen(cli("local", "serve", *args), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=clean_env())
    assert proc.stdout
    try:
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=20)
