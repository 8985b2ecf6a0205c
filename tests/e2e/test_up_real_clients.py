"""`imagedrop local up` as the project owners check it: started with its settings in the
environment (a generic webhook that verifies its Standard Webhooks signature, a DingTalk robot that verifies
its signed URL, a Slack webhook, all on loopback), driven with plain `oss2`, the notifications read
with `aliyun-mns-sdk` from a queue the user subscribes to the topic, the images read with
`alibabacloud-ecs20140526`, and `imagedrop status --local` compared with what those clients saw.

Settings that are missing or wrong stop `local up` (and `local demo`) before anything starts, in
one line naming the variable, instead of failing every event the functions receive."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import oss2
import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_tea_openapi.models import Config
from mns.account import Account
from mns.mns_exception import MNSExceptionBase
from mns.queue import QueueMeta
from mns.subscription import SubscriptionMeta

from cli_process import clean_env, cli
from receivers import signed_by
from imagedrop_cli.demo import sample_files

README = Path(__file__).parents[2] / "README.md"
TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"team-webhook-secret-of-32-bytes!").decode()
DINGTALK_SECRET = "SECdingtalk-robot-secret"
FLAKY = "incoming/rc-flaky/web.qcow2.json"   # the generic webhook answers 500 while this one imports


_cli, _env = cli, clean_env


# ---------------------------------------------------------------- settings wrong in the environment

@pytest.mark.parametrize("variable, value, expect", [
    ("IMAGEDROP_WEBHOOK_URLS", "https://ok.example/hook,not-a-url", "'not-a-url'"),
    ("IMAGEDROP_WEBHOOK_URLS", "file:///etc/passwd", "http"),
    ("IMAGEDROP_DINGTALK_URL", "oapi.dingtalk.com/robot/send?access_token=TOKEN", "http"),
    ("IMAGEDROP_SLACK_URL", "hooks.slack.com/services/T0/B0/TOKEN", "http"),
    ("IMAGEDROP_POLL_FIRST_SECONDS", "-5", "'-5'"),
    ("IMAGEDROP_POLL_MAX_SECONDS", "often", "integer"),
    ("IMAGEDROP_STATE_PREFIX", "incoming/state/", "overlap"),
], ids=["webhook-not-a-url", "webhook-file", "dingtalk-no-scheme", "slack-no-scheme",
        "negative-poll", "poll-not-a-number", "state-under-watch"])
def test_local_up_refuses_wrong_settings_in_one_line_naming_the_variable(
        variable: str, value: str, expect: str, tmp_path: Path) -> None:
    done = subprocess.run(_cli("local", "up"), capture_output=True, text=True, timeout=30, cwd=tmp_path,
                          env=_env(**{variable: value}))
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""  # no endpoints line: nothing is up
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert variable in lines[0] and expect in lines[0], lines[0]
    assert "TOKEN" not in lines[0]  # robot and Slack URLs carry their token: never echoed
    assert not (tmp_path / ".imagedrop-local" / "stack.json").exists()


def test_a_first_poll_after_the_maximum_is_refused_naming_both(tmp_path: Path) -> None:
    done = subprocess.run(_cli("local", "up"), capture_output=True, text=True, timeout=30, cwd=tmp_path,
                          env=_env(IMAGEDROP_POLL_FIRST_SECONDS="900", IMAGEDROP_POLL_MAX_SECONDS="60"))
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "IMAGEDROP_POLL_FIRST_SECONDS" in line and "IMAGEDROP_POLL_MAX_SECONDS" in line


@pytest.mark.parametrize("args, env, expect", [
    ([], {"IMAGEDROP_LOCAL_SPEED": "fast"}, "IMAGEDROP_LOCAL_SPEED 'fast'"),
    ([], {"IMAGEDROP_LOCAL_SPEED": "-3"}, "IMAGEDROP_LOCAL_SPEED '-3'"),
    (["--speed", "nan"], {}, "--speed nan"),
], ids=["env-not-a-number", "env-negative", "option-nan"])
def test_a_speed_that_cannot_work_is_refused_and_not_blamed_on_faults(
        args: list[str], env: dict[str, str], expect: str, tmp_path: Path) -> None:
    done = subprocess.run(_cli("local", "up", *args), capture_output=True, text=True, timeout=30,
                          cwd=tmp_path, env=_env(**env))
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert expect in line and "0 or more" in line and "--faults" not in line, line


def test_local_demo_refuses_wrong_settings_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(_cli("local", "demo", "--timeout", "30"), capture_output=True, text=True,
                          timeout=30, cwd=tmp_path, env=_env(IMAGEDROP_WEBHOOK_URLS="hooks"))
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "IMAGEDROP_WEBHOOK_URLS" in line and "Traceback" not in done.stderr


# ---------------------------------------------------------------- receivers on loopback

class Receivers:
    """Generic webhook (/hook), DingTalk robot (/robot/send?access_token=…), Slack (/services/…)."""

    def __init__(self) -> None:
        self.hook: list[dict[str, Any]] = []
        self.dingtalk: list[dict[str, Any]] = []
        self.slack: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                url = urlsplit(self.path)
                code, reply = 200, b"ok"
                if url.path == "/hook":
                    event = json.loads(body)
                    flaky = event["subject"] == FLAKY and event["type"] == "imagedrop.import.importing"
                    code = 500 if flaky else 200
                    outer.hook.append({"event": event, "code": code,
                                       "signed": signed_by(WEBHOOK_SECRET, dict(self.headers), body)})
                elif url.path == "/robot/send":
                    query = parse_qs(url.query)
                    stamp = query["timestamp"][0]
                    digest = hmac.new(DINGTALK_SECRET.encode(), f"{stamp}\n{DINGTALK_SECRET}".encode(),
                                      hashlib.sha256).digest()
                    outer.dingtalk.append({"signed": query["sign"][0] == base64.b64encode(digest).decode(),
                                           "token": query["access_token"][0], "body": json.loads(body)})
                    reply = b'{"errcode":0,"errmsg":"ok"}'
                elif url.path.startswith("/services/"):
                    outer.slack.append(json.loads(body))
                else:
                    code = 404
                self.send_response(code)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Up:
    def __init__(self, proc: subprocess.Popen[str], info: dict[str, str], cwd: Path, hooks: Receivers):
        self.proc, self.info, self.cwd, self.hooks = proc, info, cwd, hooks
        ak, sk = info["access_key_id"], info["access_key_secret"]
        self.bucket = oss2.Bucket(oss2.Auth(ak, sk), info["oss"], info["bucket"])
        self.ecs = EcsClient(Config(access_key_id=ak, access_key_secret=sk, region_id=info["region"],
                                    endpoint=info["ecs"].removeprefix("http://"), protocol="http"))
        # the user's own queue, subscribed to the topic `local up` names
        account = Account(info["mns"], ak, sk)
        self.queue = account.get_queue("rc-team-inbox")
        self.queue.create(QueueMeta())
        self.queue.set_encoding(False)
        account.get_topic(info["topic"]).get_subscription("rc-team").subscribe(SubscriptionMeta(
            f"acs:mns:{info['region']}:{info['account_id']}:queues/rc-team-inbox",
            notify_content_format="SIMPLIFIED"))
        self.events: list[dict[str, Any]] = []

    def drop(self, key: str, manifest: dict[str, Any], *, manifest_first: bool = False) -> str:
        disk, _ = sample_files()
        steps = [lambda: self.bucket.put_object_from_file(key, str(disk)),
                 lambda: self.bucket.put_object(key + ".json", json.dumps(manifest))]
        for step in (steps[::-1] if manifest_first else steps):
            step()
        return key + ".json"

    def record(self, manifest_key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.bucket.get_object(f"imagedrop/status/{manifest_key}").read())
        except oss2.exceptions.NoSuchKey:
            return None

    def settle(self, manifest_key: str, *, recorded_failure: bool = False) -> dict[str, Any]:
        """The record once terminal (and, with `recorded_failure`, once a failed delivery is in it)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            record = self.record(manifest_key)
            if record and record["state"] in TERMINAL and (record["notifications"] or not recorded_failure):
                return record
            time.sleep(0.1)
        raise AssertionError(f"{manifest_key}: {self.record(manifest_key)}")

    def notifications(self, manifest_key: str) -> list[dict[str, Any]]:
        """The topic's events about `manifest_key`, once its terminal one has come (the record
        is written before the notifications go out)."""
        deadline = time.monotonic() + 20
        while True:
            events = self._drain(manifest_key)
            if any(e["type"].rsplit(".", 1)[-1] in TERMINAL for e in events) or time.monotonic() > deadline:
                return events
            time.sleep(0.1)

    def _drain(self, manifest_key: str) -> list[dict[str, Any]]:
        while True:
            try:
                messages = self.queue.batch_receive_message(16, 0)
            except MNSExceptionBase as exc:
                if exc.type == "MessageNotExist":
                    break
                raise
            for message in messages:
                self.events.append(json.loads(message.message_body))
                self.queue.delete_message(message.receipt_handle)
        return [e for e in self.events if e["subject"] == manifest_key]

    def images(self, region: str, name: str) -> list[Any]:
        answer = self.ecs.describe_images(ecs_models.DescribeImagesRequest(
            region_id=region, image_name=name, image_owner_alias="self",
            status="Creating,Waiting,Available,UnAvailable,CreateFailed", page_size=100))
        return list(answer.body.images.image or []) if answer.body.images else []

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(_cli(*args), capture_output=True, text=True, timeout=60, cwd=self.cwd,
                              env=_env())


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    cwd = tmp_path_factory.mktemp("up-real-clients")
    hooks = Receivers()
    env = _env(IMAGEDROP_WEBHOOK_URLS=f"{hooks.base}/hook", IMAGEDROP_WEBHOOK_SECRET=WEBHOOK_SECRET,
               IMAGEDROP_DINGTALK_URL=f"{hooks.base}/robot/send?access_token=robot-token",
               IMAGEDROP_DINGTALK_SECRET=DINGTALK_SECRET,
               IMAGEDROP_SLACK_URL=f"{hooks.base}/services/T000/B000/slack-token")
    proc = subprocess.Popen(_cli("local", "up", "--speed", "600"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=cwd)
    try:
        assert proc.stdout
        yield Up(proc, json.loads(proc.stdout.readline()), cwd, hooks)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        hooks.close()


def _manifest(name: str, **extra: Any) -> dict[str, Any]:
    _, path = sample_files()
    return {**json.loads(path.read_text()), "image_name": name, **extra}


def _readme_sample() -> dict[str, Any]:
    text = README.read_text()
    block = text.split("<!-- BEGIN sample-cloudevent -->", 1)[1].split("<!-- END sample-cloudevent -->", 1)[0]
    return json.loads(re.search(r"```json\n(.*?)```", block, re.S).group(1))  # type: ignore[union-attr]


# ---------------------------------------------------------------- the pipeline, seen by real clients

def test_both_orders_finishing_options_and_every_channel(up: Up) -> None:
    # Given a disk-then-manifest drop with copies, shares, a family and cleanup, and a
    # manifest-then-disk drop whose first webhook delivery keeps answering 500
    full = up.drop("incoming/rc-full/web.qcow2", _manifest(
        "rc-full", copy_to_regions=["ap-northeast-1"], share_with_accounts=["1111222233334444", 5555666677778888],
        image_family="rc-family", delete_source_on_success=True))
    flaky = up.drop("incoming/rc-flaky/web.qcow2", _manifest("rc-flaky"), manifest_first=True)
    done = {key: up.settle(key) for key in (full, flaky)}

    # Then both succeed, and ECS says so through its own client
    assert [r["state"] for r in done.values()] == ["succeeded", "succeeded"], done
    [image] = up.images(up.info["region"], "rc-full")
    assert (image.image_id, image.status, image.image_family) == (done[full]["image_id"], "Available", "rc-family")
    [copy] = up.images("ap-northeast-1", "rc-full")
    assert copy.image_id == done[full]["copies"]["ap-northeast-1"]["image_id"] and copy.status == "Available"
    shared = up.ecs.describe_image_share_permission(ecs_models.DescribeImageSharePermissionRequest(
        region_id=up.info["region"], image_id=image.image_id)).body.accounts.account
    assert sorted(a.aliyun_id for a in shared) == ["1111222233334444", "5555666677778888"]
    assert [o.key for o in oss2.ObjectIterator(up.bucket, prefix="incoming/rc-full/")] == []
    assert len(up.images(up.info["region"], "rc-flaky")) == 1

    # The webhook that failed is in the status record, and only that delivery
    assert done[full]["notifications"] == []
    # (instances run at once: the import may end while the ingest still retries that webhook)
    done[flaky] = up.settle(flaky, recorded_failure=True)
    [failure] = done[flaky]["notifications"]
    assert failure["channel"] == "webhook" and "500" in failure["error"]
    assert failure["event"].endswith("-importing-1") or failure["event"].endswith("-importing-2")

    # The topic's notifications, read from the user's own subscribed queue: one per state change,
    # shaped as README's sample, and the same events the generic webhook received, signed
    sample = _readme_sample()
    seen = {key: up.notifications(key) for key in done}
    deadline = time.monotonic() + 20  # Slack is the last channel each event goes to
    while len(up.hooks.slack) < len(up.events) and time.monotonic() < deadline:
        time.sleep(0.1)
    for key, record in done.items():
        events = seen[key]
        ids = [e["id"] for e in events]
        assert len(ids) == len(set(ids)) and events[-1]["type"] == "imagedrop.import.succeeded"
        assert [e["type"].rsplit(".", 1)[-1] for e in events if e["type"].endswith(tuple(TERMINAL))] == ["succeeded"]
        last = events[-1]
        assert set(last) == set(sample) and set(last["data"]) == set(sample["data"])
        assert (last["specversion"], last["datacontenttype"], last["subject"]) == ("1.0", "application/json", key)
        assert last["source"] == f"acs:oss:{up.info['region']}:{up.info['account_id']}:{up.info['bucket']}"
        assert last["data"]["image_id"] == record["image_id"] and last["data"]["id"] == record["id"]
        hooked = [h for h in up.hooks.hook if h["event"]["subject"] == key]
        assert all(h["signed"] for h in hooked)
        assert [h["event"] for h in hooked if h["code"] == 200] == [
            e for e in events if not (key == flaky and e["type"].endswith(".importing"))]
    assert up.notifications(full)[-1]["data"]["copies"]["ap-northeast-1"]["image_id"] == copy.image_id
    flaky_tries = [h for h in up.hooks.hook if h["event"]["subject"] == flaky and h["code"] == 500]
    assert len(flaky_tries) >= 2  # retried before it was given up and recorded

    # DingTalk got a signed URL with its token kept, Slack its message, once per event
    assert up.hooks.dingtalk and all(d["signed"] and d["token"] == "robot-token" for d in up.hooks.dingtalk)
    texts = [d["body"]["markdown"]["title"] for d in up.hooks.dingtalk]
    assert f"imagedrop: {full} is succeeded" in texts and f"imagedrop: {flaky} is succeeded" in texts
    assert len(up.hooks.slack) == len(up.hooks.dingtalk) == len(up.events)

    # `imagedrop status --local` and `watch --local` say what the clients saw
    listed = up.cli("status", "incoming/rc-", "--local", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["key"]: r for r in json.loads(listed.stdout)}
    assert {k: (rows[k]["state"], rows[k]["image_id"]) for k in done} == {
        k: ("succeeded", r["image_id"]) for k, r in done.items()}
    watched = up.cli("watch", full, "--local")
    assert watched.returncode == 0 and done[full]["image_id"] in watched.stdout + watched.stderr
