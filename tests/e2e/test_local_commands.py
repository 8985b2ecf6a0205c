"""The README's first command and `local serve`/`local up`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import oss2
import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_tea_openapi.models import Config
from mns.account import Account

from cli_process import clean_env, cli
from imagedrop_cli.demo import sample_files
from imagedrop.model.status import StatusRecord

ENDPOINT_KEYS = {"oss", "ecs", "mns", "region", "access_key_id", "access_key_secret", "bucket",
                 "queue", "topic"}


_cli, _env = cli, clean_env


def _start(*args: str, **env: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(_cli(*args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=_env(**env))
    assert proc.stdout
    line = proc.stdout.readline()
    return proc, json.loads(line)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.parametrize("faults", ["", "ecs:*:throttle@0.3,oss:*:503@0.1,mns:*:reset@0.1"],
                         ids=["plain", "with-faults"])
def test_demo_runs_the_pipeline_end_to_end_and_exits_zero(faults: str, tmp_path: Path) -> None:
    args = ["local", "demo", "--timeout", "120"] + (["--faults", faults] if faults else [])
    done = subprocess.run(_cli(*args), capture_output=True, text=True, env=_env(), timeout=180,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    record = StatusRecord.model_validate_json(done.stdout)
    assert record.state == "succeeded"
    assert record.image_id and record.image_id.startswith("m-")
    assert "notifications" in done.stderr and "succeeded" in done.stderr


def test_demo_with_every_event_in_two_instances_announces_each_state_once(tmp_path: Path) -> None:
    # Eight instances at once, every event (uploads, every poll) handed to two of them at once
    args = ["local", "demo", "--timeout", "120", "--concurrency", "8", "--twins", "1", "--seed", "3"]
    done = subprocess.run(_cli(*args), capture_output=True, text=True, env=_env(), timeout=180,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert StatusRecord.model_validate_json(done.stdout).state == "succeeded"
    shown = [line.split(":", 1)[0].strip() for line in done.stderr.splitlines()
             if line.strip().startswith("imagedrop.import.")]
    assert shown == [f"imagedrop.import.{s}" for s in ("importing", "checking", "finishing", "succeeded")]


@pytest.mark.parametrize("command", ["up", "demo"])
def test_instance_options_that_cannot_work_are_one_line_and_exit_2(command: str, tmp_path: Path) -> None:
    for option, value, rule in (("--concurrency", "0", "1 or more"), ("--twins", "1.5", "between 0 and 1")):
        done = subprocess.run(_cli("local", command, option, value), capture_output=True, text=True,
                              env=_env(), timeout=60, cwd=tmp_path)
        assert done.returncode == 2 and done.stdout == ""
        [line] = done.stderr.strip().splitlines()
        assert f"{option} {value}" in line and rule in line


def test_local_serve_answers_real_clients_on_every_endpoint() -> None:
    proc, info = _start("local", "serve")
    try:
        assert ENDPOINT_KEYS <= set(info)
        for name in ("oss", "ecs", "mns"):
            assert info[name].startswith("http://127.0.0.1:")
        # OSS: the bucket exists and takes objects
        bucket = oss2.Bucket(oss2.Auth(info["access_key_id"], info["access_key_secret"]), info["oss"],
                             info["bucket"])
        bucket.put_object("hello.txt", b"hi")
        assert bucket.get_object("hello.txt").read() == b"hi"
        # ECS: the SDK signs with ACS3-HMAC-SHA256 and gets an answer
        ecs = EcsClient(Config(access_key_id=info["access_key_id"], access_key_secret=info["access_key_secret"],
                               region_id=info["region"], endpoint=info["ecs"].removeprefix("http://"),
                               protocol="http"))
        answer = ecs.describe_images(ecs_models.DescribeImagesRequest(region_id=info["region"]))
        assert answer.body.total_count == 0
        # MNS: the queue and the topic exist
        account = Account(info["mns"], info["access_key_id"], info["access_key_secret"])
        account.get_queue(info["queue"]).get_attributes()
        account.get_topic(info["topic"]).get_attributes()
    finally:
        _stop(proc)


def test_local_up_imports_what_a_real_client_uploads() -> None:
    proc, info = _start("local", "up", "--speed", "120")
    try:
        bucket = oss2.Bucket(oss2.Auth(info["access_key_id"], info["access_key_secret"]), info["oss"],
                             info["bucket"])
        disk, manifest = sample_files()
        bucket.put_object_from_file("incoming/cli/web.qcow2", str(disk))
        bucket.put_object_from_file("incoming/cli/web.qcow2.json", str(manifest))
        deadline = time.monotonic() + 60
        record = None
        while time.monotonic() < deadline:
            try:
                record = StatusRecord.model_validate_json(
                    bucket.get_object("imagedrop/status/incoming/cli/web.qcow2.json").read())
            except oss2.exceptions.NoSuchKey:
                record = None
            if record and record.terminal:
                break
            time.sleep(0.2)
        assert record is not None and record.state == "succeeded", record
    finally:
        _stop(proc)
