"""Test support for the operator commands: real fixture disks, manifests, a local stack."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from imagedrop_cli.local import LocalStack

DISKS = Path(__file__).resolve().parents[1] / "fixtures" / "disks"


def real_disk(name: str, folder: Path, as_name: str | None = None) -> Path:
    target = folder / (as_name or name)
    with gzip.open(DISKS / f"{name}.gz", "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return target


def manifest_file(folder: Path, name: str, **extra: object) -> Path:
    path = folder / f"{name}.manifest.json"
    path.write_text(json.dumps({"image_name": name, "os_type": "linux", "platform": "Ubuntu",
                                "architecture": "x86_64", **extra}))
    return path


def start_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: object) -> Iterator[LocalStack]:
    """A local stack the operator commands reach with --local; every environment change is undone
    by `monkeypatch`, and the stack puts back the settings it set."""
    for name in [n for n in os.environ if n.startswith("IMAGEDROP_")]:
        monkeypatch.delenv(name)
    stack = LocalStack(faults="", **kw)  # type: ignore[arg-type]
    stack.start()
    assert stack.info
    monkeypatch.setenv("IMAGEDROP_LOCAL", json.dumps(stack.info.as_json()))
    monkeypatch.chdir(tmp_path)
    try:
        yield stack
    finally:
        stack.stop()


