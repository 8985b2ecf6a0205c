#!/usr/bin/env bash
# Build the code folder of one function for its Function Compute runtime, then check it.
#
#   deploy/build.sh ingest|poller      run from anywhere; writes build/<fn>/ (or $IMAGEDROP_BUILD_OUT/<fn>/)
#
# build/<fn>/index.py       the handler (FC loads index.handler from /code)
# build/<fn>/python/        the imagedrop and imagedrop_disk packages and every runtime
#                           dependency, resolved for the runtime's Python (s.yaml's `runtime`,
#                           e.g. python3.12) on manylinux x86_64: dependency markers are evaluated
#                           for that Python, not the one running this script, and native wheels
#                           (cryptography, pydantic-core) match the runtime, not this machine
# The function sets PYTHONPATH=/code/python so the runtime finds them.
#
# The resolver (uv) and the checker's one library (packaging) are installed once into a cache,
# ${XDG_CACHE_HOME:-~/.cache}/imagedrop/build-tools/, with the Python that runs this ($PYTHON or
# python3, 3.10 or later). deploy/check_package.py then verifies the folder: every dependency
# the runtime needs is present and the handler's imports resolve.
set -euo pipefail
# uv trusts the system certificate store, as pip does, so a registry behind a site CA works.
export UV_NATIVE_TLS=1

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

runtimes="$(sed -n -E 's/^[[:space:]]+runtime:[[:space:]]*(python3\.[0-9]+).*$/\1/p' "$root/s.yaml" 2>/dev/null | sort -u)"
if [[ -z "$runtimes" || "$runtimes" == *$'\n'* ]]; then
  echo "deploy/build.sh: s.yaml must give both functions one runtime (python3.12); found: ${runtimes:-none}" >&2
  exit 1
fi
pyver="${runtimes#python}"

out="${IMAGEDROP_BUILD_OUT:-$root/build}/$fn"
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
tool_spec="uv>=0.5,<1 packaging>=24"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/imagedrop/build-tools"
tools="$cache/$(printf '%s %s' "$tool_spec" "$("$py" -c 'import sys; print(sys.version)')" | sha256sum | cut -c1-16)"
if [[ ! -f "$tools/ready" ]]; then
  mkdir -p "$cache"
  staging="$(mktemp -d "$cache/staging.XXXXXX")"
  "$py" -m venv "$staging/venv"
  # shellcheck disable=SC2086  # the spec is a list of requirements
  "$staging/venv/bin/python" -m pip install --quiet --disable-pip-version-check $tool_spec
  touch "$staging/venv/ready"
  # Two builds at once: the first to finish keeps its copy; `python -m` still works after a move.
  mv -T "$staging/venv" "$tools" 2>/dev/null || true
  rm -rf "$staging"
fi

# Resolve for the runtime. Some dependencies (oss2, crcmod, aliyun-mns-sdk, several
# alibabacloud-* packages) are published only as source and are built here; CC=false makes
# optional C extensions fail to compile, so crcmod falls back to its pure-Python form instead of
# an extension built for this machine's Python. Native packages come as manylinux wheels.
CC=false "$tools/bin/python" -m uv pip install "$src" \
  --target "$out/python" \
  --python-version "$pyver" --python-platform x86_64-manylinux_2_17 \
  --quiet

# The runtime has no use for these; they only add to the code package size.
rm -rf "$out/python/bin"
find "$out/python" -name '__pycache__' -type d -prune -exec rm -rf {} +

if ! "$tools/bin/python" "$root/deploy/check_package.py" "$out" --python "$pyver"; then
  echo "deploy/build.sh: $out would fail on $runtimes (above: what is missing); the folder is" \
       "kept for a look, but do not deploy it" >&2
  exit 1
fi
echo "built $out for $runtimes ($(du -sh "$out" | cut -f1))"
