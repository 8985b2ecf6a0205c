"""`python -m imagedrop.manifest [--write REPO_ROOT]`: print, or rewrite, the generated manifest
reference (docs/manifest.md) and JSON Schema (schema/manifest.schema.json)."""

import sys

from .reference import main

raise SystemExit(main(sys.argv[1:]))
