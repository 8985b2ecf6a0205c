#!/usr/bin/env bash
# Build the code folder of one function for the FC python3.10 runtime (Debian 10, x86_64).
#
#   deploy/build.sh ingest|poller      run from anywhere; writes build/<fn>/
#
# build/<fn>/index.py       the handler (FC loads index.handler from /code)
# build/<fn>/python/        the imagedrop and imagedrop_disk packages and every runtime
#                           dependency, as manylinux2014
#                           x86_64 CPython 3.10 wheels (cryptography has native code, so the
#                           wheels must match the runtime, not the machine that builds)
# The function sets PYTHONPATH=/code/python so the runtime finds them.
set -euo pipefail

fn="${1:-}"
case "$fn" in
  ingest|poller) ;;
  *) echo "usage: deploy/build.sh ingest|poller (got '${fn}'): name the function to build" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
handler="$root/functions/$fn/index.py"
if [[ ! -f "$handler" ]]; then
  echo "deploy/build.sh: $handler is missing: the handler of '$fn' must exist before building" >&2
  exit 1
fi

out="$root/build/$fn"
rm -rf "$out"
mkdir -p "$out/python"
cp "$handler" "$out/index.py"

# A fresh copy of the project: setuptools writes build/ and *.egg-info next to pyproject.toml,
# and a shared checkout must not be touched by a deploy.
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
cp "$root/pyproject.toml" "$src/"
[[ -f "$root/README.md" ]] && cp "$root/README.md" "$src/" || echo "imagedrop" > "$src/README.md"
mkdir -p "$src/shared"
# Only the function's own layers: the pipeline and the disk library. The CLI, the operator tools,
# the emulator and the sample disk (shared/imagedrop_cli, shared/imagedrop_emulator) stay out,
# and so do their dependencies (the `cli` and `emulator` extras are not installed).
cp -r "$root/shared/imagedrop" "$root/shared/imagedrop_disk" "$src/shared/"
find "$src" -name '__pycache__' -type d -prune -exec rm -rf {} +

py="${PYTHON:-python3}"
# Phase 1: some dependencies (oss2, crcmod, aliyun-mns-sdk, several alibabacloud-* packages) are
# published only as source, which `--only-binary=:all:` below refuses. Build them into wheels
# first. CC=false makes optional C extensions fail to compile, so packages such as crcmod fall
# back to their pure-Python form (py3-none-any) instead of a wheel tied to this machine.
wheels="$src/wheelhouse"
CC=false "$py" -m pip wheel "$src" --wheel-dir "$wheels" --no-cache-dir \
  --disable-pip-version-check --quiet
# Phase 2: resolve for the runtime. Native packages (cryptography, pydantic-core, cffi, ...) come
# as manylinux2014 x86_64 CPython 3.10 wheels; the pure wheels of phase 1 fill in the rest.
"$py" -m pip install "$src" \
  --target "$out/python" \
  --platform manylinux2014_x86_64 --only-binary=:all: \
  --python-version 3.10 --implementation cp \
  --find-links "$wheels" \
  --no-compile --no-warn-conflicts --disable-pip-version-check --quiet

# The runtime has no use for these; they only add to the code package size.
rm -rf "$out/python/bin"
find "$out/python" -name '__pycache__' -type d -prune -exec rm -rf {} +

echo "built $out ($(du -sh "$out" | cut -f1))"
