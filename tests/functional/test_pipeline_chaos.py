"""Random faults over every call the pipeline makes, lost responses above all: the service did
the work (the import task exists, the message is queued, the record is written) but the caller saw
a reset or a 5xx and tries again. Several imports run at once on the emulated clock; afterwards,
whatever the faults were:

- every import is in exactly one terminal state, announced by one terminal notification;
- never two images for one import, nor two copies of it in one region;
- sources stay unless the import succeeded with delete_source_on_success;
- nothing sits in the dead-letter queue without the status record saying why.

The seeds are fixed: a failing seed replays the same faults in the same order.
"""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from pipeline_harness import Harness

from imagedrop.cloud import retry
from imagedrop_emulator.faults import Faults
from imagedrop.model.events import TrackMessage

TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}
BUCKET = "imagedrop-local"
DLQ = "imagedrop-track-dlq"
BEFORE = ("throttle", "500", "503", "reset")          # the service never saw the call
LOST = ("lost-reset", "lost-500", "lost-503")         # the service did it; the answer was lost
# Calls whose repetition could do harm if the pipeline were not idempotent.
EFFECTFUL = (("ecs", "ImportImage"), ("ecs", "CopyImage"), ("ecs", "ModifyImageAttribute"),
             ("ecs", "ModifyImageSharePermission"), ("ecs", "CancelTask"),
             ("mns", "SendMessage"), ("mns", "PublishMessage"),
             ("oss", "PutObject"), ("oss", "DeleteObject"))
SEEDS = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]


