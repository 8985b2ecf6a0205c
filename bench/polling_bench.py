"""Polling cost: imagedrop's schedule (`poll_decisions.decide` / `next_poll`) against a fixed 5-second poll.

Simulated time, no cloud. An import of duration D: the task is Processing with a TaskProcess that
follows a profile, then Finished with the image Available at t = D.

Counting (ECS API calls):
- imagedrop: the ingest sends the first message with `next_poll(attempt=0)`; each poller
  invocation makes one DescribeTaskAttribute, plus one DescribeImages when `wants_image` says so
  (task no longer Processing/Waiting). Every invocation but the last sends one MNS message.
- fixed poll (what Packer's Alibaba builder does): one DescribeImages every 5 s until Available.
Latency: the time from the task's end to the poll that sees it (the "finishing" notification).
Targets: ≤ 1/15 of the fixed poll's calls; latency ≤ max(60 s, 10 % of D).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from imagedrop.model.events import TrackMessage
from imagedrop.decide.ecs_answers import ImageView, TaskView
from imagedrop.decide.poll_decisions import decide, Imported, next_poll, Wait, wants_image

GIB = 1024 ** 3
FIRST, CAP, DEADLINE = 60, 600, 12 * 3600          # the deployment defaults
Profile = Callable[[float], float]                 # fraction of time elapsed → fraction done

PROFILES: dict[str, Profile] = {
    "linear": lambda x: x,
    "fast start, slow end": lambda x: math.sqrt(x),
    "slow start, fast end": lambda x: x * x,
    "queued 20 %, then linear": lambda x: max(0.0, (x - 0.2) / 0.8),
}

IMPORTS = [("5 min", 300, 5 * GIB), ("30 min", 1800, 30 * GIB), ("3 h", 10800, 200 * GIB)]


@dataclass
class Run:
    calls: int
    invocations: int
    messages: int
    latency: float


def simulate(duration: float, size: int, profile: Profile, *, detection_after: float | None = None) -> Run:
    """Drive `decide` over simulated time; `detection_after` = seconds the image check takes."""
    def task_at(t: float) -> TaskView:
        if t >= duration:
            return TaskView("Finished", 100)
        return TaskView("Processing", int(100 * profile(t / duration)))

    def image_at(t: float) -> ImageView:
        if detection_after is None:
            return ImageView("Available", 100)
        status = "Finished" if t >= duration + detection_after else "Processing"
        return ImageView("Available", 100, detection_status=status)

    msg = TrackMessage(import_id="bench", bucket="b", manifest_key="incoming/x.json",
                       region="cn-hangzhou", task_id="t-1", image_id="m-1", started_at=0.0,
                       total_bytes=size)
    now = float(next_poll(attempt=0, elapsed=0, total_bytes=size, progress=None,
                          first_seconds=FIRST, max_seconds=CAP))
    calls = invocations = 0
    messages = 1                                                     # the ingest's first message
    while True:
        invocations += 1
        task = task_at(now)
        calls += 1
        image = None
        if wants_image(task, msg):
            calls += 1
            image = image_at(now)
        decision = decide(msg, task, image, now, first_seconds=FIRST, max_seconds=CAP,
                          deadline_seconds=DEADLINE, detection_requested=detection_after is not None)
        if isinstance(decision, Imported):
            done = duration + (detection_after or 0)
            return Run(calls, invocations, messages, now - done)
        if not isinstance(decision, Wait) or decision.message is None:
            raise RuntimeError(f"unexpected decision at t={now}: {decision}")
        messages += 1
        msg = decision.message
        now += decision.delay


def fixed_poll_calls(duration: float, every: float = 5.0) -> int:
    return math.ceil(duration / every)


def main() -> int:
    header = (f"{'import':>7} {'progress profile':<26} {'fixed 5 s':>9} {'imagedrop':>9} {'ratio':>7} "
              f"{'target':>7} {'invoc.':>6} {'MNS msgs':>8} {'latency':>8} {'limit':>6}  ok")
    print("ECS API calls per import (imagedrop: DescribeTaskAttribute each poll + DescribeImages "
          "once the task is done;\nfixed: one DescribeImages per 5 s), poller invocations, MNS "
          f"messages sent, and latency after the task ends. first={FIRST}s cap={CAP}s.\n")
    print(header)
    print("-" * len(header))
    all_ok = True
    for label, duration, size in IMPORTS:
        for name, profile in PROFILES.items():
            run = simulate(duration, size, profile)
            fixed = fixed_poll_calls(duration)
            budget = fixed / 15
            limit = max(60.0, duration * 0.10)
            ok = run.calls <= budget and run.latency <= limit
            all_ok &= ok
            print(f"{label:>7} {name:<26} {fixed:>9} {run.calls:>9} {fixed / run.calls:>6.1f}x "
                  f"{budget:>7.1f} {run.invocations:>6} {run.messages:>8} {run.latency:>7.0f}s "
                  f"{limit:>5.0f}s  {'yes' if ok else 'NO'}")
    print("\nWith the image check (4 min after the task, short polls while it runs), linear progress:")
    for label, duration, size in IMPORTS:
        run = simulate(duration, size, PROFILES["linear"], detection_after=240)
        print(f"{label:>7}: {run.calls} calls, {run.invocations} invocations, "
              f"{run.latency:.0f}s after the check ends")
    from bench.repair_sim import report as repair_report

    all_ok &= repair_report()
    print(f"\nall targets met: {'yes' if all_ok else 'NO'}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
