"""The repair, end to end on the emulator: an image whose check finds cloud-init missing and an
fstab naming /dev/sda1 is repaired by Image Builder and ends as one image under the manifest's
name; off gives today's advice; cancel, failure and the deadline each end once, keep the
original and leave no template or half-renamed image."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any, Callable

import pytest

from imagedrop.model.status import StatusRecord

from pipeline_harness import TERMINAL, Harness, drop_at_risk, one_terminal, run_until_state

GUESTS = Path(__file__).parents[1] / "fixtures" / "guests"


def _clean(h: Harness, record: StatusRecord, name: str) -> None:
    """Nothing left behind: no template, and the one image is the original under its name."""
    ecs = h.cloud.ecs
    assert ecs.pipelines == {} and ecs.executions == {}
    assert record.repair is not None
    original = record.repair.original_image_id
    assert [(i.image_id, i.name) for i in h.images()] == [(original, name)]
    assert record.image_id == original


def test_auto_repair_ends_with_the_repaired_image_under_the_manifest_name(stack: Harness) -> None:
    key = drop_at_risk(stack, repair="auto")
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    assert one_terminal(stack, key) == "succeeded"
    states = stack.states(key)
    assert states.index("checking") < states.index("repairing") < states.index("finishing")
    # one image: the repaired one, under the manifest's name; the original is gone
    repair = record.repair
    assert repair is not None and repair.items == ["fstab", "cloudinit"]
    assert repair.status == "SUCCESS" and repair.execution_id and repair.original_deleted
    (image,) = stack.images()
    assert image.image_id == record.image_id == repair.repaired_image_id != repair.original_image_id
    assert image.name == "web-2026.11" == record.image_name
    assert stack.cloud.ecs.pipelines == {}
    # the finishing steps ran on the repaired image, whose check lost the repaired risks
    assert image.boot_mode == "UEFI-Preferred"
    assert not [a for a in record.advice if "cloud-init" in a.lower() or "fstab" in a.lower()]
    # the terminal notification says what was repaired, what replaced what, and the billing
    data = stack.events(key)[-1]["data"]
    assert data["repair"]["items"] == ["fstab", "cloudinit"]
    said = " ".join(data["fixes"])
    assert "repaired by ECS Image Builder (fstab, cloudinit)" in said
    assert (f"{repair.repaired_image_id} now carries web-2026.11 and replaced "
            f"{repair.original_image_id} (deleted)") in said
    assert "billed a temporary pay-as-you-go instance for about 12 min" in said
    assert stack.cloud.ecs.executions == {}   # deleted with their template


def test_the_build_was_asked_for_the_right_things(stack: Harness,
                                                  clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("IMAGEDROP_REPAIR_INSTANCE_TYPE", "ecs.g6.large")
    clean_env.setenv("IMAGEDROP_REPAIR_VSWITCH_ID", "vsw-bp1repair")
    key = drop_at_risk(stack, repair=["fstab"])
    record = run_until_state(stack, key, "repairing")
    (pipeline,) = stack.cloud.ecs.pipelines.values()
    assert (pipeline.base_image_type, pipeline.base_image) == ("IMAGE", record.image_id)
    assert (pipeline.repair_mode, pipeline.repair_items) == ("Customized", ["fstab"])
    assert pipeline.delete_instance_on_failure is True
    assert (pipeline.instance_type, pipeline.vswitch_id) == ("ecs.g6.large", "vsw-bp1repair")
    assert pipeline.image_name == "web-2026.11-repaired"
    stack.run()
    assert stack.status(key).state == "succeeded"


def test_keep_unrepaired_keeps_the_original_out_of_the_way(stack: Harness) -> None:
    key = drop_at_risk(stack, repair="auto", keep_unrepaired=True)
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded" and record.repair is not None
    names = {i.image_id: i.name for i in stack.images()}
    assert names[record.image_id] == "web-2026.11"
    assert names[record.repair.original_image_id].startswith("web-2026.11-unrepaired-")
    assert "kept as web-2026.11-unrepaired-" in " ".join(record.fixes)


@pytest.mark.parametrize("manifest", [{"repair": "off"}, {}], ids=["off", "default"])
def test_repair_off_gives_todays_advice(stack: Harness, manifest: dict[str, Any]) -> None:
    key = drop_at_risk(stack, **manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded" and record.repair is None
    assert "repairing" not in stack.states(key)
    assert stack.cloud.ecs.pipelines == {} and len(stack.images()) == 1
    text = " ".join(record.advice)
    assert "ACS-ECS-RepairImage" in text and "cloud-init" in text and "fstab" in text.lower()


def test_the_deployment_default_applies_and_forbid_rejects(stack: Harness,
                                                           clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("IMAGEDROP_REPAIR", "auto")
    key = drop_at_risk(stack)
    stack.run()
    assert stack.status(key).repair is not None and stack.status(key).state == "succeeded"
    clean_env.setenv("IMAGEDROP_REPAIR", "forbid")
    other = stack.drop(*stack.sample()[:1], {**stack.sample()[1], "repair": "auto",
                                              "image_name": "web-forbidden"},
                       key="incoming/w2.qcow2")
    stack.run()
    record = stack.status(other)
    assert record.state == "rejected" and record.problems[0].where == "repair"


@pytest.mark.parametrize("faults", [
    pytest.param((), id="every-answer-arrives"),
    pytest.param(("ecs:CancelImagePipelineExecution:lost-reset*2",
                  "ecs:DeleteImagePipeline:lost-503*1",
                  "ecs:DescribeImagePipelineExecutions:lost-500*1"),
                 id="cancel-delete-and-describe-answers-lost"),
])
def test_cancel_during_repairing_ends_cancelled_once_and_clean(stack: Harness,
                                                               faults: tuple[str, ...]) -> None:
    for spec in faults:
        stack.cloud.faults.add_spec(spec)
    key = drop_at_risk(stack, repair="auto")
    run_until_state(stack, key, "repairing")
    stack.put("incoming/web.qcow2.json.cancel", b"")
    stack.run()
    record = stack.status(key)
    assert record.state == "cancelled", record.model_dump_json(indent=1)
    assert one_terminal(stack, key) == "cancelled"
    _clean(stack, record, "web-2026.11")
    assert record.repair is not None and record.repair.status == "CANCELLED"
    assert any("is kept, unrepaired" in a for a in record.advice)


def _fail_the_build(h: Harness) -> None:
    h.cloud.ecs.fail_next_build("InstanceStartFailed", "no stock of ecs.g6.large in the zone")


def _hang_the_build(h: Harness) -> None:
    h.cloud.ecs.hang_next_build()


def _refuse_the_service_role(h: Harness) -> None:
    h.cloud.ecs.builder_may_create_role = False


@pytest.mark.parametrize("arrange, code, rule, advice", [
    pytest.param(_fail_the_build, "InstanceStartFailed", "no stock",
                 ["{image_id} is kept, unrepaired, under web-2026.11",
                  # failed in REPAIRING: the instance ran through PREPARING and REPAIRING (2 + 5 min)
                  "billed a temporary pay-as-you-go instance for about 7 min"],
                 id="build-fails-with-its-code"),
    pytest.param(_hang_the_build, "timeout", None, [], id="build-past-the-deadline-is-cancelled"),
    pytest.param(_refuse_the_service_role, "InvalidOperation.NoPermissionCreateServiceLinkedRole",
                 None, [], id="repair-refused"),
])
def test_a_repair_that_cannot_finish_ends_failed_keeping_the_original(
        stack: Harness, arrange: Callable[[Harness], None], code: str, rule: str | None,
        advice: list[str]) -> None:
    arrange(stack)
    key = drop_at_risk(stack, repair="auto")
    stack.run()
    record = stack.status(key)
    assert record.state == "failed" and one_terminal(stack, key) == "failed"
    assert record.problems[-1].code == code
    if rule is not None:
        assert rule in record.problems[-1].rule
    _clean(stack, record, "web-2026.11")
    for words in advice:
        said = words.format(image_id=record.image_id)
        assert any(said in a for a in record.advice), (said, record.advice)


def test_lost_answers_and_throttling_still_make_one_repaired_image(stack: Harness) -> None:
    for spec in ("ecs:CreateImagePipeline:lost-503*1",
                 "ecs:StartImagePipelineExecution:lost-reset*1",
                 "ecs:DescribeImagePipelineExecutions:throttle*2",
                 "ecs:ModifyImageAttribute:lost-500*2",
                 "ecs:DeleteImagePipeline:lost-reset*1", "ecs:DeleteImage:lost-503*1"):
        stack.cloud.faults.add_spec(spec)
    key = drop_at_risk(stack, repair="auto")
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    assert one_terminal(stack, key) == "succeeded"
    (image,) = stack.images()
    assert image.image_id == record.image_id and image.name == "web-2026.11"
    assert stack.cloud.ecs.pipelines == {}


def test_copies_and_shares_are_of_the_repaired_image(stack: Harness) -> None:
    key = drop_at_risk(stack, repair="auto", copy_to_regions=["cn-shanghai"],
                share_with_accounts=["1234567890123"])
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    copy = stack.cloud.ecs.images[record.copies["cn-shanghai"]["image_id"]]
    assert record.repair is not None
    assert copy.source_image_id == record.image_id == record.repair.repaired_image_id
    assert stack.cloud.ecs.images[record.image_id].shared_with == ["1234567890123"]


def _poller_trigger(h: Harness) -> Any:
    return next(t for t in h.cloud.mns.triggers if t.name == "imagedrop-poller")


@pytest.mark.parametrize("cancel", [False, True], ids=["repaired", "cancelled"])
def test_every_poller_message_delivered_twice_still_ends_once(stack: Harness, cancel: bool) -> None:
    trigger = _poller_trigger(stack)
    poller = trigger.sink

    def twice(payload: bytes) -> object:
        poller(payload)
        return poller(payload)

    trigger.sink = twice
    key = drop_at_risk(stack, repair="auto")
    if cancel:
        run_until_state(stack, key, "repairing")
        stack.put("incoming/web.qcow2.json.cancel", b"")
    stack.run()
    record = stack.status(key)
    expected = "cancelled" if cancel else "succeeded"
    assert record.state == expected, record.model_dump_json(indent=1)
    assert one_terminal(stack, key) == record.state
    states = stack.states(key)
    assert len(states) == len(set(states)), states
    assert stack.cloud.ecs.pipelines == {} and len(stack.images()) == 1
    assert stack.images()[0].name == "web-2026.11"


def test_parallel_deliveries_of_each_repair_message_end_once(stack: Harness) -> None:
    import threading

    trigger = _poller_trigger(stack)
    poller = trigger.sink

    def side_by_side(payload: bytes) -> object:
        results: list[object] = []
        threads = [threading.Thread(target=lambda: results.append(poller(payload)))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results[0]

    trigger.sink = side_by_side
    key = drop_at_risk(stack, repair="auto")
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    # Two racing deliveries may both announce a state, with the same CloudEvent id (the
    # status book's at-least-once promise): one terminal event, however many times it was sent.
    ends = {e["id"] for e in stack.events(key) if e["type"].rsplit(".", 1)[-1] in TERMINAL}
    assert ends == {f"{record.id}-succeeded-{len(record.history)}"}
    (image,) = stack.images()
    assert image.image_id == record.image_id and image.name == "web-2026.11"
    assert stack.cloud.ecs.pipelines == {}


def test_an_unchecked_repaired_image_keeps_the_advice_for_what_was_not_repaired(
        stack: Harness) -> None:
    stack.cloud.ecs.builder_checks_output = False
    key = drop_at_risk(stack, repair=["fstab"])
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded" and record.repair is not None
    assert record.repair.checked is False
    assert "Image Builder ran no image check on it" in " ".join(record.fixes)
    advice = " ".join(record.advice)
    assert "GUESTOS.CloudInit" in advice and "GUESTOS.Fstab" not in advice


def test_a_partial_repair_leaves_advice_from_the_repaired_image_check(stack: Harness) -> None:
    key = drop_at_risk(stack, repair=["fstab"])
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded" and record.repair is not None and record.repair.checked
    advice = " ".join(record.advice)
    assert "GUESTOS.CloudInit" in advice and "GUESTOS.Fstab" not in advice
    assert record.image_id in advice   # the repair command names the image that exists now


def test_without_the_image_check_a_listed_repair_runs_straight_after_the_import(
        stack: Harness) -> None:
    key = drop_at_risk(stack, repair=["cloudinit"], image_check=False)
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    states = stack.states(key)
    assert "checking" not in states and states.index("importing") < states.index("repairing")
    assert record.repair is not None and record.repair.items == ["cloudinit"]
    assert record.repair.reasons == {"cloudinit": "listed in the manifest's repair"}


def test_auto_with_nothing_at_risk_repairs_nothing(stack: Harness) -> None:
    stack.cloud.ecs.scenario.detection = [{"Name": "GUESTOS.CloudInit", "Value": "Installed"}]
    disk, manifest = stack.sample()
    key = stack.drop(disk, {**manifest, "repair": "auto"})
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded" and record.repair is None
    assert "repairing" not in stack.states(key) and stack.cloud.ecs.pipelines == {}


def test_without_the_check_auto_repairs_what_the_disk_itself_shows(stack: Harness) -> None:
    # Given a real Debian 12 disk without cloud-init whose fstab names /dev/sda1 (and whose kernel
    # lacks virtio), imported without the ECS check
    disk = stack.tmp / "debian12.raw"
    with gzip.open(GUESTS / "facts-debian12.raw.gz") as src:
        disk.write_bytes(src.read())
    manifest = {"image_name": "debian-12", "os_type": "linux", "platform": "Debian",
                "architecture": "x86_64", "image_check": False, "repair": "auto"}
    key = stack.drop(disk, manifest, key="incoming/debian12.raw")
    stack.run()
    # Then the disk's own findings chose the repair
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    assert record.repair is not None
    assert record.repair.items == ["fstab", "growpart", "cloudinit", "nvme", "virtio"]
    assert "/dev/sda1" in record.repair.reasons["fstab"]
    (image,) = stack.images()
    assert image.image_id == record.image_id and image.name == "debian-12"