@pytest.fixture(autouse=True)
def no_real_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries back off on the wall clock; the schedule is not what is under test here."""
    monkeypatch.setitem(retry.with_retries.__kwdefaults__, "initial", 0.0)
    monkeypatch.setitem(retry.with_retries.__kwdefaults__, "maximum", 0.0)


@dataclass
class Drop:
    name: str                        # image name, unique per import
    manifest_key: str
    sources: list[str]
    manifest: dict[str, Any]
    expect: set[str]                 # terminal states this import may end in
    cancel: bool = False


def _put(h: Harness, key: str, data: bytes) -> None:
    """The producer's upload, past the fault knobs: the pipeline's calls are what is tested."""
    h.cloud.oss.put_object(BUCKET, key, data)


def _drops(h: Harness) -> list[Drop]:
    disk, base = h.sample()
    system = disk.read_bytes()
    data = h.fixture("ext4-bare.qcow2").read_bytes()
    out = [
        Drop("copied", "incoming/copied.qcow2.json", ["incoming/copied.qcow2"],
             {**base, "image_name": "chaos-copied", "copy_to_regions": ["cn-shanghai", "ap-northeast-1"],
              "share_with_accounts": ["1000000000000001", "1000000000000002"],
              "image_family": "chaos-family"}, {"succeeded"}),
        Drop("twodisks", "incoming/twodisks.qcow2.json",
             ["incoming/twodisks.qcow2", "incoming/twodisks-data.qcow2"],
             {**base, "image_name": "chaos-twodisks", "data_disks": [{"object": "twodisks-data.qcow2"}],
              "delete_source_on_success": True}, {"succeeded"}),
        Drop("shared", "incoming/shared.qcow2.json", ["incoming/shared.qcow2"],
             {**base, "image_name": "chaos-shared", "share_with_accounts": ["1000000000000003"],
              "copy_to_regions": ["cn-beijing"], "delete_source_on_success": True}, {"succeeded"}),
        # The cancel may land before the import is recorded (then there is nothing to cancel yet)
        Drop("cancelled", "incoming/cancelled.qcow2.json", ["incoming/cancelled.qcow2"],
             {**base, "image_name": "chaos-cancelled"}, {"cancelled", "succeeded"}, cancel=True),
        Drop("refused", "incoming/refused.qcow2.json", ["incoming/refused.qcow2"],
             {**base, "image_name": "chaos-refused", "os_type": "plan9"}, {"rejected"}),
    ]
    for drop in out:
        for key in drop.sources:
            _put(h, key, data if key.endswith("-data.qcow2") else system)
        _put(h, drop.manifest_key, json.dumps(drop.manifest).encode())
    return out


def fault_mix(seed: int) -> Faults:
    """A few percent of every call fails before the service sees it; every effectful call also
    loses its answer now and then, each in its own way."""
    rng = random.Random(seed)
    faults = Faults(seed=seed)
    for service in ("oss", "ecs", "mns"):
        faults.add(service, "*", rng.choice(BEFORE), rate=round(rng.uniform(0.02, 0.08), 3))  # type: ignore[arg-type]
    for service, action in EFFECTFUL:
        faults.add(service, action, rng.choice(LOST), rate=round(rng.uniform(0.05, 0.3), 3))  # type: ignore[arg-type]
    return faults


def run_chaos(h: Harness, faults: Faults) -> list[Drop]:
    drops = _drops(h)
    h.cloud.faults = faults
    h.cloud.pump.pump()  # the first ingest attempts
    for drop in drops:
        if drop.cancel:
            _put(h, drop.manifest_key + ".cancel", b"")
    h.run()
    h.cloud.faults = Faults()  # the checks below read through the same doors
    return drops


# ---------------------------------------------------------------- the promises


def assert_promises_kept(h: Harness, drops: list[Drop]) -> None:
    keys = set(h.keys())
    for drop in drops:
        record = h.status(drop.manifest_key)
        events = h.events(drop.manifest_key)
        where = (f"{drop.name}: {record.model_dump_json(indent=1)}\n"
                 f"events: {[e['id'].rsplit('-', 2)[1:] for e in events]}\n"
                 f"{_trail(h, record.id)}")
        assert record.state in drop.expect, where
        assert not record.announcement_pending, where
        # One terminal notification: one CloudEvent. Over a lossy network it can arrive twice (a lost
        # PublishMessage answer is retried), always with the same id, which consumers deduplicate on.
        # When the topic refused it on every try, the record keeps the failure instead.
        ends = {(e["data"]["id"], e["type"], e["id"]) for e in events
                if e["type"].rsplit(".", 1)[-1] in TERMINAL}
        final = f"{record.id}-{record.state}-{len(record.history)}"
        undelivered = {f.get("event") for f in record.notifications if f["channel"] == "mns-topic"}
        assert ends == {(record.id, f"imagedrop.import.{record.state}", final)} or \
            (not ends and final in undelivered), where
        # and no state change went unannounced (a waiting record is quiet until its manifest comes)
        sent = {e["id"] for e in events} | undelivered
        for n, change in enumerate(record.history, 1):
            if change.state != "waiting":
                assert f"{record.id}-{change.state}-{n}" in sent, (n, change, where)
        # never two images for one import, nor two copies in one region
        images = [i for i in h.images() if i.name == drop.manifest["image_name"]]
        per_region = Counter(i.region for i in images)
        assert all(n == 1 for n in per_region.values()), (drop.name, per_region)
        tasks = [t for t in h.cloud.ecs.tasks.values() if t.image_id in {i.image_id for i in images}]
        assert len(tasks) <= 1, (drop.name, tasks)
        if record.state == "succeeded":
            assert set(per_region) == {"cn-hangzhou", *drop.manifest.get("copy_to_regions", [])}, where
            assert record.image_id in h.cloud.ecs.images
            for image in images:  # the image and each copy, shared as asked
                assert image.status == "Available", (drop.name, image.region, image.status)
                assert sorted(image.shared_with) == sorted(drop.manifest.get("share_with_accounts", []))
        if record.state == "rejected":
            assert images == [], where
        # sources untouched unless deleted after success
        gone = record.state == "succeeded" and drop.manifest.get("delete_source_on_success", False)
        for key in [*drop.sources, drop.manifest_key]:
            assert (key not in keys) == gone, (drop.name, key, sorted(keys))
        assert record.source_deleted == gone, where
    # nothing dead-lettered without the record saying why
    for message in h.cloud.mns.queue(DLQ).messages.values():
        body = message.body if isinstance(message.body, str) else message.body.decode()
        if body.lstrip().startswith("{") and "requestContext" in body:
            # FC's record of an async invocation that failed every retry: each import's record
            # was checked above to have ended and been announced
            continue
        msg = TrackMessage.model_validate_json(base64.b64decode(message.body))
        record = h.status(msg.manifest_key)
        assert record.id != msg.import_id or record.terminal or record.problems, record


def _decoded(body: str) -> str:
    try:
        return base64.b64decode(body).decode(errors="replace")
    except ValueError:
        return ""


def _trail(h: Harness, import_id: str) -> str:
    """What the pipeline left of one import besides its record, for a failure's message: its
    claims and markers, and every failed delivery of its messages."""
    markers = {}
    for key in h.keys("imagedrop/"):
        if import_id in key:
            markers[key] = h.bucket.get_object(key).read().decode(errors="replace")[:200]
    failed = [f"{f.name} attempt {f.attempts}: {f.error}" for f in h.cloud.pump.errors
              if import_id.encode() in f.payload]
    dead = [f"{d.attempts} tries: {d.error}" for t in h.cloud.mns.triggers for d in t.dead
            if import_id in d.body or import_id in _decoded(d.body)]
    return (f"markers: {json.dumps(markers, indent=1)}\nfailed deliveries: {failed}\n"
            f"dead-lettered by the trigger: {dead}")


@pytest.mark.parametrize("seed", SEEDS)
def test_random_faults_with_lost_responses_keep_every_promise(
        stack: Harness, clean_env: pytest.MonkeyPatch, seed: int) -> None:
    # Two tries per call, so that faults also fail whole invocations and the platform's retries
    # (FC async retries, EventBridge redelivery) run steps again from the top
    clean_env.setenv("IMAGEDROP_API_ATTEMPTS", "2")
    faults = fault_mix(seed)
    drops = run_chaos(stack, faults)
    assert {k for _, _, k in faults.injected} & set(LOST), "the mix should have lost some answers"
    assert_promises_kept(stack, drops)


# ---------------------------------------------------------------- each bug the chaos found, scripted


def _one_try_per_call(env: pytest.MonkeyPatch) -> None:
    """Every fault fails the invocation: the platform's retries run the step again from the top."""
    env.setenv("IMAGEDROP_API_ATTEMPTS", "1")


