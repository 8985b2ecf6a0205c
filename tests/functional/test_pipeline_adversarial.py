"""An outside reviewer trying to break the pipeline on the deterministic local stack: odd keys,
multipart and copied disks, manifests replaced mid-import, disks that never come, broken files.
Each case ends in one terminal state (or the documented `waiting`) with one terminal notification
per import, problems that say where, what and how to fix, and sources left alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import oss2
import pytest
from pipeline_harness import Harness

from imagedrop.model.status import StatusRecord

TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}


# ---------------------------------------------------------------- helpers

def _ends_by_import(h: Harness, manifest_key: str) -> dict[str, list[str]]:
    """Terminal notification states per import id, for one manifest key."""
    ends: dict[str, list[str]] = {}
    for event in h.events(manifest_key):
        state = event["type"].rsplit(".", 1)[-1]
        if state in TERMINAL:
            ends.setdefault(event["data"]["id"], []).append(state)
    return ends


def _one_terminal(h: Harness, manifest_key: str) -> str:
    record = h.status(manifest_key)
    ends = _ends_by_import(h, manifest_key)
    assert ends.get(record.id) == [record.state], f"{record.id}: {h.states(manifest_key)}"
    return record.state


def _clear_problems(h: Harness, manifest_key: str) -> str:
    """Every problem names where, which rule and what to do; returns them as one text."""
    record = h.status(manifest_key)
    assert record.problems, record.model_dump_json(indent=1)
    for problem in record.problems:
        assert problem.where.strip() and problem.rule.strip(), problem
        assert problem.fix.strip(), f"no fix given: {problem.line()}"
    return " ".join(p.line() for p in record.problems)


def _sources_stay(h: Harness, *keys: str) -> None:
    assert set(keys) <= set(h.keys()), sorted(h.keys())


def _importing(h: Harness) -> tuple[str, StatusRecord, dict[str, Any]]:
    """The sample dropped and its import running: its key, first record and manifest."""
    disk, manifest = h.sample()
    key = h.drop(disk, manifest)
    h.cloud.pump.pump()
    first = h.status(key)
    assert first.state == "importing"
    return key, first, manifest


def _imported(h: Harness) -> tuple[str, StatusRecord, Path, dict[str, Any]]:
    """The sample dropped and run to its end: its key, first record, disk and manifest."""
    disk, manifest = h.sample()
    key = h.drop(disk, manifest)
    h.run()
    return key, h.status(key), disk, manifest


def _succeeded_once_at(h: Harness, manifest_key: str, disk_key: str) -> None:
    """The record sits at the manifest's own key, its disk at `disk_key`, and it succeeded once."""
    record = h.status(manifest_key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    assert record.disks[0].key == disk_key
    assert _one_terminal(h, manifest_key) == "succeeded"


# ---------------------------------------------------------------- keys

@pytest.mark.parametrize("key", [
    "incoming/with space/web image.qcow2",
    "incoming/plus+sign/web+1.qcow2",
    "incoming/percent%20literal/web%2B.qcow2",
    "incoming/日本語/イメージ.qcow2",
    "incoming/a/b/c/d/e/f/g/h/deep.qcow2",
], ids=["space", "plus", "percent", "unicode", "deep"])
def test_odd_keys_import_once(stack: Harness, key: str) -> None:
    # Given a disk and its manifest under a key a producer could well choose
    disk, manifest = stack.sample()
    manifest_key = stack.drop(disk, manifest, key=key)
    # When the pipeline runs
    stack.run()
    # Then the record sits at the manifest's own key and the import succeeded, once
    _succeeded_once_at(stack, manifest_key, key)
    assert len(stack.images()) == 1
    _sources_stay(stack, key, manifest_key)


# ---------------------------------------------------------------- how the disk arrives

def test_multipart_upload_of_the_disk_starts_the_import(stack: Harness) -> None:
    disk, manifest = stack.sample()
    stack.put("incoming/web.qcow2.json", json.dumps(manifest))
    stack.run()
    assert stack.status("incoming/web.qcow2.json").state == "waiting"
    # When the disk arrives by multipart upload (CompleteMultipartUpload event)
    oss2.resumable_upload(stack.bucket, "incoming/web.qcow2", str(disk), multipart_threshold=100 * 1024,
                          part_size=100 * 1024, store=oss2.ResumableStore(root=str(stack.tmp)))
    stack.run()
    record = stack.status("incoming/web.qcow2.json")
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    assert _one_terminal(stack, "incoming/web.qcow2.json") == "succeeded"
    assert len(stack.images()) == 1


def test_copied_disk_starts_the_import(stack: Harness) -> None:
    disk, manifest = stack.sample()
    stack.put("staging/web.qcow2", disk)          # outside the watched prefix: no event
    stack.put("incoming/web.qcow2.json", json.dumps(manifest))
    stack.run()
    stack.bucket.copy_object(stack.info.bucket, "staging/web.qcow2", "incoming/web.qcow2")
    stack.run()
    assert _one_terminal(stack, "incoming/web.qcow2.json") == "succeeded"
    assert len(stack.images()) == 1


# ---------------------------------------------------------------- manifest replaced

def test_manifest_replaced_while_importing_is_refused_and_the_first_import_goes_on(stack: Harness) -> None:
    key, first, manifest = _importing(stack)
    # When a different manifest lands under the same key while the import runs
    stack.put(key, json.dumps({**manifest, "description": "second version"}))
    stack.run()
    # Then the first import finishes unaffected, and the refusal was announced clearly
    record = stack.status(key)
    assert record.id == first.id and record.state == "succeeded"
    assert len(stack.images()) == 1
    ends = _ends_by_import(stack, key)
    assert ends[first.id] == ["succeeded"]
    refused = [i for i in ends if i != first.id]
    assert len(refused) == 1 and ends[refused[0]] == ["rejected"]
    refusal = next(e for e in stack.events(key) if e["data"]["id"] == refused[0])
    text = " ".join(refusal["data"]["problems"])
    assert key in text and "cancel" in text and "wait" in text
    # the refusal is about the new version: it carries none of the running import's facts
    assert refusal["data"]["image_id"] is None and refusal["data"]["task_id"] is None
    assert first.id in refusal["data"]["note"]


def test_manifest_replaced_after_success_with_the_same_name_is_rejected_with_advice(stack: Harness) -> None:
    key, first, _, manifest = _imported(stack)
    assert first.state == "succeeded"
    # When a new manifest version arrives after the import ended, with the same image_name
    stack.put(key, json.dumps({**manifest, "description": "second version"}))
    stack.run()
    # Then it is a new import, which ECS refuses: the name is taken
    record = stack.status(key)
    assert record.id != first.id
    assert record.state == "rejected"
    text = _clear_problems(stack, key)
    assert "InvalidImageName.Duplicated" in text and "image_name" in text
    assert _one_terminal(stack, key) == "rejected"
    assert _ends_by_import(stack, key)[first.id] == ["succeeded"]
    assert len(stack.images()) == 1


def test_manifest_replaced_after_success_with_a_new_name_imports_again(stack: Harness) -> None:
    key, first, _, manifest = _imported(stack)
    stack.put(key, json.dumps({**manifest, "image_name": "web-2026.12"}))
    stack.run()
    record = stack.status(key)
    assert record.id != first.id and record.state == "succeeded"
    assert _one_terminal(stack, key) == "succeeded"
    assert len(stack.images()) == 2


def test_the_same_content_uploaded_again_makes_no_new_import(stack: Harness) -> None:
    key, first, disk, manifest = _imported(stack)
    events = len(stack.events())
    # When both objects are uploaded again, byte for byte (same ETags)
    stack.drop(disk, manifest)
    stack.run()
    assert stack.status(key).id == first.id
    assert len(stack.images()) == 1
    assert len(stack.events()) == events


# ---------------------------------------------------------------- missing and extra objects

def test_manifest_for_a_disk_that_never_arrives_waits_and_says_for_what(stack: Harness) -> None:
    _, manifest = stack.sample()
    stack.put("incoming/ghost.qcow2.json", json.dumps(manifest))
    stack.run()
    record = stack.status("incoming/ghost.qcow2.json")
    assert record.state == "waiting"
    assert "incoming/ghost.qcow2" in (record.progress or "")
    assert stack.states("incoming/ghost.qcow2.json") == ["waiting"]
    assert stack.images() == []


def test_data_disks_in_a_subfolder(stack: Harness) -> None:
    disk, manifest = stack.sample()
    manifest["data_disks"] = [{"object": "data/one.qcow2"}, {"object": "data/more/two.qcow2", "size_gib": 5}]
    stack.put("incoming/data/one.qcow2", stack.fixture("ext4-bare.qcow2"))
    stack.put("incoming/data/more/two.qcow2", stack.fixture("mbr-linux.qcow2"))
    key = stack.drop(disk, manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    assert [d.key for d in record.disks] == ["incoming/web.qcow2", "incoming/data/one.qcow2",
                                             "incoming/data/more/two.qcow2"]
    assert record.disks[2].disk_gib == 5
    assert _one_terminal(stack, key) == "succeeded"
    # the data disks are nobody's manifest: no stray records for them
    assert [k for k in stack.keys("imagedrop/status/")] == ["imagedrop/status/" + key]


def test_objects_outside_the_watched_prefix_are_ignored(stack: Harness) -> None:
    disk, manifest = stack.sample()
    stack.drop(disk, manifest, key="elsewhere/web.qcow2")
    stack.drop(disk, manifest, key="incomingx/web.qcow2")
    stack.run()
    assert stack.keys("imagedrop/") == []
    assert stack.events() == [] and stack.images() == []


def test_an_event_for_the_state_prefix_never_triggers(stack: Harness) -> None:
    # Given someone writes under imagedrop/ and an event for it reaches the function anyway
    disk, manifest = stack.sample()
    stack.put("imagedrop/web.qcow2", disk)
    stack.put("imagedrop/web.qcow2.json", json.dumps(manifest))
    event = _oss_event(stack, "imagedrop/web.qcow2.json")
    result = stack.stack.sink("imagedrop-ingest")(json.dumps(event).encode())
    stack.run()
    assert stack.keys("imagedrop/status/") == [] and stack.keys("imagedrop/claims/") == []
    assert stack.events() == [] and stack.images() == []
    assert result is None or "ignored" in json.dumps(result, default=str)


def test_cancel_marker_for_an_unknown_key_does_nothing(stack: Harness) -> None:
    stack.put("incoming/nobody.qcow2.json.cancel", b"")
    stack.run()
    assert stack.keys("imagedrop/") == []
    assert stack.events() == []


# ---------------------------------------------------------------- broken files

def _half_qcow2(stack: Harness) -> Path:
    full = stack.fixture("gpt-both.qcow2").read_bytes()
    out = stack.tmp / "half.qcow2"
    out.write_bytes(full[: len(full) // 2])
    return out


@pytest.mark.parametrize("case", ["empty-disk", "truncated-qcow2", "not-utf8", "huge-manifest"])
def test_broken_files_are_rejected_clearly(stack: Harness, case: str) -> None:
    disk, manifest = stack.sample()
    body: Any = json.dumps(manifest)
    expect: list[str] = []
    if case == "empty-disk":
        disk, expect = stack.fixture("empty.img"), ["incoming/web.qcow2", "0 bytes"]
    elif case == "truncated-qcow2":
        disk, expect = _half_qcow2(stack), ["incoming/web.qcow2", "truncated"]
    elif case == "not-utf8":
        body = json.dumps({**manifest, "description": "caf\u00e9 image"}, ensure_ascii=False).encode("latin-1")
        expect = ["UTF-8"]
    elif case == "huge-manifest":
        body = json.dumps({**manifest, "tags": {"team": "web"}, "description": "x" * 200,
                           "padding": "y" * (300 * 1024)})
        expect = ["larger than"]
    key = "incoming/web.qcow2"
    stack.put(key, disk)
    stack.put(key + ".json", body)
    stack.run()
    record = stack.status(key + ".json")
    assert record.state in ("rejected", "failed"), record.model_dump_json(indent=1)
    text = _clear_problems(stack, key + ".json")
    for word in expect:
        assert word.lower() in text.lower(), text
    assert _one_terminal(stack, key + ".json") == record.state
    assert len([i for i in stack.images() if i.status == "Available"]) == 0
    _sources_stay(stack, key, key + ".json")


# ---------------------------------------------------------------- guest rules

def test_windows_byol_image(stack: Harness) -> None:
    manifest = {"image_name": "win-2022", "os_type": "windows", "platform": "Windows Server 2022",
                "architecture": "x86_64", "license_type": "BYOL"}
    key = stack.drop(stack.fixture("gpt-windows.qcow2"), manifest, key="incoming/win.qcow2")
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    image = stack.cloud.ecs.images[record.image_id]
    assert image.license_type == "BYOL"
    assert _one_terminal(stack, key) == "succeeded"


def test_arm64_with_a_bios_only_disk_is_rejected(stack: Harness) -> None:
    _, manifest = stack.sample()
    manifest.update(architecture="arm64")
    key = stack.drop(stack.fixture("gpt-bios.qcow2"), manifest)
    stack.run()
    assert stack.status(key).state == "rejected"
    text = _clear_problems(stack, key)
    assert "architecture" in text and "UEFI" in text
    assert _one_terminal(stack, key) == "rejected"
    assert stack.images() == []


def test_nvme_supported_but_no_driver_is_advice_not_a_fix(stack: Harness) -> None:
    stack.cloud.ecs.scenario.detection = [
        {"Name": "GUESTOS.Nvme", "Value": "Unsupported", "RiskLevel": "High", "RiskCode": "Nvme.NotInstalled"}]
    disk, manifest = stack.sample()
    manifest["nvme_support"] = "supported"
    key = stack.drop(disk, manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded"
    assert not any("nvme" in f.lower() for f in record.fixes), record.fixes
    assert any("no NVMe driver" in a for a in record.advice), record.advice


# ---------------------------------------------------------------- many at once

def test_twenty_pairs_at_once(stack: Harness) -> None:
    disk, manifest = stack.sample()
    keys = []
    for i in range(20):
        key = f"incoming/burst/{i:02d}/web.qcow2"
        keys.append(stack.drop(disk, {**manifest, "image_name": f"burst-{i:02d}"}, key=key,
                               manifest_first=bool(i % 2)))
    stack.run()
    for key in keys:
        assert _one_terminal(stack, key) == "succeeded", key
    assert len(stack.images()) == 20


# ---------------------------------------------------------------- the OSS trigger payload

def _oss_event(stack: Harness, key: str) -> dict[str, Any]:
    head = stack.bucket.head_object(key)
    return {"events": [{
        "eventName": "ObjectCreated:PutObject", "eventSource": "acs:oss", "eventVersion": "1.0",
        "eventTime": "2026-11-01T00:00:00.000Z", "region": stack.info.region,
        "oss": {"bucket": {"name": stack.info.bucket, "arn": f"acs:oss:{stack.info.region}::{stack.info.bucket}",
                           "ownerIdentity": stack.info.account_id},
                "object": {"key": key, "eTag": head.etag, "size": head.content_length, "deltaSize": 0},
                "ossSchemaVersion": "1.0", "ruleId": "imagedrop-ingest"},
        "responseElements": {"requestId": "0"}}]}


# ---------------------------------------------------------------- keys URL-encoded in the event

@pytest.mark.parametrize("encode", ["quote", "quote_plus"])
@pytest.mark.parametrize("key", ["incoming/with space/web image.qcow2", "incoming/plus+sign/web+1.qcow2",
                                 "incoming/pct%20x/web.qcow2", "incoming/日本語/イメージ.qcow2"],
                         ids=["space", "plus", "percent", "unicode"])
def test_keys_url_encoded_in_the_trigger_event(stack: Harness, key: str, encode: str) -> None:
    # Given a trigger that URL-encodes object keys (whether OSS does is undocumented)
    from urllib.parse import quote, quote_plus

    encoder = {"quote": lambda k: quote(k, safe="/"), "quote_plus": lambda k: quote_plus(k, safe="/")}[encode]
    rule = next(r for r in stack.cloud.oss.bucket(stack.info.bucket).rules if r.name == "imagedrop-ingest")
    real_sink = rule.sink

    def encoded(payload: bytes) -> object:
        event = json.loads(payload)
        for record in event["events"]:
            record["oss"]["object"]["key"] = encoder(record["oss"]["object"]["key"])
        return real_sink(json.dumps(event).encode())

    rule.sink = encoded
    disk, manifest = stack.sample()
    manifest_key = stack.drop(disk, manifest, key=key)
    stack.run()
    # Then the import finds the real objects and its record sits at the real key
    _succeeded_once_at(stack, manifest_key, key)
    assert [k for k in stack.keys("imagedrop/status/")] == ["imagedrop/status/" + manifest_key]


# ---------------------------------------------------------------- cancelling and replacing

def test_cancel_while_waiting_is_not_undone_by_the_disk_arriving(stack: Harness) -> None:
    # Given a manifest waiting for its disk, cancelled by its owner
    disk, manifest = stack.sample()
    key = "incoming/web.qcow2.json"
    stack.put(key, json.dumps(manifest))
    stack.run()
    assert stack.status(key).state == "waiting"
    stack.put(key + ".cancel", b"")
    stack.run()
    assert stack.status(key).state == "cancelled"
    # When the disk arrives afterwards
    stack.put("incoming/web.qcow2", disk)
    stack.run()
    # Then the cancelled import stays cancelled: nothing is imported until the manifest comes again
    assert stack.status(key).state == "cancelled"
    assert stack.images() == []
    # and uploading the same manifest again, as the record advises, starts it
    stack.cloud.clock.advance(5)
    stack.put(key, json.dumps(manifest))
    stack.run()
    assert _one_terminal(stack, key) == "succeeded"
    assert len(stack.images()) == 1


def test_disk_replaced_while_importing_is_refused_naming_the_disk(stack: Harness) -> None:
    key, first, _ = _importing(stack)
    # When another disk is uploaded under the system disk's key while the import runs
    stack.put("incoming/web.qcow2", stack.fixture("gpt-both.qcow2"))
    stack.run()
    # Then the first import goes on and the refusal names the disk that changed
    assert stack.status(key).id == first.id
    refusals = [e for e in stack.events(key) if e["data"]["id"] != first.id]
    assert [e["type"] for e in refusals] == ["imagedrop.import.rejected"]
    text = " ".join(refusals[0]["data"]["problems"])
    assert "incoming/web.qcow2:" in text or "incoming/web.qcow2 " in text, text


def test_cancel_after_the_task_ended_says_the_image_exists(stack: Harness) -> None:
    # Given an import whose task finished and whose image check is running
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    for _ in range(50):
        stack.cloud.pump.pump()
        if stack.status(key).state == "checking":
            break
        stack.cloud.clock.advance(5)
    assert stack.status(key).state == "checking"
    # When the owner cancels it
    stack.put(key + ".cancel", b"")
    stack.run()
    # Then it is cancelled, once, and the notification says the image exists and how to delete it
    record = stack.status(key)
    assert _one_terminal(stack, key) == "cancelled"
    assert [i.image_id for i in stack.images()] == [record.image_id]
    cancelled = next(e for e in stack.events(key) if e["type"].endswith(".cancelled"))
    assert any(record.image_id in a and "DeleteImage" in a for a in cancelled["data"]["advice"])


# ---------------------------------------------------------------- known gap (see the marker)

def test_following_the_advice_after_a_refusal_imports(stack: Harness) -> None:
    # Given ECS refused the import because the import role was missing
    stack.cloud.ecs.import_role_exists = False
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    assert stack.status(key).state == "rejected"
    assert "upload the manifest again" in stack.status(key).problems[0].fix
    refused = stack.status(key)
    # When the owner creates the role and, a minute later, uploads the same bytes again, as advised
    stack.cloud.ecs.import_role_exists = True
    stack.cloud.clock.advance(60)
    stack.put(key, json.dumps(manifest))
    stack.run()
    # Then the import happens, as an import of its own, and a redelivered event changes nothing
    record = stack.status(key)
    assert record.state == "succeeded" and record.id != refused.id
    assert _ends_by_import(stack, key) == {refused.id: ["rejected"], record.id: ["succeeded"]}
    last = [p for f, p in stack.stack.invocations if f == "imagedrop-ingest" and '.qcow2.json"' in p][-1]
    stack.cloud.pump.deliver_later("redelivery", stack.stack.sink("imagedrop-ingest"), last.encode())
    stack.run()
    assert stack.status(key).id == record.id
    assert len(stack.images()) == 1


def test_the_same_manifest_rejected_again_says_so_again(stack: Harness) -> None:
    # Given a manifest rejected for a misspelt field
    disk, manifest = stack.sample()
    key = stack.drop(disk, {**manifest, "boot_mod": "UEFI"})
    stack.run()
    first = stack.status(key)
    assert first.state == "rejected"
    # When the same bytes are uploaded again later
    stack.cloud.clock.advance(60)
    stack.put(key, json.dumps({**manifest, "boot_mod": "UEFI"}))
    stack.run()
    # Then the answer is given again, not swallowed as a duplicate
    again = stack.status(key)
    assert again.state == "rejected" and again.id != first.id
    assert [e["type"] for e in stack.events(key)].count("imagedrop.import.rejected") == 2
    assert stack.images() == []
