"""What `imagedrop replay` sends: the right objects, as the exact OSS trigger payload."""

from __future__ import annotations

from imagedrop.model.events import parse_oss_event
from imagedrop_cli.ops.replay_plan import StoredObject, payload_for, replay_items


def test_manifests_with_their_disks_and_nothing_else() -> None:
    objects = [StoredObject(k, 10, "E" + str(i)) for i, k in enumerate([
        "incoming/a.qcow2", "incoming/a.qcow2.json", "incoming/a.qcow2.json.cancel",
        "incoming/b.raw",                       # no manifest: replaying it would only wait
        "incoming/c.vhd.json",                  # manifest whose disk is not there (yet)
        "incoming/imagedrop/status/x.json"])]
    items = replay_items(objects, state_prefix="incoming/imagedrop/")
    assert [(i.role, i.key) for i in items] == [("disk", "incoming/a.qcow2"), ("manifest", "incoming/a.qcow2.json"),
                                                ("manifest", "incoming/c.vhd.json")]


def test_payload_is_what_the_ingest_handler_reads() -> None:
    obj = StoredObject("incoming/web disk.qcow2", 334336, "5B1C0D3E", multipart=True, last_modified=1_800_000_000)
    payload = payload_for(obj, bucket="imagedrop-local", region="cn-hangzhou", account_id="1234567890123456")
    [created] = parse_oss_event(payload)
    assert (created.bucket, created.key, created.etag, created.size) == (
        "imagedrop-local", "incoming/web disk.qcow2", "5B1C0D3E", 334336)
    assert created.event_name == "ObjectCreated:CompleteMultipartUpload"
    assert created.region == "cn-hangzhou" and created.event_time == "2027-01-15T08:00:00.000Z"
    simple = payload_for(StoredObject("incoming/a.json", 3, "E"), bucket="b", region="r", account_id="1")
    assert parse_oss_event(simple)[0].event_name == "ObjectCreated:PutObject"
