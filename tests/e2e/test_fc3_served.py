"""Function Compute 3.0 over loopback, as `imagedrop local serve` and `local up` run it: the real
`alibabacloud-fc20230330` client (ACS3-HMAC-SHA256, `/2023-03-30/functions/...`), and the
`imagedrop replay` and `doctor` commands as child processes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Iterator

import oss2
import pytest
from alibabacloud_fc20230330 import models
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_util.models import RuntimeOptions

from cli_process import clean_env, cli, serve

pytestmark = pytest.mark.server
Info = dict[str, str]


def _fc(info: Info, secret: str | None = None) -> Client:
    return Client(Config(access_key_id=info["access_key_id"],
                         access_key_secret=secret or info["access_key_secret"],
                         region_id=info["region"], endpoint=info["fc"].removeprefix("http://"),
                         protocol="http"))


@pytest.fixture(scope="module")
def served() -> Iterator[Info]:
    yield from serve()


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Info, Path]]:
    cwd = tmp_path_factory.mktemp("up")
    proc = subprocess.Popen(cli("local", "up", "--speed", "600"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=clean_env(), cwd=cwd)
    assert proc.stdout
    try:
        yield json.loads(proc.stdout.readline()), cwd
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_local_serve_answers_the_fc3_sdk_with_fc3_errors(served: Info) -> None:
    assert served["fc"].startswith("http://127.0.0.1:")
    with pytest.raises(ClientException) as missing:   # serve runs no functions
        _fc(served).get_function_with_options("imagedrop-ingest", models.GetFunctionRequest(), {},
                                              RuntimeOptions())
    assert (missing.value.status_code, missing.value.code) == (404, "FunctionNotFound")
    assert "function 'imagedrop-ingest' does not exist." in missing.value.message
    with pytest.raises(ClientException) as wrong:
        _fc(served, secret="wrong").get_function_with_options("imagedrop-ingest",
                                                              models.GetFunctionRequest(), {},
                                                              RuntimeOptions())
    assert wrong.value.code == "SignatureDoesNotMatch"


def test_local_up_serves_both_functions_their_triggers_and_async_calls(up: tuple[Info, Path]) -> None:
    info, _ = up
    fc = _fc(info)
    for name, trigger_type in (("imagedrop-ingest", "oss"), ("imagedrop-poller", "eventbridge")):
        function = fc.get_function_with_options(name, models.GetFunctionRequest(), {},
                                                RuntimeOptions()).body
        assert (function.function_name, function.runtime) == (name, "python3.12")
        triggers = fc.list_triggers_with_options(name, models.ListTriggersRequest(), {},
                                                 RuntimeOptions()).body.triggers
        assert [t.trigger_type for t in triggers] == [trigger_type]
    ingest = fc.list_triggers_with_options("imagedrop-ingest", models.ListTriggersRequest(), {},
                                           RuntimeOptions()).body
    config = json.loads(ingest.triggers[0].trigger_config)
    assert config["filter"]["key"]["prefix"] == "incoming/"
    accepted = fc.invoke_function_with_options(
        "imagedrop-ingest",
        models.InvokeFunctionRequest(body=b'{"events": []}', qualifier="LATEST"),
        models.InvokeFunctionHeaders(x_fc_invocation_type="Async"), RuntimeOptions())
    assert accepted.status_code == 202 and accepted.headers["x-fc-request-id"]


def test_replay_and_doctor_reach_the_fc3_functions(up: tuple[Info, Path]) -> None:
    info, cwd = up
    bucket = oss2.Bucket(oss2.Auth(info["access_key_id"], info["access_key_secret"]), info["oss"],
                         info["bucket"])
    bucket.put_object("incoming/replayed/notes.txt.json", b"{}")
    env = clean_env(IMAGEDROP_LOCAL=json.dumps(info))
    replay = subprocess.run(cli("replay", "incoming/replayed/", "--local", "--json"),
                            capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    assert replay.returncode == 0, replay.stderr
    done = json.loads(replay.stdout)
    assert [(d["key"], d["error"]) for d in done] == [("incoming/replayed/notes.txt.json", "")]
    assert done[0]["request_id"]
    doctor = subprocess.run(cli("doctor", "--local", "--json"), capture_output=True, text=True,
                            env=env, cwd=cwd, timeout=60)
    checks = {c["check"]: c for c in json.loads(doctor.stdout)["checks"]}
    for name in ("function imagedrop-ingest", "trigger of imagedrop-ingest",
                 "function imagedrop-poller", "trigger of imagedrop-poller"):
        assert checks[name]["ok"], checks[name]
