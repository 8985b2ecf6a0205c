"""The sidecar manifest: model, parser, JSON Schema and field reference.

    from imagedrop.manifest import Manifest, parse_manifest, ManifestProblem
"""

from __future__ import annotations

from .field_checks import cross_field_problems
from .model import DataDisk, Manifest, system_disk_key
from .parse import (MAX_MANIFEST_BYTES, ManifestProblem, check_manifest, manifest_problems,
                    parse_manifest)
from .reference import manifest_json_schema, render_manifest_reference, render_schema_json

__all__ = [
    "DataDisk", "Manifest", "ManifestProblem", "MAX_MANIFEST_BYTES", "check_manifest",
    "cross_field_problems", "manifest_json_schema", "manifest_problems", "parse_manifest",
    "render_manifest_reference", "render_schema_json", "system_disk_key",
]
