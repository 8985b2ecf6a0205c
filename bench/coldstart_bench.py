"""Cold start: importing each handler module, side by side with importing the three SDKs alone.

Every figure is the median of N fresh interpreters, each timing one import in-process (the
interpreter's own start-up is left out: it is the same for every row). The SDK figure is
`oss2`, `alibabacloud_ecs20140526.client` and `mns.account` imported together; the target is a
handler import of at most 40% of it, which holds only if the handlers load the SDKs lazily.

    python bench/coldstart_bench.py [--runs 9] [--functions DIR] [--markdown]

Exit status: 0 when every handler meets the target, 1 when one does not, 2 when a handler is
missing (functions/<name>/index.py).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.40
SDKS = ("oss2", "alibabacloud_ecs20140526.client", "mns.account")
HANDLERS = ("ingest", "poller")

_TIMER = """
import sys, time
sys.path.insert(0, {path!r}) if {path!r} else None
t = time.perf_counter()
{imports}
print(time.perf_counter() - t)
"""


@dataclass(frozen=True)
class Row:
    name: str
    median_ms: float


def time_import(modules: tuple[str, ...], runs: int, path: str = "") -> float:
    """Median milliseconds to import `modules` in a fresh interpreter, over `runs` interpreters."""
    code = _TIMER.format(path=path, imports="\n".join(f"import {m}" for m in modules))
    samples = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise RuntimeError(f"importing {', '.join(modules)} failed: {last}")
        samples.append(float(done.stdout.strip().splitlines()[-1]) * 1000)
    return statistics.median(samples)


def render(rows: list[Row], sdk_ms: float, markdown: bool) -> str:
    header = ("module", "median ms", "% of SDKs")
    lines = [(r.name, f"{r.median_ms:.1f}", f"{100 * r.median_ms / sdk_ms:.0f}%") for r in rows]
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|---|---:|---:|"]
        return "\n".join(out + ["| " + " | ".join(line) + " |" for line in lines])
    widths = [max(len(c) for c in col) for col in zip(header, *lines)]
    fmt = "  ".join(["{:<%d}" % widths[0]] + ["{:>%d}" % w for w in widths[1:]])
    return "\n".join(fmt.format(*line) for line in [header, *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per row (median)")
    parser.add_argument("--functions", type=Path, default=ROOT / "functions",
                        help="folder holding <name>/index.py for each handler")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)

    missing = [h for h in HANDLERS if not (args.functions / h / "index.py").is_file()]
    if missing:
        print(f"handlers not ready: no index.py for {', '.join(missing)} under {args.functions}",
              file=sys.stderr)
        return 2

    rows = [Row(m, time_import((m,), args.runs)) for m in SDKS]
    sdk = Row("the three SDKs together", time_import(SDKS, args.runs))
    rows.append(sdk)
    handler_rows = [Row(f"functions/{h}/index.py", time_import(("index",), args.runs,
                                                                str(args.functions / h)))
                    for h in HANDLERS]
    rows += handler_rows

    print(render(rows, sdk.median_ms, args.markdown))
    over = [r.name for r in handler_rows if r.median_ms > TARGET * sdk.median_ms]
    verdict = f"over the {TARGET:.0%} target: {', '.join(over)}" if over else \
        f"every handler within {TARGET:.0%} of the SDK figure"
    print(f"\n{verdict} ({args.runs} runs per row, Python {sys.version.split()[0]})")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
