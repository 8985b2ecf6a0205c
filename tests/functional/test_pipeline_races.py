"""Races between Function Compute instances, through the local stack: several invocations run at
once (threads), the same event sometimes goes to two instances at the same moment, and a cancel
lands while the manifest's ingest is half-way. Real SDK clients throughout; the clock is frozen, so
only the order of the instances varies.

Every import still ends once, every state is announced once, and a cancel is never undone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from pipeline_harness import TERMINAL, Harness, running, until

SLOW_IMPORT = "ecs:ImportImage:latency=400ms"  # holds the ingest inside ImportImage for a moment


@pytest.fixture
def twins(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Iterator[Harness]:
    """Every event delivered to two instances at once, four instances at most."""
    yield from running(tmp_path, faults="", concurrency=4, twins=1.0, seed=7)


@pytest.fixture
def slow_import(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Iterator[Harness]:
    yield from running(tmp_path, faults=SLOW_IMPORT, concurrency=4)


def _announced(h: Harness, manifest_key: str) -> list[tuple[str, str]]:
    return [(e["data"]["id"], e["type"].rsplit(".", 1)[-1]) for e in h.events(manifest_key)]


def _once_each(h: Harness, manifest_key: str) -> list[str]:
    """The states announced, asserting that none was announced twice for the same import."""
    announced = _announced(h, manifest_key)
    assert len(announced) == len(set(announced)), announced
    return [state for _, state in announced]


# ---------------------------------------------------------------- (c) one event, two instances


def test_the_same_events_in_two_instances_at_once_announce_every_state_once(twins: Harness) -> None:
    # Given every event (the uploads', every poll message) handed to two instances at the same moment
    disk, manifest = twins.sample()
    key = twins.drop(disk, manifest)
    # When the import runs to its end
    twins.run()
    # Then each state was announced once, the import ended once, with one image
    assert twins.stack.twins.delivered > 0
    assert twins.stack.cloud.pump.most_at_once >= 2
    assert _once_each(twins, key) == ["importing", "checking", "finishing", "succeeded"]
    assert twins.status(key).state == "succeeded"
    assert len(twins.images()) == 1


def test_many_imports_with_twinned_events_each_end_once(twins: Harness) -> None:
    disk, manifest = twins.sample()
    keys = [twins.drop(disk, {**manifest, "image_name": f"race-{i}"}, key=f"incoming/race/{i}/web.qcow2")
            for i in range(6)]
    twins.run()
    for key in keys:
        assert _once_each(twins, key) == ["importing", "checking", "finishing", "succeeded"], key
    assert len(twins.images()) == 6


def test_a_refusal_while_another_import_runs_is_announced_once(twins: Harness) -> None:
    # Given an import under way
    disk, manifest = twins.sample()
    key = twins.drop(disk, manifest, one_by_one=True)
    first = twins.status(key)
    assert first.state == "importing"
    # When another version of its manifest lands, its event goes to two instances at once, and
    # once the first import has ended the same event comes again (a late delivery)
    twins.put(key, json.dumps({**manifest, "description": "v2"}))
    twins.cloud.pump.pump()
    twins.run()
    [late] = [p for f, p in twins.stack.invocations if f == "imagedrop-ingest"][-1:]
    twins.stack.sink("imagedrop-ingest")(late.encode())
    twins.run()
    # Then the first import succeeded once, and the second version was rejected once
    assert twins.status(key).state == "succeeded"
    ends = [(rid, state) for rid, state in _announced(twins, key) if state in TERMINAL]
    assert sorted(state for _, state in ends) == ["rejected", "succeeded"], ends
    assert len(twins.images()) == 1


# ---------------------------------------------------------------- (a) a cancel while the ingest runs


def test_a_cancel_handled_while_the_ingest_runs_is_not_undone(
        tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    for h in running(tmp_path, faults="", concurrency=4):
        # Given a manifest waiting for its disk
        disk, manifest = h.sample()
        key = "incoming/web.qcow2.json"
        h.put(key, json.dumps(manifest))
        h.cloud.pump.pump()
        assert h.status(key).state == "waiting"
        # and ECS carrying out ImportImage, then, before its answer reaches the ingest, the cancel
        # handled by another instance
        carry_out = h.cloud.ecs.import_image

        def import_image_meanwhile_cancelled(params: dict[str, str]) -> dict[str, str]:
            answer = carry_out(params)
            h.cloud.oss.put_object(h.info.bucket, key + ".cancel", b"")
            h.cloud.pump.pump(wait=False)  # the cancel's event, on a free instance
            until(lambda: h.status(key).state == "cancelled")
            return answer

        h.cloud.ecs.import_image = import_image_meanwhile_cancelled  # type: ignore[method-assign]
        # When the disk arrives
        h.put("incoming/web.qcow2", disk)
        h.run()
        # Then the import ends cancelled, once, its task cancelled: nothing announced after the end
        record = h.status(key)
        assert record.state == "cancelled", record.model_dump_json(indent=1)
        assert _once_each(h, key) == ["waiting", "cancelled"]
        [task] = h.cloud.ecs.tasks.values()
        assert task.status == "Cancelled" and h.images() == []
        assert record.task_id == task.task_id  # the record says which task was cancelled


def test_a_cancel_before_anything_was_recorded_ends_the_import_cancelled(slow_import: Harness) -> None:
    h = slow_import
    disk, manifest = h.sample()
    key = "incoming/web.qcow2.json"
    # Given the disk and manifest uploaded, and the cancel right behind them, all handled at once
    h.put("incoming/web.qcow2", disk)
    h.put(key, json.dumps(manifest))
    h.put(key + ".cancel", b"")
    h.run()
    # Then the import ends cancelled, and its task (if ImportImage ran) is cancelled
    assert h.status(key).state == "cancelled"
    states = _once_each(h, key)
    assert states[-1] == "cancelled" and states.count("cancelled") == 1
    assert "succeeded" not in states
    assert all(t.status == "Cancelled" for t in h.cloud.ecs.tasks.values())
    assert h.images() == []


# ---------------------------------------------------------------- (b) a cancel after a lost answer


def test_a_cancel_after_a_lost_import_answer_cancels_the_task_it_resolved(
        tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    for h in running(tmp_path, faults="", concurrency=4):
        disk, manifest = h.sample()
        # Given ImportImage carried out on every try of the ingest, each answer lost
        h.cloud.faults.add("ecs", "ImportImage", "lost-reset", times=4)
        key = h.drop(disk, manifest, one_by_one=True)
        record = h.status(key)
        assert record.state == "waiting" and not record.task_id
        [task] = h.cloud.ecs.tasks.values()
        assert task.status == "Processing"  # ECS works on the import nobody has the ids of
        # When a cancel arrives before the platform retries the ingest
        h.put(key + ".cancel", b"")
        h.run()
        # Then the cancel resolved the ClientToken, cancelled that task and says which
        record = h.status(key)
        assert record.state == "cancelled", record.model_dump_json(indent=1)
        assert (record.task_id, record.image_id) == (task.task_id, task.image_id)
        assert task.status == "Cancelled" and h.images() == []
        assert _once_each(h, key) == ["waiting", "cancelled"]
        # And uploading the manifest again imports it: the name is free
        h.put(key, json.dumps(manifest))
        h.run()
        again = h.status(key)
        assert again.state == "succeeded", again.model_dump_json(indent=1)
        assert len(h.images()) == 1


# ---------------------------------------------------------------- (d) a cancel while a poll runs


@pytest.mark.parametrize("repair", [False, True], ids=["plain", "repair-auto"])
def test_a_cancel_while_a_poll_is_in_flight_is_final(
        tmp_path: Path, clean_env: pytest.MonkeyPatch, repair: bool) -> None:
    for h in running(tmp_path, faults="", concurrency=4):
        # Given an import under way that asks to share its image and delete its sources (and
        # to repair what ECS's check finds at risk)
        if repair:
            h.cloud.ecs.scenario.detection = [
                {"Name": "GUESTOS.Fstab", "Value": "/dev/sda1", "RiskLevel": "High",
                 "RiskCode": "Fstab.DeviceName"}]
        disk, manifest = h.sample()
        asks = {"share_with_accounts": ["1234567890123457"], "delete_source_on_success": True,
                **({"repair": "auto"} if repair else {})}
        key = h.drop(disk, {**manifest, **asks}, one_by_one=True)
        record = h.status(key)
        assert record.state == "importing"
        # and the poller asking ECS about the finished task when the cancel lands, handled by
        # another instance while the poll is in flight
        look_up = h.cloud.ecs.task
        landed: list[bool] = []

        def task_meanwhile_cancelled(region: str, task_id: str):  # type: ignore[no-untyped-def]
            task = look_up(region, task_id)
            if task.status == "Finished" and not landed:
                landed.append(True)
                h.cloud.oss.put_object(h.info.bucket, key + ".cancel", b"")
                h.cloud.pump.pump(wait=False)
                until(lambda: bool(h.keys(f"imagedrop/cancel/{record.id}")))
            return task

        h.cloud.ecs.task = task_meanwhile_cancelled  # type: ignore[method-assign]
        # When the import runs to its end
        h.run()
        # Then it ends cancelled, once, and nothing happens after: no share, no source deleted,
        # no build; the image that the record says is kept is there
        assert landed
        end = h.status(key)
        assert end.state == "cancelled", end.model_dump_json(indent=1)
        states = _once_each(h, key)
        assert states[-1] == "cancelled" and "finishing" not in states and "repairing" not in states
        assert end.shared_with == [] and not end.source_deleted
        assert key in h.keys("incoming/") and "incoming/web.qcow2" in h.keys("incoming/")
        assert h.cloud.ecs.pipelines == {}
        [image] = h.images()
        assert image.image_id == end.image_id and not image.shared_with
        assert any(end.image_id in line and "kept" in line for line in end.advice)
