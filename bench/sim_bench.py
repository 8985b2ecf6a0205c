"""`python -m bench sim [N]`: how many simulated schedules of the flows run per second of CPU
(tests/sim: instances interleaved at every port call, redeliveries, faults, cancels)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from tests.sim.schedules import random_schedule

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    started, broken = time.process_time(), 0
    for seed in range(count):
        broken += bool(random_schedule(seed).problems)
    spent = time.process_time() - started
    print(f"sim: {count} schedules in {spent:.1f} s of CPU: {count / spent:.0f} schedules/s; "
          f"{broken} broke an invariant")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
