"""The flows under a deterministic simulation: two or three instances at once, events redelivered
and reordered, throttling, lost answers and cancels, interleaved at every port call by a seeded
scheduler. Every schedule must keep the invariants (invariants.py); a failing one prints its seed,
and `pytest tests/sim --seed N` replays it call for call."""

from __future__ import annotations

import os
import random
import time

import pytest

from imagedrop.decide.repair_track import unrepaired_name
from imagedrop.flows.ingest import ingest_object

from .schedules import (DISK, MANIFEST, NAME, NAMED, Outcome, manifest_body, random_schedule)
from .world import World


def _explore(first: int, count: int) -> list[Outcome]:
    failed = []
    for seed in range(first, first + count):
        outcome = random_schedule(seed)
        if outcome.problems:
            failed.append(outcome)
            if len(failed) >= 5:
                break
    return failed


def test_random_schedules_keep_every_invariant(replay_seed: int | None, schedules: int) -> None:
    if replay_seed is not None:
        outcome = random_schedule(replay_seed)
        assert not outcome.problems, outcome.report()
        return
    # The same stretch every run, so a red run is the code's doing; `bench sim --explore` (or
    # IMAGEDROP_SIM_FIRST) draws new stretches.
    first = int(os.environ.get("IMAGEDROP_SIM_FIRST") or 0)
    started = time.process_time()
    failed = _explore(first, schedules)
    spent = time.process_time() - started
    print(f"\n{schedules} schedules from seed {first} in {spent:.1f} s of CPU")
    assert not failed, "\n".join(o.report() for o in failed)


def test_the_same_seed_gives_the_same_schedule() -> None:
    one, two = random_schedule(4242), random_schedule(4242)
    assert one.world.calls == two.world.calls
    assert [(t.op, t.target, t.at) for t in one.world.touched] == \
           [(t.op, t.target, t.at) for t in two.world.touched]
    assert one.announced() == two.announced()


# ---------------------------------------------------------------- the named schedules


def _named(name: str) -> Outcome:
    outcome = NAMED[name]()
    assert not outcome.problems, outcome.report()
    return outcome


def test_a_cancel_while_a_poll_is_in_flight_stops_it() -> None:
    outcome = _named("cancel while a poll is in flight")
    record = outcome.record
    assert outcome.announced() == ["importing", "cancelled"]
    assert record["state"] == "cancelled"
    # nothing shared, no source deleted: the cancel is final
    assert record["shared_with"] == [] and not record["source_deleted"]
    assert DISK in outcome.world.bucket.objects and MANIFEST in outcome.world.bucket.objects
    assert not any(t.op == "share_image" for t in outcome.world.touched)
    assert any(record["image_id"] in line and "kept" in line for line in record["advice"])


def test_a_cancel_while_a_poll_is_in_flight_starts_no_build() -> None:
    outcome = _named("cancel while a poll is in flight (repair)")
    assert outcome.announced()[-1] == "cancelled"
    assert outcome.world.ecs.pipelines == {} and outcome.world.ecs.builds == {}


def test_a_cancel_past_the_point_of_no_return_is_answered() -> None:
    for name, point in (("cancel while finishing", "finishing"),
                        ("cancel after the build succeeded", "build succeeded"),
                        ("cancel after the build succeeded, before the look", "build succeeded"),
                        ("cancel inside the swap", "build succeeded")):
        outcome = _named(name)
        record = outcome.record
        assert outcome.announced()[-1] == "succeeded", name
        [answer] = [a for a in record["advice"] if a.startswith("a cancel arrived")]
        assert point in answer and record["image_id"] in answer, (name, answer)
        [end] = [e for e in outcome.world.mns.published if e["type"].endswith(".succeeded")]
        assert answer in end["data"]["advice"]   # the notification says so too


def test_an_end_claimed_while_a_state_is_saved_is_announced_last() -> None:
    outcome = _named("an end while a state is saved")
    assert outcome.announced() == ["importing", "cancelled"]
    record = outcome.record
    assert record["state"] == "cancelled" and not record["unannounced"]
    assert outcome.world.outcomes[0][1].outcome == "cancelled"


@pytest.mark.parametrize("keep", [False, True])
def test_a_name_taken_between_the_renames_leaves_every_image_named(keep: bool) -> None:
    outcome = _named("name taken between the renames" + (" (keep unrepaired)" if keep else ""))
    record, ecs = outcome.record, outcome.world.ecs
    repair = record["repair"]
    assert record["state"] == "failed"
    original, repaired = repair["original_image_id"], repair["repaired_image_id"]
    assert repaired and repaired in ecs.images and original in ecs.images
    # the record says which image holds which name, as ECS has them
    assert repair["names"] == {original: ecs.names[original], repaired: ecs.names[repaired]}
    [problem] = record["problems"]
    assert ecs.names[original] in problem["fix"] and repaired in problem["fix"]
    assert not any(i in problem["fix"] for i in outcome.world.foreign_images)


def test_a_name_put_back_when_the_temporary_one_is_taken() -> None:
    outcome = _named("temporary name taken")
    record, ecs = outcome.record, outcome.world.ecs
    repair = record["repair"]
    assert record["state"] == "failed"
    assert ecs.names[repair["original_image_id"]] == NAME          # the original keeps its name
    assert repair["names"][repair["repaired_image_id"]] == ecs.names[repair["repaired_image_id"]]
    assert unrepaired_name(NAME, record["id"]) in record["problems"][0]["rule"]


def test_two_folders_with_the_same_bytes_in_the_same_second_each_get_a_record() -> None:
    world = World(7, random.Random(7))
    body = manifest_body()
    keys = ["incoming/a/web.qcow2.json", "incoming/b/web.qcow2.json"]
    for key in keys:   # their disks not there yet: each waits, under an id of its own
        ingest_object(world.bucket.drop(key, body), world.services)
    records = [world.bucket.json(f"imagedrop/status/{key}") for key in keys]
    assert [r["state"] for r in records] == ["waiting", "waiting"]
    assert records[0]["id"] != records[1]["id"]
    announced = {(e["data"]["id"], e["subject"]) for e in world.mns.published}
    assert announced == {(r["id"], k) for r, k in zip(records, keys)}
