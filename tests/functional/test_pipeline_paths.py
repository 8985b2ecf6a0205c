"""The product, end to end on the emulator: a disk and a manifest go in, one image comes out,
or one clear terminal state says why not. Sources are never touched unless asked."""

from __future__ import annotations

import json

import oss2
import pytest

from imagedrop.model.status import StatusRecord

from pipeline_harness import Harness

TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}


def _one_terminal(h: Harness, manifest_key: str) -> str:
    states = h.states(manifest_key)
    ends = [s for s in states if s in TERMINAL]
    assert len(ends) == 1, f"expected one terminal notification, got {states}"
    assert h.status(manifest_key).state == ends[0]
    return ends[0]


@pytest.mark.parametrize("manifest_first", [False, True], ids=["disk-first", "manifest-first"])
def test_either_arrival_order_ends_in_one_checked_image(stack: Harness, manifest_first: bool) -> None:
    # Given the bundled sample disk (GPT with both a BIOS boot and an EFI partition) and its manifest
    disk, manifest = stack.sample()
    # When they arrive in either order
    key = stack.drop(disk, manifest, manifest_first=manifest_first, one_by_one=True)
    stack.run()
    # Then exactly one image exists, it is Available, and the import succeeded
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    images = stack.images()
    assert [i.image_id for i in images] == [record.image_id]
    assert images[0].status == "Available"
    assert _one_terminal(stack, key) == "succeeded"
    # the earlier object of the pair recorded what it waited for; only a manifest waiting for its
    # disk is announced (a disk alone is not an import yet)
    assert record.history[0].state == "waiting"
    assert stack.states(key)[0] == ("waiting" if manifest_first else "importing")
    # and the image booting both ways was set to UEFI-Preferred by metadata, as a recorded fix
    assert images[0].boot_mode == "UEFI-Preferred"
    assert any("UEFI-Preferred" in f for f in record.fixes)
    # sources are untouched
    assert {"incoming/web.qcow2", "incoming/web.qcow2.json"} <= set(stack.keys("incoming/"))


def test_states_are_announced_in_order_with_cloudevents(stack: Harness) -> None:
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    events = stack.events(key)
    assert [e["type"] for e in events][-1] == "imagedrop.import.succeeded"
    states = stack.states(key)
    assert states.index("importing") < states.index("finishing") < states.index("succeeded")
    for event in events:
        assert event["specversion"] == "1.0"
        assert event["subject"] == key
        assert event["data"]["manifest"] == key
    assert len({e["id"] for e in events}) == len(events)


def test_the_same_event_three_times_makes_one_image(stack: Harness) -> None:
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    # the platform delivers the manifest's event twice more (at-least-once), after the fact
    manifest_event = next(p for f, p in stack.stack.invocations
                          if f == "imagedrop-ingest" and '.qcow2.json"' in p)
    for _ in range(2):
        stack.cloud.pump.deliver_later("redelivery", stack.stack.sink("imagedrop-ingest"),
                                       manifest_event.encode())
    stack.run()
    assert len(stack.images()) == 1
    assert _one_terminal(stack, key) == "succeeded"


def test_duplicate_events_before_the_first_finished_make_one_image(stack: Harness) -> None:
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.cloud.pump.pump()  # first delivery of both events
    manifest_event = next(p for f, p in stack.stack.invocations
                          if f == "imagedrop-ingest" and '.qcow2.json"' in p)
    for _ in range(2):
        stack.stack.sink("imagedrop-ingest")(manifest_event.encode())
    stack.run()
    assert len(stack.images()) == 1
    assert _one_terminal(stack, key) == "succeeded"


def test_crash_between_import_and_send_is_retried_without_a_second_image(stack: Harness) -> None:
    # Given SendMessage fails hard once, right after ImportImage succeeded
    stack.cloud.faults.script("mns", "SendMessage", ["reset"] * 10)
    disk, manifest = stack.sample()
    # (one by one: only the manifest's event imports, so it alone meets the scripted resets)
    key = stack.drop(disk, manifest, one_by_one=True)
    # When the platform retries the failed invocation
    stack.run()
    # Then the retry reused the ClientToken: still one image, and the import finished
    assert any("ingest" in f.name for f in stack.cloud.pump.errors), "the first invocation should have failed"
    assert len(stack.images()) == 1
    assert _one_terminal(stack, key) == "succeeded"


