"""Helpers for the manifest tests: a valid base manifest and a way to vary it."""

from __future__ import annotations

import json
from typing import Any

from imagedrop.manifest import manifest_problems

DROP = object()  # a patch value that removes the key

BASE: dict[str, Any] = {
    "image_name": "web-2026.11",
    "os_type": "linux",
    "platform": "Ubuntu",
    "architecture": "x86_64",
}


def varied(**patch: Any) -> dict[str, Any]:
    doc = dict(BASE)
    for key, value in patch.items():
        if value is DROP:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def problems_of(doc: Any) -> list[str]:
    return manifest_problems(json.dumps(doc, ensure_ascii=False))
