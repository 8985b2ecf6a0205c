"""The repair's name swap and a late cancel, raced on the local stack with the real SDK clients:
another party acts right before ECS carries out one chosen call (the emulator's hooks).

A name taken between the two renames, or a temporary name taken before the first, ends the import
failed once with every image of it named in the record as ECS has it, and no fix pointing at an
image that is not the import's; a cancel that arrives once the build has succeeded is answered:
the import completes, and the end says the cancel came too late."""

from __future__ import annotations

from typing import Callable

import pytest

from imagedrop.decide.repair_track import unrepaired_name
from imagedrop.model.status import StatusRecord
from imagedrop_emulator.faults import Call

from pipeline_harness import Harness, drop_at_risk, one_terminal, run_until_state, until

NAME = "web-2026.11"


def _names(h: Harness) -> dict[str, str]:
    return {i.image_id: i.name for i in h.images()}


def _failed_once(h: Harness, key: str) -> StatusRecord:
    record = h.status(key)
    assert record.state == "failed", record.model_dump_json(indent=1)
    assert one_terminal(h, key) == "failed"
    assert record.repair is not None and record.repair.repaired_image_id
    assert h.cloud.ecs.pipelines == {}   # no template left behind
    return record


@pytest.mark.parametrize("keep", [False, True], ids=["original-deleted", "keep-unrepaired"])
def test_a_name_taken_between_the_renames_leaves_every_image_named(stack: Harness,
                                                                   keep: bool) -> None:
    # Given another image taking the manifest's name right before ECS gives it to the repaired
    # image (the original has moved to its temporary name by then)
    foreign: list[str] = []

    def take_the_name(call: Call) -> None:
        foreign.append(stack.cloud.ecs.add_image(NAME).image_id)

    stack.cloud.faults.before("ecs", "ModifyImageAttribute", take_the_name,
                              when=lambda call: call.params.get("ImageName") == NAME)
    key = drop_at_risk(stack, repair="auto", keep_unrepaired=keep)
    # When the repair runs to its end
    stack.run()
    # Then the import ends failed, once, and every image of it is there and named in the record
    # exactly as ECS has it; the manifest's name stays with the image that took it
    record = _failed_once(stack, key)
    repair = record.repair
    assert repair is not None
    original, repaired = repair.original_image_id or "", repair.repaired_image_id or ""
    [other] = foreign
    names = _names(stack)
    assert set(names) == {original, repaired, other} and names[other] == NAME
    assert repair.names == {original: names[original], repaired: names[repaired]}
    assert names[original] == unrepaired_name(NAME, record.id)   # it could not go back
    # the fix names the import's images and where each is; never the image that is not its own
    [problem] = record.problems
    assert repaired in problem.fix and original in problem.fix and names[original] in problem.fix
    assert other not in problem.fix + problem.rule
    assert not any(other in line for line in record.advice + record.fixes)
    assert not any(f"under {NAME}" in line for line in record.advice)   # it is not
    assert stack.events(key)[-1]["data"]["problems"] == [problem.line()]   # as notified


def test_a_temporary_name_taken_leaves_the_original_under_the_manifest_name(
        stack: Harness) -> None:
    # Given the name the original is to move to already somebody else's image
    key = drop_at_risk(stack, repair="auto", keep_unrepaired=True)
    record = run_until_state(stack, key, "repairing")
    away = unrepaired_name(NAME, record.id)
    other = stack.cloud.ecs.add_image(away).image_id
    # When the repair runs to its end
    stack.run()
    # Then the import ends failed, once: the original keeps the manifest's name, the repaired
    # image is named in the record as ECS has it, and the rule names the name that was taken
    record = _failed_once(stack, key)
    repair = record.repair
    assert repair is not None and repair.original_image_id and repair.repaired_image_id
    names = _names(stack)
    assert set(names) == {repair.original_image_id, repair.repaired_image_id, other}
    assert names[repair.original_image_id] == NAME and names[other] == away
    assert repair.names == {repair.original_image_id: NAME,
                            repair.repaired_image_id: names[repair.repaired_image_id]}
    [problem] = record.problems
    assert away in problem.rule and repair.original_image_id in problem.rule
    assert other not in problem.fix + problem.rule


def _build_succeeded(h: Harness) -> bool:
    ecs = h.cloud.ecs
    with ecs.lock:
        ecs.settle()
        return any(e.status == "SUCCESS" for e in ecs.executions.values())


def _cancel_meanwhile(h: Harness, key: str, record: StatusRecord,
                      landed: list[Call]) -> Callable[[Call], None]:
    def cancel(call: Call) -> None:
        """The cancel uploaded and handled by another instance, before ECS answers the call."""
        landed.append(call)
        h.cloud.oss.put_object(h.info.bucket, key + ".cancel", b"")
        h.cloud.pump.pump(wait=False)
        until(lambda: bool(h.keys(f"imagedrop/cancel/{record.id}")))
    return cancel


@pytest.mark.parametrize("service, action, path", [
    pytest.param("ecs", "DescribeImagePipelineExecutions", "/", id="as-the-poller-asks-ecs"),
    pytest.param("oss", "HeadObject", "imagedrop/cancel/", id="as-the-poller-looks-for-a-cancel"),
])
def test_a_cancel_after_the_build_succeeded_is_answered_too_late(
        stack: Harness, service: str, action: str, path: str) -> None:
    h = stack
    key = drop_at_risk(h, repair="auto")
    record = run_until_state(h, key, "repairing")
    landed: list[Call] = []
    # Given the build done by the time the poller next looks, and a cancel landing right before
    # the poller's first look at it: its look for a left cancel, or its question to ECS
    h.cloud.faults.before(service, action, _cancel_meanwhile(h, key, record, landed),
                          when=lambda call: path in call.path and _build_succeeded(h))
    # When the import runs to its end
    h.run()
    # Then it succeeds, once: the build's image carries the name; the end says the cancel came
    # after the build succeeded, too late, and names the image that is kept
    assert len(landed) == 1
    end = h.status(key)
    assert end.state == "succeeded", end.model_dump_json(indent=1)
    assert one_terminal(h, key) == "succeeded"
    assert end.repair is not None and end.image_id == end.repair.repaired_image_id
    assert _names(h) == {end.image_id: NAME}
    [answer] = [a for a in end.advice if a.startswith("a cancel arrived")]
    assert "the repair's build succeeded" in answer and end.image_id in answer
    assert answer in h.events(key)[-1]["data"]["advice"]   # the notification says so too