def test_throttled_import_image_is_retried(stack: Harness) -> None:
    stack.cloud.faults.script("ecs", "ImportImage", ["throttle", "throttle"])
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    assert ("ecs", "ImportImage", "throttle") in stack.cloud.faults.injected
    assert stack.status(key).state == "succeeded"
    assert len(stack.images()) == 1


def test_failed_task_carries_its_error_code(stack: Harness) -> None:
    stack.cloud.ecs.fail_next_import("InvalidImageFormat.Malformed", "The image file is damaged.")
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "failed"
    assert record.problems[0].code == "InvalidImageFormat.Malformed"
    assert "damaged" in record.problems[0].rule
    assert record.problems[0].fix
    assert _one_terminal(stack, key) == "failed"
    assert "incoming/web.qcow2" in stack.keys("incoming/")


def test_deadline_cancels_the_task_and_fails_with_timeout(stack: Harness) -> None:
    stack.cloud.ecs.hang_next_import(0.37)
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "failed"
    assert record.problems[0].code == "timeout"
    task = stack.cloud.ecs.tasks[record.task_id]
    assert task.status == "Cancelled"


@pytest.mark.parametrize("marker", ["incoming/web.qcow2.json.cancel", "incoming/web.qcow2.cancel"])
def test_cancel_marker_cancels_a_running_import(stack: Harness, marker: str) -> None:
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.cloud.pump.pump()  # ingest runs; the import is now in progress
    assert stack.status(key).state == "importing"
    stack.put(marker, b"")
    stack.run()
    record = stack.status(key)
    assert record.state == "cancelled"
    assert stack.cloud.ecs.tasks[record.task_id].status == "Cancelled"
    assert _one_terminal(stack, key) == "cancelled"


def test_check_items_become_fixes_and_advice(stack: Harness) -> None:
    stack.cloud.ecs.scenario.detection = [
        {"Name": "GUESTOS.Nvme", "Value": "Supported"},
        {"Name": "GUESTOS.CloudInit", "Value": "Unsupported", "RiskLevel": "High", "RiskCode": "CloudInit.NotInstalled"},
        {"Name": "GUESTOS.Fstab", "Value": "Unsupported", "RiskLevel": "Medium", "RiskCode": "Fstab.DeviceName"},
    ]
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded"
    image = stack.cloud.ecs.images[record.image_id]
    assert image.nvme_support == "supported"
    assert any("NVMe" in f or "Nvme" in f or "nvme" in f for f in record.fixes)
    text = " ".join(record.advice).lower()
    assert "cloud-init" in text and "fstab" in text


@pytest.mark.parametrize("architecture,base", [
    ("x86_64", "aliyun_3_x64_20G_alibase_20230727.vhd"),
    ("arm64", "aliyun_3_arm64_20G_alibase_20230731.vhd")])
def test_the_repair_command_carries_the_templates_required_base_image(
        stack: Harness, architecture: str, base: str) -> None:
    stack.cloud.ecs.scenario.detection = [
        {"Name": "GUESTOS.Fstab", "Value": "Unsupported", "RiskLevel": "Medium",
         "RiskCode": "Fstab.DeviceName"}]
    disk, manifest = stack.sample()
    key = stack.drop(disk, {**manifest, "architecture": architecture})
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    (line,) = [a for a in record.advice if "StartExecution" in a]
    params = json.loads(line.split("--Parameters '")[1].split("'")[0])
    assert params["baseImageId"] == base and "fstab" in params["repairItems"]
    assert params["repairImageId"] == record.image_id


