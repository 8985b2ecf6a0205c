"""`python -m bench sim [N] [--explore]`: how many simulated schedules of the flows run per second
of CPU (tests/sim: instances interleaved at every port call, redeliveries, faults, cancels), and
whether any broke an invariant. Without `--explore` it runs the seeds the tests run (from 0); with
it, N seeds from a fresh random start, each failure printed with the command that replays it."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from tests.sim.schedules import random_schedule

    args = [a for a in sys.argv[1:] if a != "--explore"]
    count = int(args[0]) if args else 1000
    first = random.SystemRandom().randrange(1 << 40) if "--explore" in sys.argv else 0
    started, broken = time.process_time(), 0
    for seed in range(first, first + count):
        outcome = random_schedule(seed)
        if outcome.problems:
            broken += 1
            print(outcome.report())
    spent = time.process_time() - started
    print(f"sim: {count} schedules from seed {first} in {spent:.1f} s of CPU: "
          f"{count / spent:.0f} schedules/s; {broken} broke an invariant")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
