"""A manifest cannot make imagedrop import, share or delete another manifest's objects
(docs/trust-model.md)."""

from __future__ import annotations

import json

from pipeline_harness import Harness

OUTSIDER = "1234567890123456"


def _greedy(manifest: dict, data_object: str) -> dict:
    return {**manifest, "image_name": "greedy-1", "data_disks": [{"object": data_object}],
            "share_with_accounts": [OUTSIDER], "delete_source_on_success": True}


def _refused_and_left_alone(h: Harness, manifest_key: str, victim: str) -> str:
    record = h.status(manifest_key)
    assert record.state == "rejected", record.model_dump_json(indent=1)
    assert h.states(manifest_key) == ["rejected"]
    assert victim in h.keys(), "the other team's object must stay"
    assert not any(OUTSIDER in getattr(i, "shared_with", ()) or OUTSIDER in str(vars(i))
                   for i in h.images()), "nothing may be shared with the outsider"
    text = " | ".join(p.line() for p in record.problems)
    assert "data_disks[0].object" in text and victim in text, text
    return text


def test_another_manifests_system_disk_cannot_be_named_as_a_data_disk(stack: Harness) -> None:
    disk, manifest = stack.sample()
    victim = stack.drop(disk, manifest, key="incoming/teamb/web.qcow2")[: -len(".json")]
    stack.run()
    assert stack.status(victim + ".json").state == "succeeded"
    greedy = stack.drop(disk, _greedy(manifest, "teamb/web.qcow2"), key="incoming/greedy.qcow2")
    stack.run()
    text = _refused_and_left_alone(stack, greedy, victim)
    assert "system disk of incoming/teamb/web.qcow2.json" in text
    assert len(stack.images()) == 1


def test_another_manifests_data_disk_cannot_be_named_again(stack: Harness) -> None:
    disk, manifest = stack.sample()
    stack.put("incoming/teamb/data.raw", stack.fixture("none.raw"))
    stack.drop(disk, {**manifest, "data_disks": [{"object": "data.raw"}]},
               key="incoming/teamb/web.qcow2")
    stack.run()
    assert stack.status("incoming/teamb/web.qcow2.json").state == "succeeded"
    greedy = stack.drop(disk, _greedy(manifest, "teamb/data.raw"), key="incoming/greedy.qcow2")
    stack.run()
    text = _refused_and_left_alone(stack, greedy, "incoming/teamb/data.raw")
    assert "data disk of incoming/teamb/web.qcow2.json" in text


def test_a_data_disk_whose_manifest_is_gone_may_be_named_again(stack: Harness) -> None:
    disk, manifest = stack.sample()
    stack.put("incoming/teamb/data.raw", stack.fixture("none.raw"))
    first = stack.drop(disk, {**manifest, "data_disks": [{"object": "teamb/data.raw"}]},
                       key="incoming/first.qcow2")
    stack.run()
    stack.bucket.delete_object(first)
    second = stack.drop(disk, {**manifest, "image_name": "second-1",
                               "data_disks": [{"object": "teamb/data.raw"}]},
                        key="incoming/second.qcow2")
    stack.run()
    assert stack.status(second).state == "succeeded"


def test_delete_on_success_keeps_an_object_another_manifest_names(stack: Harness) -> None:
    disk, manifest = stack.sample()
    stack.put("incoming/shared.raw", stack.fixture("gpt-bios.raw"))
    mine = stack.drop(disk, {**manifest, "data_disks": [{"object": "shared.raw"}],
                             "delete_source_on_success": True}, key="incoming/mine.qcow2")
    stack.run(until=lambda: stack.status(mine).state == "importing")
    # Meanwhile someone uploads a manifest for that object: now it is their system disk too.
    stack.put("incoming/shared.raw.json", json.dumps({**manifest, "image_name": "theirs-1"}))
    stack.run()
    record = stack.status(mine)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    keys = stack.keys()
    assert "incoming/shared.raw" in keys and "incoming/mine.qcow2" not in keys
    assert any("kept incoming/shared.raw" in a for a in record.advice), record.advice
