"""Where the commands connect: the local stack file, IMAGEDROP_LOCAL, flags, the credential chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagedrop.config import load_settings
from imagedrop_cli.ops.connection import ConnectionOptions, resolve
from imagedrop_cli.ops.exit_codes import OpsError

STACK = {"oss": "http://127.0.0.1:1", "ecs": "http://127.0.0.1:2", "mns": "http://127.0.0.1:3",
         "fc": "http://127.0.0.1:4", "region": "cn-hangzhou", "access_key_id": "AK", "access_key_secret": "SK",
         "bucket": "imagedrop-local", "queue": "q", "topic": "t", "account_id": "1234567890123456"}


def test_local_reads_the_stack_file_local_up_writes(tmp_path: Path) -> None:
    (tmp_path / ".imagedrop-local").mkdir()
    (tmp_path / ".imagedrop-local" / "stack.json").write_text(json.dumps(STACK) + "\n")
    conn = resolve(ConnectionOptions(local=True), env={}, cwd=tmp_path)
    assert (conn.oss_endpoint, conn.fc_endpoint, conn.bucket, conn.queue) == (
        "http://127.0.0.1:1", "http://127.0.0.1:4", "imagedrop-local", "q")
    assert conn.credentials.access_key_id == "AK" and conn.local


def test_imagedrop_local_takes_the_json_or_a_file(tmp_path: Path) -> None:
    as_json = resolve(ConnectionOptions(), env={"IMAGEDROP_LOCAL": json.dumps(STACK)}, cwd=tmp_path)
    path = tmp_path / "up.log"
    path.write_text(json.dumps(STACK) + "\ndrop a disk …\n")  # `local up` output, first line is the JSON
    as_file = resolve(ConnectionOptions(bucket="other"), env={"IMAGEDROP_LOCAL": str(path)}, cwd=tmp_path)
    assert as_json.oss_endpoint == as_file.oss_endpoint == "http://127.0.0.1:1"
    assert as_file.bucket == "other"  # a flag still wins


def test_no_local_stack_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(OpsError) as caught:
        resolve(ConnectionOptions(local=True), env={}, cwd=tmp_path)
    assert "imagedrop local up" in caught.value.message and caught.value.exit_code == 2
    with pytest.raises(OpsError) as broken:
        resolve(ConnectionOptions(), env={"IMAGEDROP_LOCAL": '{"oss": "x"}'}, cwd=tmp_path)
    assert "lacks bucket, region, access_key_id, access_key_secret" in broken.value.message


def test_cloud_settings_use_the_credential_chain(tmp_path: Path) -> None:
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIchain", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "chain-secret",
           "ALIBABA_CLOUD_SECURITY_TOKEN": "tok"}
    conn = resolve(ConnectionOptions(bucket="drop", region="cn-shanghai", account_id="42"), env=env, cwd=tmp_path)
    assert (conn.credentials.access_key_id, conn.credentials.access_key_secret,
            conn.credentials.security_token) == ("LTAIchain", "chain-secret", "tok")
    assert conn.oss_endpoint == "https://oss-cn-shanghai.aliyuncs.com"
    assert conn.mns_endpoint == "https://42.mns.cn-shanghai.aliyuncs.com"
    assert conn.fc_endpoint == "https://42.cn-shanghai.fc.aliyuncs.com"


def test_cloud_without_a_bucket_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OpsError) as caught:
        resolve(ConnectionOptions(), env={}, cwd=tmp_path)
    assert caught.value.message.startswith("--bucket:")


def test_the_deployment_settings_are_read_as_the_functions_read_them(tmp_path: Path) -> None:
    env = {"FC_REGION": "cn-shanghai", "FC_ACCOUNT_ID": "1234567890123456", "IMAGEDROP_BUCKET": "b",
           "IMAGEDROP_WATCH_PREFIX": "drop", "IMAGEDROP_STATE_PREFIX": "state",
           "IMAGEDROP_QUEUE": "q", "IMAGEDROP_TOPIC": "t",
           "IMAGEDROP_ECS_ENDPOINT": "ecs.example.test",
           "ALIBABA_CLOUD_ACCESS_KEY_ID": "AK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK"}
    conn = resolve(ConnectionOptions(), env=env, cwd=tmp_path)
    settings = load_settings({**env, "IMAGEDROP_MNS_ENDPOINT": conn.mns_endpoint or ""})
    assert (conn.region, conn.account_id) == (settings.region, settings.account_id) == (
        "cn-shanghai", "1234567890123456")
    assert (conn.watch_prefix, conn.state_prefix) == (
        settings.watch_prefix, settings.state_prefix) == ("drop/", "state/")
    assert (conn.queue, conn.topic, conn.ecs_endpoint) == (settings.queue, settings.topic,
                                                           settings.ecs_endpoint)
    assert conn.mns_endpoint == "https://1234567890123456.mns.cn-shanghai.aliyuncs.com"
