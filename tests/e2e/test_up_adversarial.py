"""An outside reviewer's end-to-end checks: `imagedrop local up` in a subprocess, driven with the
real SDKs as producers drive the cloud (oss2 uploads, multipart, CopyObject), status records read
from the bucket, notifications read from the MNS queue subscribed to the topic.

Each case ends in one terminal state (or the documented `waiting`) with one terminal notification
per import, problems that say where, what and what to do, and the sources left alone."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import oss2
import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_tea_openapi.models import Config
from cli_process import cli
from imagedrop_cli.demo import sample_files
from imagedrop.model.status import StatusRecord
from mns.account import Account
from mns.mns_exception import MNSExceptionBase

DISKS = Path(__file__).parents[1] / "fixtures" / "disks"
TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}
WAIT_SECONDS = 90


class Up:
    """A running `imagedrop local up` and real clients for it."""

    def __init__(self, proc: subprocess.Popen[str], info: dict[str, str], tmp: Path):
        self.proc, self.info, self.tmp = proc, info, tmp
        self.bucket = oss2.Bucket(oss2.Auth(info["access_key_id"], info["access_key_secret"]), info["oss"],
                                  info["bucket"])
        self.ecs = EcsClient(Config(access_key_id=info["access_key_id"],
                                    access_key_secret=info["access_key_secret"], region_id=info["region"],
                                    endpoint=info["ecs"].removeprefix("http://"), protocol="http"))
        inbox = Account(info["mns"], info["access_key_id"], info["access_key_secret"]).get_queue(
            "imagedrop-events-inbox")
        inbox.set_encoding(False)
        self.inbox = inbox
        self.notifications: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    # ---- producing
    def fixture(self, name: str) -> Path:
        out = self.tmp / name
        if not out.exists():
            out.write_bytes(gzip.decompress((DISKS / f"{name}.gz").read_bytes()))
        return out

    def drop(self, key: str, disk: Path | bytes, manifest: dict[str, Any] | bytes) -> str:
        self.put(key, disk)
        self.put(key + ".json", manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode())
        return key + ".json"

    def put(self, key: str, data: Path | bytes) -> None:
        if isinstance(data, Path):
            self.bucket.put_object_from_file(key, str(data))
        else:
            self.bucket.put_object(key, data)

    # ---- observing
    def record(self, manifest_key: str) -> StatusRecord | None:
        try:
            return StatusRecord.model_validate_json(
                self.bucket.get_object(f"imagedrop/status/{manifest_key}").read())
        except oss2.exceptions.NoSuchKey:
            return None

    def settle(self, manifest_key: str, *, until: set[str] = TERMINAL, image_id: str | None = None) -> StatusRecord:
        """Poll the status record until it is in one of `until` (and not the import `image_id` names)."""
        deadline = time.monotonic() + WAIT_SECONDS
        record = None
        while time.monotonic() < deadline:
            record = self.record(manifest_key)
            if record and record.state in until and (image_id is None or record.image_id != image_id):
                return record
            time.sleep(0.1)
        raise AssertionError(f"{manifest_key} did not reach {until}: {record}")

    def drain(self) -> None:
        with self._lock:
            while True:
                try:
                    messages = self.inbox.batch_receive_message(16, 0)
                except MNSExceptionBase as exc:
                    if exc.type == "MessageNotExist":
                        return
                    raise
                for message in messages:
                    self.notifications.append(json.loads(message.message_body))
                    self.inbox.delete_message(message.receipt_handle)

    def events(self, manifest_key: str) -> list[dict[str, Any]]:
        self.drain()
        return [e for e in self.notifications if e["subject"] == manifest_key]

    def ends(self, manifest_key: str, import_id: str, expect: int = 1) -> list[str]:
        """Terminal notification states of one import; waits a little for them to arrive."""
        deadline = time.monotonic() + 10
        while True:
            found = [e["type"].rsplit(".", 1)[-1] for e in self.events(manifest_key)
                     if e["data"]["id"] == import_id and e["type"].rsplit(".", 1)[-1] in TERMINAL]
            if len(found) >= expect or time.monotonic() > deadline:
                time.sleep(0.3)  # a duplicate would arrive about now
                return [e["type"].rsplit(".", 1)[-1] for e in self.events(manifest_key)
                        if e["data"]["id"] == import_id and e["type"].rsplit(".", 1)[-1] in TERMINAL]
            time.sleep(0.1)

    def images_named(self, name: str) -> list[Any]:
        answer = self.ecs.describe_images(ecs_models.DescribeImagesRequest(
            region_id=self.info["region"], image_name=name, image_owner_alias="self",
            status="Creating,Waiting,Available,UnAvailable,CreateFailed", page_size=100))
        return list(answer.body.images.image) if answer.body.images and answer.body.images.image else []

    def keys(self, prefix: str) -> list[str]:
        return [o.key for o in oss2.ObjectIterator(self.bucket, prefix=prefix)]


_cli = cli


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    tmp = tmp_path_factory.mktemp("up")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEDROP_")}
    proc = subprocess.Popen(_cli("local", "up", "--speed", "600"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp)
    assert proc.stdout
    info = json.loads(proc.stdout.readline())
    try:
        yield Up(proc, info, tmp)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _sample() -> tuple[Path, dict[str, Any]]:
    disk, manifest = sample_files()
    return disk, json.loads(manifest.read_text())


def _named(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return {**manifest, "image_name": name}


def _problems_are_clear(record: StatusRecord) -> str:
    assert record.problems, record.model_dump_json(indent=1)
    for problem in record.problems:
        assert problem.where.strip() and problem.rule.strip(), problem
        # what to do: in `fix`, or after the rule as the manifest checker phrases it ("…; do this")
        assert problem.fix.strip() or "; " in problem.rule, problem.line()
    return " ".join(p.line() for p in record.problems)


def _once(up: Up, manifest_key: str, record: StatusRecord) -> None:
    assert up.ends(manifest_key, record.id) == [record.state]


# ---------------------------------------------------------------- keys and uploads

@pytest.mark.parametrize("key", [
    "incoming/e2e space/web image.qcow2",
    "incoming/e2e+plus/web+1.qcow2",
    "incoming/e2e%20pct/web%2B.qcow2",
    "incoming/e2e日本語/イメージ.qcow2",
    "incoming/e2e/a/b/c/d/e/f/deep.qcow2",
], ids=["space", "plus", "percent", "unicode", "deep"])
def test_odd_keys(up: Up, key: str) -> None:
    disk, manifest = _sample()
    name = "odd-" + str(abs(hash(key)) % 10**8)
    manifest_key = up.drop(key, disk, _named(manifest, name))
    record = up.settle(manifest_key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    assert record.disks[0].key == key
    _once(up, manifest_key, record)
    assert len(up.images_named(name)) == 1
    assert {key, manifest_key} <= set(up.keys(key.rsplit("/", 1)[0]))


def test_multipart_disk(up: Up) -> None:
    disk, manifest = _sample()
    key = "incoming/e2e-multipart/web.qcow2"
    up.put(key + ".json", json.dumps(_named(manifest, "e2e-multipart")).encode())
    assert up.settle(key + ".json", until={"waiting"}).state == "waiting"
    oss2.resumable_upload(up.bucket, key, str(disk), multipart_threshold=100 * 1024, part_size=100 * 1024,
                          store=oss2.ResumableStore(root=str(up.tmp)))
    record = up.settle(key + ".json")
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    _once(up, key + ".json", record)


def test_copied_disk(up: Up) -> None:
    disk, manifest = _sample()
    up.put("staging/e2e-copy.qcow2", disk)
    key = "incoming/e2e-copy/web.qcow2"
    up.put(key + ".json", json.dumps(_named(manifest, "e2e-copy")).encode())
    up.settle(key + ".json", until={"waiting"})
    up.bucket.copy_object(up.info["bucket"], "staging/e2e-copy.qcow2", key)
    record = up.settle(key + ".json")
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    _once(up, key + ".json", record)


# ---------------------------------------------------------------- a manifest uploaded again

def test_manifest_replaced_soon_after_gets_one_clear_rejection(up: Up) -> None:
    # Given an import under way (or just ended: at 600x a small import takes a fraction of a second)
    disk, manifest = _sample()
    key = "incoming/e2e-twice/web.qcow2"
    manifest_key = up.drop(key, disk, _named(manifest, "e2e-twice"))
    first = up.settle(manifest_key, until={"importing", "checking", "finishing", "succeeded"})
    # When another version of the manifest, same image name, lands under the same key
    up.put(manifest_key, json.dumps({**_named(manifest, "e2e-twice"), "description": "v2 of it"}).encode())
    # Then the first import succeeds, once, and the second version is rejected, once, clearly
    done = up.settle(manifest_key, until={"succeeded"})
    assert done.id == first.id
    _once(up, manifest_key, done)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        others = [e for e in up.events(manifest_key) if e["data"]["id"] != first.id]
        if any(e["type"].endswith(".rejected") for e in others):
            break
        time.sleep(0.1)
    ends = [e for e in up.events(manifest_key) if e["data"]["id"] != first.id
            and e["type"].rsplit(".", 1)[-1] in TERMINAL]
    assert [e["type"] for e in ends] == ["imagedrop.import.rejected"], ends
    text = " ".join(ends[0]["data"]["problems"])
    assert ("InvalidImageName.Duplicated" in text and "image_name" in text) or "cancel" in text, text
    assert len(up.images_named("e2e-twice")) == 1


def test_manifest_replaced_after_success_same_name_is_rejected_with_advice(up: Up) -> None:
    disk, manifest = _sample()
    key = "incoming/e2e-again/web.qcow2"
    manifest_key = up.drop(key, disk, _named(manifest, "e2e-again"))
    first = up.settle(manifest_key)
    assert first.state == "succeeded"
    up.put(manifest_key, json.dumps({**_named(manifest, "e2e-again"), "description": "v2 of it"}).encode())
    record = up.settle(manifest_key, until={"rejected"})
    assert record.id != first.id
    text = _problems_are_clear(record)
    assert "InvalidImageName.Duplicated" in text and "image_name" in text
    _once(up, manifest_key, record)
    assert up.ends(manifest_key, first.id) == ["succeeded"]
    assert len(up.images_named("e2e-again")) == 1


def test_same_content_again_is_no_new_import(up: Up) -> None:
    disk, manifest = _sample()
    key = "incoming/e2e-same/web.qcow2"
    manifest_key = up.drop(key, disk, _named(manifest, "e2e-same"))
    first = up.settle(manifest_key)
    assert first.state == "succeeded"
    seen = len(up.events(manifest_key))
    up.drop(key, disk, _named(manifest, "e2e-same"))
    time.sleep(2)
    assert up.record(manifest_key).id == first.id  # type: ignore[union-attr]
    assert len(up.events(manifest_key)) == seen
    assert len(up.images_named("e2e-same")) == 1


# ---------------------------------------------------------------- what arrives, what does not

def test_disk_that_never_arrives_waits(up: Up) -> None:
    _, manifest = _sample()
    manifest_key = "incoming/e2e-ghost/web.qcow2.json"
    up.put(manifest_key, json.dumps(_named(manifest, "e2e-ghost")).encode())
    record = up.settle(manifest_key, until={"waiting"})
    assert "incoming/e2e-ghost/web.qcow2" in (record.progress or "")
    time.sleep(1)
    assert [e["type"] for e in up.events(manifest_key)] == ["imagedrop.import.waiting"]
    assert up.record(manifest_key).state == "waiting"  # type: ignore[union-attr]


def test_data_disks_in_a_subfolder(up: Up) -> None:
    disk, manifest = _sample()
    manifest = {**_named(manifest, "e2e-data"), "data_disks": [{"object": "data/one.qcow2"}]}
    up.put("incoming/e2e-data/data/one.qcow2", up.fixture("ext4-bare.qcow2"))
    manifest_key = up.drop("incoming/e2e-data/web.qcow2", disk, manifest)
    record = up.settle(manifest_key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    assert [d.key for d in record.disks] == ["incoming/e2e-data/web.qcow2", "incoming/e2e-data/data/one.qcow2"]
    _once(up, manifest_key, record)
    assert up.record("incoming/e2e-data/data/one.qcow2.json") is None


def test_outside_incoming_and_the_state_prefix_never_trigger(up: Up) -> None:
    disk, manifest = _sample()
    up.drop("elsewhere/e2e/web.qcow2", disk, _named(manifest, "e2e-outside"))
    up.drop("imagedrop/e2e/web.qcow2", disk, _named(manifest, "e2e-state"))
    up.put("incoming/e2e-nobody/web.qcow2.json.cancel", b"")
    time.sleep(2)
    for key in ("elsewhere/e2e/web.qcow2.json", "imagedrop/e2e/web.qcow2.json",
                "incoming/e2e-nobody/web.qcow2.json"):
        assert up.record(key) is None
        assert up.events(key) == []
    assert up.images_named("e2e-outside") == [] and up.images_named("e2e-state") == []


# ---------------------------------------------------------------- broken input

@pytest.mark.parametrize("case", ["empty-disk", "truncated-qcow2", "not-utf8", "huge-manifest"])
def test_broken_input_is_rejected_clearly(up: Up, case: str) -> None:
    disk, manifest = _sample()
    manifest = _named(manifest, f"e2e-{case}")
    body = json.dumps(manifest).encode()
    data: Path | bytes = disk
    expect = ""
    if case == "empty-disk":
        data, expect = b"", "0 bytes"
    elif case == "truncated-qcow2":
        full = up.fixture("gpt-both.qcow2").read_bytes()
        data, expect = full[: len(full) // 2], "truncated"
    elif case == "not-utf8":
        body, expect = json.dumps({**manifest, "description": "café"}, ensure_ascii=False).encode("latin-1"), "UTF-8"
    elif case == "huge-manifest":
        body, expect = json.dumps({**manifest, "padding": "y" * (300 * 1024)}).encode(), "larger than"
    key = f"incoming/e2e-{case}/web.qcow2"
    manifest_key = up.drop(key, data, body)
    record = up.settle(manifest_key)
    assert record.state == "rejected", record.model_dump_json(indent=1)
    assert expect.lower() in _problems_are_clear(record).lower()
    _once(up, manifest_key, record)
    assert {key, manifest_key} <= set(up.keys(key.rsplit("/", 1)[0]))
    assert up.images_named(f"e2e-{case}") == []


# ---------------------------------------------------------------- guest rules

def test_windows_byol(up: Up) -> None:
    manifest = {"image_name": "e2e-win", "os_type": "windows", "platform": "Windows Server 2022",
                "architecture": "x86_64", "license_type": "BYOL"}
    manifest_key = up.drop("incoming/e2e-win/win.qcow2", up.fixture("gpt-windows.qcow2"), manifest)
    record = up.settle(manifest_key)
    assert record.state == "succeeded", record.model_dump_json(indent=1)
    [image] = up.images_named("e2e-win")
    assert image.license_type == "BYOL" and image.ostype == "windows"
    _once(up, manifest_key, record)


def test_arm64_bios_only_is_rejected(up: Up) -> None:
    _, manifest = _sample()
    manifest_key = up.drop("incoming/e2e-arm/web.qcow2", up.fixture("gpt-bios.qcow2"),
                           {**_named(manifest, "e2e-arm"), "architecture": "arm64"})
    record = up.settle(manifest_key)
    assert record.state == "rejected"
    text = _problems_are_clear(record)
    assert "architecture" in text and "UEFI" in text
    _once(up, manifest_key, record)


# ---------------------------------------------------------------- many at once

def test_twenty_pairs_at_once(up: Up) -> None:
    disk, manifest = _sample()
    keys = [f"incoming/e2e-burst/{i:02d}/web.qcow2" for i in range(20)]

    def drop(i: int) -> None:
        up.drop(keys[i], disk, _named(manifest, f"e2e-burst-{i:02d}"))

    threads = [threading.Thread(target=drop, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, key in enumerate(keys):
        record = up.settle(key + ".json")
        assert record.state == "succeeded", record.model_dump_json(indent=1)
        _once(up, key + ".json", record)
        assert len(up.images_named(f"e2e-burst-{i:02d}")) == 1
