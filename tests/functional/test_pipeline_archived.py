"""An archived disk, end to end on the local stack: ECS cannot read an Archive or ColdArchive
object that was not restored (InvalidOSSObject.NeedRestore), so the ingest refuses it before
ImportImage, with the restore to run; once restored, uploading the manifest again imports it."""

from __future__ import annotations

import json

import oss2
import pytest

from pipeline_harness import Harness

TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}


def _drop_archived(h: Harness, storage_class: str) -> str:
    disk, manifest = h.sample()
    h.bucket.put_object_from_file("incoming/web.qcow2", str(disk),
                                  headers={"x-oss-storage-class": storage_class})
    h.put("incoming/web.qcow2.json", json.dumps(manifest))
    return "incoming/web.qcow2.json"


@pytest.mark.parametrize("storage_class", ["Archive", "ColdArchive"])
def test_an_archived_disk_is_refused_with_the_restore_to_run(stack: Harness,
                                                             storage_class: str) -> None:
    key = _drop_archived(stack, storage_class)
    stack.run()
    record = stack.status(key)
    assert record.state == "rejected", record.model_dump_json(indent=1)
    [problem] = record.problems
    assert problem.code == "InvalidOSSObject.NeedRestore"
    assert problem.where == "oss object incoming/web.qcow2"
    assert storage_class in problem.rule
    assert "ossutil restore oss://imagedrop-local/incoming/web.qcow2" in problem.fix
    assert [s for s in stack.states(key) if s in TERMINAL] == ["rejected"]
    assert stack.cloud.ecs.tasks == {} and stack.images() == []
    assert {"incoming/web.qcow2", "incoming/web.qcow2.json"} <= set(stack.keys("incoming/"))


def test_restored_then_the_manifest_again_imports_it(stack: Harness) -> None:
    key = _drop_archived(stack, "Archive")
    stack.run()
    assert stack.status(key).state == "rejected"
    # The producer follows the advice: restore, and upload the manifest again while it runs
    assert stack.bucket.restore_object("incoming/web.qcow2").status == 202
    manifest = stack.bucket.get_object(key).read()
    stack.cloud.clock.advance(1)   # a later upload of the same bytes: a new request
    stack.put(key, manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "rejected"
    assert "under way" in record.problems[0].rule, record.problems
    assert stack.cloud.ecs.tasks == {}
    # ... and once the restore has finished, once more
    stack.cloud.clock.advance(61)
    head = stack.bucket.head_object("incoming/web.qcow2")
    assert 'ongoing-request="false"' in head.headers["x-oss-restore"]
    stack.put(key, manifest)
    stack.run()
    record = stack.status(key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    assert [i.image_id for i in stack.images()] == [record.image_id]


def test_an_archived_data_disk_is_named(stack: Harness) -> None:
    disk, manifest = stack.sample()
    stack.put("incoming/web.qcow2", disk)
    stack.bucket.put_object_from_file("incoming/web-data.qcow2", str(disk),
                                      headers={"x-oss-storage-class": "ColdArchive"})
    manifest["data_disks"] = [{"object": "web-data.qcow2"}]
    key = "incoming/web.qcow2.json"
    stack.put(key, json.dumps(manifest))
    stack.run()
    record = stack.status(key)
    assert record.state == "rejected", record.model_dump_json(indent=1)
    assert [(p.where, p.code) for p in record.problems] == [
        ("oss object incoming/web-data.qcow2", "InvalidOSSObject.NeedRestore")]
    with pytest.raises(oss2.exceptions.ServerError):  # still frozen: nothing restored it
        stack.bucket.get_object("incoming/web-data.qcow2")