def _terminal_events(h: Harness, manifest_key: str) -> list[str]:
    return [e["id"] for e in h.events(manifest_key) if e["type"].rsplit(".", 1)[-1] in TERMINAL]


def _dead_letters(h: Harness) -> list[object]:
    return [d for t in h.cloud.mns.triggers for d in t.dead]


def test_a_lost_answer_to_the_terminal_save_still_announces_the_end(
        stack: Harness, clean_env: pytest.MonkeyPatch) -> None:
    # Given a running import, and a cancel whose record save is done but answered with a 500
    _one_try_per_call(clean_env)
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.cloud.pump.pump()
    assert stack.status(key).state == "importing"
    stack.cloud.faults.script("oss", "PutObject", [None, "lost-500"])  # terminal marker, then the record
    _put(stack, key + ".cancel", b"")
    # When the platform retries the failed invocation
    stack.run()
    # Then the retry, finding the import already cancelled, still announces it: once
    assert ("oss", "PutObject", "lost-500") in stack.cloud.faults.injected
    record = stack.status(key)
    assert record.state == "cancelled" and not record.announcement_pending
    assert _terminal_events(stack, key) == [f"{record.id}-cancelled-{len(record.history)}"]


def test_a_throttled_send_message_is_retried_not_a_refusal(stack: Harness) -> None:
    # MNS answers flow control with 429 TooManyRequests: a throttle, retried like any other, so
    # the poller's next poll throttled once does not fail the import
    stack.cloud.faults.script("mns", "SendMessage", [None, "throttle"])
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    assert ("mns", "SendMessage", "throttle") in stack.cloud.faults.injected
    record = stack.status(key)
    assert record.state == "succeeded" and record.problems == []
    assert stack.states(key) == ["importing", "checking", "finishing", "succeeded"]
    assert len(stack.images()) == 1


def test_a_finishing_step_that_failed_finishes_when_run_again(
        stack: Harness, clean_env: pytest.MonkeyPatch) -> None:
    # Given the first share of the image fails, after the record moved to finishing
    _one_try_per_call(clean_env)
    stack.cloud.faults.script("ecs", "ModifyImageSharePermission", ["503"])
    disk, manifest = stack.sample()
    manifest["share_with_accounts"] = ["1000000000000001"]
    key = stack.drop(disk, manifest)
    # When the step runs again
    stack.run()
    # Then it does not trip over its own "finishing" (a refused transition, dead-lettered): it ends
    assert ("ecs", "ModifyImageSharePermission", "503") in stack.cloud.faults.injected
    record = stack.status(key)
    assert record.state == "succeeded", record.history
    assert stack.states(key) == ["importing", "checking", "finishing", "succeeded"]
    assert stack.cloud.ecs.images[record.image_id].shared_with == ["1000000000000001"]
    assert _dead_letters(stack) == []


