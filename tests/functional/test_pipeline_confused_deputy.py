"""A manifest cannot make imagedrop import, share or delete another manifest's objects
(docs/trust-model.md)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

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


def test_the_functions_touch_only_images_ecs_made_for_their_import(stack: Harness) -> None:
    """RAM cannot narrow ECS image actions to imagedrop's images (docs/trust-model.md): the
    functions must never pass ECS an image id that ECS did not hand them for the import."""
    from imagedrop_emulator.ecs.backend.models import AVAILABLE, FakeImage

    ecs = stack.cloud.ecs
    disk, manifest = stack.sample()
    foreign = FakeImage("m-foreign0000000000001", "cn-hangzhou", manifest["image_name"], stack.cloud.clock.now(), [],
                        status=AVAILABLE)
    ecs.images[foreign.image_id] = foreign
    seen: list[tuple[str, str]] = []
    wire = stack.cloud.services["ecs"]
    handle = wire.handle

    def recording(req):  # type: ignore[no-untyped-def]
        params = dict(req.params())
        body = req.body_bytes()
        req.body.seek(0)
        if body and b"=" in body:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        for name in ("ImageId", "SourceImageId", "BaseImage"):
            if params.get(name):
                seen.append((req.header("x-acs-action") or params.get("Action", ""), params[name]))
        return handle(req)

    wire.handle = recording  # type: ignore[method-assign]
    stack.drop(disk, {**manifest, "image_name": "web-2", "copy_to_regions": ["cn-shanghai"],
                      "share_with_accounts": [OUTSIDER], "image_family": "web"})
    same_name = stack.drop(disk, manifest, key="incoming/teamb/web.qcow2")  # the foreign name
    stack.run()

    made = {i.image_id for i in stack.images() if i.image_id != foreign.image_id}
    assert {"CopyImage", "ModifyImageAttribute", "ModifyImageSharePermission"} <= {a for a, _ in seen}
    assert {image for _, image in seen} <= made, (seen, made)
    refused = stack.status(same_name)
    assert refused.state in {"failed", "rejected"}, refused.history
    assert "InvalidImageName.Duplicated" in " ".join(p.line() for p in refused.problems)
    assert (foreign.shared_with, foreign.family, foreign.image_id in ecs.images) == ([], "", True)
