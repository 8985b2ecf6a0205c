"""`python -m bench` runs every bench/*_bench.py; `python -m bench NAME [ARGS]` runs NAME_bench.py."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def _names() -> list[str]:
    return sorted(p.stem[:-len("_bench")] for p in Path(__file__).parent.glob("*_bench.py"))


def main(argv: list[str]) -> int:
    if argv and argv[0] in _names() and len(argv) > 1 and argv[1] not in _names():
        # `python -m bench burst 50`: one benchmark, the rest are its own arguments
        sys.argv = [f"bench/{argv[0]}_bench.py", *argv[1:]]
        return int(importlib.import_module(f"bench.{argv[0]}_bench").main() or 0)
    names = argv or _names()
    unknown = [n for n in names if n not in _names()]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(_names())}",
              file=sys.stderr)
        return 2
    for name in names:
        sys.argv = [f"bench/{name}_bench.py"]
        importlib.import_module(f"bench.{name}_bench").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