def test_an_outage_longer_than_the_redeliveries_does_not_strand_the_import(
        stack: Harness, clean_env: pytest.MonkeyPatch) -> None:
    # Given DescribeTaskAttribute fails more often than EventBridge redelivers a message (1 + 3)
    _one_try_per_call(clean_env)
    stack.cloud.faults.script("ecs", "DescribeTaskAttribute", ["503"] * 6)
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    # Then the poller queued its own retries instead of failing into the dead-letter queue
    assert stack.cloud.faults.injected.count(("ecs", "DescribeTaskAttribute", "503")) == 6
    assert _dead_letters(stack) == []
    assert stack.status(key).state == "succeeded"
    assert _terminal_events(stack, key) and len(set(_terminal_events(stack, key))) == 1


def test_an_ingest_that_never_recorded_its_import_is_recorded_by_the_poller(
        stack: Harness, clean_env: pytest.MonkeyPatch) -> None:
    # Given the disk waits quietly for its manifest, then every ingest attempt of the manifest
    # queues the tracking message but fails to save the record (and the platform gives up)
    _one_try_per_call(clean_env)
    disk, manifest = stack.sample()
    manifest["delete_source_on_success"] = True
    _put(stack, "incoming/web.qcow2", disk.read_bytes())
    stack.cloud.pump.pump()
    # the claim, the mark that ImportImage is called and the import's lease go through; then
    # the record's claim fails
    stack.cloud.faults.script("oss", "PutObject", [None, None, None, "503"] * 4)
    _put(stack, "incoming/web.qcow2.json", json.dumps(manifest).encode())
    stack.run()
    # Then the poller, not the stale quiet record, decides: the import is recorded from its claim,
    # followed to the end, and its sources are deleted as asked
    assert [f.name for f in stack.cloud.pump.failures] == ["imagedrop-ingest"]
    record = stack.status("incoming/web.qcow2.json")
    assert record.state == "succeeded", record.history
    assert [d.key for d in record.disks] == ["incoming/web.qcow2"] and record.image_name == manifest["image_name"]
    assert stack.states("incoming/web.qcow2.json") == ["importing", "checking", "finishing", "succeeded"]
    assert len(stack.images()) == 1
    assert stack.keys("incoming/") == []


def test_a_refusal_that_could_not_be_announced_does_not_replace_the_running_import(
        stack: Harness) -> None:
    # Given an import running, and the topic failing every try while a new version is refused
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.cloud.pump.pump()
    running = stack.status(key)
    assert running.state == "importing"
    stack.cloud.faults.script("mns", "PublishMessage", ["503"] * 4)
    _put(stack, key, json.dumps({**manifest, "description": "second version"}).encode())
    stack.cloud.pump.pump()
    # Then the failed refusal is not saved over the running import's record, which goes on to the end
    assert stack.status(key).id == running.id
    stack.run()
    record = stack.status(key)
    assert (record.id, record.state) == (running.id, "succeeded")
    assert len(stack.images()) == 1


def test_a_finish_that_fails_until_the_deadline_says_the_image_exists(
        stack: Harness, clean_env: pytest.MonkeyPatch) -> None:
    # Given sharing fails with 503 on every call, and a deadline of half an hour
    clean_env.setenv("IMAGEDROP_DEADLINE_HOURS", "0.5")
    stack.cloud.faults.add("ecs", "ModifyImageSharePermission", "503")
    disk, manifest = stack.sample()
    key = stack.drop(disk, {**manifest, "share_with_accounts": ["1234567890123456"]})
    stack.run()
    # Then the import ends failed, once, and says the image it made is there
    record = stack.status(key)
    assert record.state == "failed" and record.problems[0].code == "ServiceUnavailable", record.problems
    assert len(set(_terminal_events(stack, key))) == 1
    assert any(f"image {record.image_id} was imported and is kept" in a for a in record.advice), record.advice
    assert len(stack.images()) == 1