def test_copies_and_shares_follow_the_manifest(stack: Harness) -> None:
    disk, manifest = stack.sample()
    manifest.update(copy_to_regions=["cn-shanghai", "ap-northeast-1"],
                    share_with_accounts=[str(1000000000000000 + i) for i in range(12)],
                    image_family="web-family")
    key = stack.drop(disk, manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.problems
    assert set(record.copies) == {"cn-shanghai", "ap-northeast-1"}
    for region, info in record.copies.items():
        copy = stack.cloud.ecs.images[info["image_id"]]
        assert copy.region == region and copy.status == "Available"
    original = stack.cloud.ecs.images[record.image_id]
    assert original.family == "web-family"
    assert sorted(original.shared_with) == sorted(manifest["share_with_accounts"])


def test_delete_source_on_success_removes_only_the_sources(stack: Harness) -> None:
    disk, manifest = stack.sample()
    manifest["delete_source_on_success"] = True
    key = stack.drop(disk, manifest)
    stack.run()
    assert stack.status(key).state == "succeeded"
    assert stack.keys("incoming/") == []
    assert stack.status(key).source_deleted


@pytest.mark.parametrize("case", ["bad-json", "typo-field", "iso", "too-small", "os-mismatch"])
def test_bad_input_is_rejected_clearly_and_sources_stay(stack: Harness, case: str) -> None:
    disk, manifest = stack.sample()
    body: dict | str = manifest
    expect = ""
    if case == "bad-json":
        body, expect = '{"image_name": "x",', "JSON"
    elif case == "typo-field":
        manifest["boot_mod"] = "UEFI"
        expect = "boot_mode"
    elif case == "iso":
        disk, expect = stack.fixture("install.iso"), "ISO"
    elif case == "too-small":
        manifest["system_disk_gib"] = 1
        disk = stack.fixture("big-2t.qcow2")
        expect = "2048"
    elif case == "os-mismatch":
        disk, expect = stack.fixture("gpt-windows.qcow2"), "windows"
    key = stack.drop(disk, body)
    stack.run()
    record = stack.status(key)
    assert record.state == "rejected"
    text = " ".join(p.line() for p in record.problems)
    assert expect.lower() in text.lower(), text
    # each problem apart: where (a field or an object), the rule broken, and what to do
    assert all(p.where and p.rule and p.fix for p in record.problems), record.problems
    assert _one_terminal(stack, key) == "rejected"
    assert stack.images() == []
    assert {"incoming/web.qcow2", "incoming/web.qcow2.json"} <= set(stack.keys("incoming/"))


def test_bucket_in_another_region_is_rejected(stack: Harness) -> None:
    stack.cloud.oss.create_bucket("far-away", region="eu-central-1")
    stack.cloud.oss.add_notification("far-away", name="imagedrop-ingest", prefix="incoming/",
                                     sink=stack.stack.sink("imagedrop-ingest"))
    disk, manifest = stack.sample()
    stack.cloud.oss.put_object("far-away", "incoming/web.qcow2", disk.read_bytes())
    stack.cloud.oss.put_object("far-away", "incoming/web.qcow2.json", json.dumps(manifest).encode())
    stack.run()
    far = oss2.Bucket(oss2.Auth(stack.info.access_key_id, stack.info.access_key_secret), stack.info.oss, "far-away")
    record = StatusRecord.model_validate_json(far.get_object("imagedrop/status/incoming/web.qcow2.json").read())
    assert record.state == "rejected"
    assert "eu-central-1" in record.problems[0].line()
    assert stack.images() == []


def test_a_task_that_vanished_ends_the_import_instead_of_retrying_forever(stack: Harness) -> None:
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.cloud.pump.pump()  # ingest: the import is submitted and tracked
    record = stack.status(key)
    assert record.state == "importing"
    del stack.cloud.ecs.tasks[record.task_id]  # the task is gone, as a task past its retention is
    stack.run()
    record = stack.status(key)
    assert record.state == "failed"
    assert record.problems[0].code == "InvalidTaskId.NotFound"
    assert _one_terminal(stack, key) == "failed"


def test_every_poller_message_delivered_twice_still_ends_once(stack: Harness) -> None:
    # Given EventBridge hands every tracking message to the poller twice (at-least-once)
    trigger = next(t for t in stack.cloud.mns.triggers if t.name == "imagedrop-poller")
    poller = trigger.sink

    def twice(payload: bytes) -> object:
        poller(payload)
        return poller(payload)

    trigger.sink = twice
    disk, manifest = stack.sample()
    manifest.update(copy_to_regions=["cn-shanghai"])
    key = stack.drop(disk, manifest)
    stack.run()
    # Then the import still ends once, with one copy, announced once per state
    record = stack.status(key)
    assert record.state == "succeeded"
    assert _one_terminal(stack, key) == "succeeded"
    states = stack.states(key)
    assert len(states) == len(set(states)), states
    copies = [i for i in stack.images() if i.region == "cn-shanghai"]
    assert len(copies) == 1
    assert len(stack.images()) == 2


def test_a_missing_import_role_is_rejected_with_how_to_create_it(stack: Harness) -> None:
    stack.cloud.ecs.import_role_exists = False
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "rejected"
    problem = record.problems[0]
    assert problem.code in ("NoSetRoletoECSServiceAcount", "NoSetRoletoECSServiceAccount")
    assert "AliyunECSImageImportDefaultRole" in problem.fix
    assert "AliyunECSImageImportRolePolicy" in problem.fix


def test_data_disks_first_and_the_manifest_last_make_one_import_and_no_stray_records(stack: Harness) -> None:
    # Given a build that uploads the data disk, then the system disk, then the manifest (as push does)
    disk, manifest = stack.sample()
    data = stack.fixture("ext4-bare.qcow2")
    manifest["data_disks"] = [{"object": "web-data.qcow2"}]
    stack.put("incoming/web-data.qcow2", data)
    stack.cloud.pump.pump()
    stack.put("incoming/web.qcow2", disk)
    stack.cloud.pump.pump()
    # a disk alone is recorded, not announced
    assert stack.status("incoming/web.qcow2.json").state == "waiting"
    assert stack.events() == []
    stack.put("incoming/web.qcow2.json", json.dumps(manifest))
    stack.run()
    record = stack.status("incoming/web.qcow2.json")
    assert record.state == "succeeded"
    assert [d.role for d in record.disks] == ["system", "data"]
    image = stack.cloud.ecs.images[record.image_id]
    assert len(image.disks) == 2
    # the data disk's quiet waiting record and markers are gone
    assert not [k for k in stack.keys("imagedrop/") if "web-data" in k]
    assert stack.states("incoming/web.qcow2.json")[0] == "importing"


def test_manifest_waiting_for_a_data_disk_is_announced_then_completed_by_it(stack: Harness) -> None:
    disk, manifest = stack.sample()
    manifest["data_disks"] = [{"object": "web-data.qcow2"}]
    key = stack.drop(disk, manifest, one_by_one=True)
    record = stack.status(key)
    assert record.state == "waiting" and "incoming/web-data.qcow2" in (record.progress or "")
    assert stack.states(key) == ["waiting"]
    stack.put("incoming/web-data.qcow2", stack.fixture("ext4-bare.qcow2"))
    stack.run()
    assert stack.status(key).state == "succeeded"
    # a later upload of the same data disk alone does not import the old manifest again
    stack.put("incoming/web-data.qcow2", stack.fixture("mbr-linux.qcow2"))
    stack.run()
    assert len([i for i in stack.images() if i.region == "cn-hangzhou"]) == 1


def test_persistent_throttling_is_explained_and_a_later_delivery_completes_the_import(
        stack: Harness, clean_env: pytest.MonkeyPatch) -> None:
    # Given ECS throttles every ImportImage for a while (and each invocation tries twice)
    clean_env.setenv("IMAGEDROP_API_ATTEMPTS", "2")
    stack.cloud.faults.add("ecs", "ImportImage", "throttle", times=40)
    disk, manifest = stack.sample()
    key = stack.drop(disk, manifest)
    stack.run()
    # Then the platform's retries ran out, and the record says why, with what to do
    assert stack.cloud.pump.failures, "the ingest invocations should have given up"
    record = stack.status(key)
    assert record.state == "waiting"
    assert record.problems[0].code == "Throttling.User"
    assert "imagedrop replay" in record.problems[0].fix
    assert stack.images() == []
    # When the event is delivered again after the throttling ended (e.g. imagedrop replay)
    stack.cloud.faults.clear()
    manifest_event = next(p for f, p in stack.stack.invocations
                          if f == "imagedrop-ingest" and '.qcow2.json"' in p)
    stack.cloud.pump.deliver_later("replay", stack.stack.sink("imagedrop-ingest"), manifest_event.encode())
    stack.run()
    # Then the import completes, once
    assert stack.status(key).state == "succeeded"
    assert stack.status(key).problems == []
    assert len(stack.images()) == 1
