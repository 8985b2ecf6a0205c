"""The local stack keeps Function Compute's limits: an invocation past its timeout is stopped (what
it still tries to write is refused), retried as an async invocation is, then dead-lettered; and an
ingest that would pass its timeout stops itself in time to leave a record saying why."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import oss2
import pytest

from imagedrop_cli.local import function_limits
from imagedrop_emulator.local import LocalStack
from imagedrop_emulator.local import FunctionLimits

from pipeline_harness import running

deployment = contextmanager(running)


def test_an_invocation_past_its_timeout_is_stopped_fenced_retried_and_dead_lettered() -> None:
    started: list[float] = []
    late_writes: list[str] = []
    done = threading.Event()
    endpoint: dict[str, str] = {}

    def slow(payload: bytes, context: Any) -> None:
        started.append(time.monotonic())
        env = context.environment  # python3.12: the role's credentials are in the environment
        assert not hasattr(context, "credentials") and context.function.timeout == 0.3
        bucket = oss2.Bucket(oss2.StsAuth(env["ALIBABA_CLOUD_ACCESS_KEY_ID"],
                                          env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
                                          env["ALIBABA_CLOUD_SECURITY_TOKEN"]),
                             endpoint["oss"], "imagedrop-local")
        time.sleep(0.8)  # past the 0.3 s timeout
        try:
            bucket.put_object("imagedrop/late-write", b"x")
            late_writes.append("written")
        except oss2.exceptions.OssError as exc:
            late_writes.append(exc.code)
        if len(late_writes) == 4:
            done.set()

    limits = {"imagedrop-ingest": FunctionLimits(timeout=0.3, async_retries=3,
                                                 dead_letter_queue="imagedrop-track-dlq")}
    functions = {"imagedrop-ingest": slow, "imagedrop-poller": lambda payload, context: None}
    with LocalStack(functions=functions, limits=limits, background=False, speed=0) as stack:
        assert stack.info
        endpoint["oss"] = stack.info.oss
        stack.cloud.oss.put_object("imagedrop-local", "incoming/web.qcow2", b"disk")
        stack.cloud.pump.run_until_idle()
        assert done.wait(10), late_writes
        # The first try and three retries, each stopped at the timeout
        assert len(started) == 4
        assert [e.error for e in stack.cloud.pump.errors] == [
            "FunctionTimeout: Function timed out after 0.3 seconds (imagedrop-ingest)"] * 4
        # and nothing an abandoned invocation wrote afterwards reached the bucket
        assert late_writes == ["InvalidAccessKeyId"] * 4
        listed = stack.cloud.oss.list_objects("imagedrop-local", prefix="imagedrop/")
        assert "imagedrop/late-write" not in json.dumps(listed, default=str)
        (dead,) = stack.cloud.mns.take_messages("imagedrop-track-dlq", 10)
    record = json.loads(dead.body)
    assert record["requestContext"]["condition"] == "FunctionTimeout"
    assert record["requestContext"]["approximateInvokeCount"] == 4
    assert record["requestContext"]["functionArn"].endswith(":functions/imagedrop-ingest")
    assert json.loads(record["requestPayload"])["events"][0]["oss"]["object"]["key"] == "incoming/web.qcow2"


def test_a_function_that_succeeds_on_a_retry_is_not_dead_lettered() -> None:
    calls: list[int] = []

    def flaky(payload: bytes, context: Any) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("not yet")

    limits = {"imagedrop-ingest": FunctionLimits(timeout=5, dead_letter_queue="imagedrop-track-dlq")}
    functions = {"imagedrop-ingest": flaky, "imagedrop-poller": lambda payload, context: None}
    with LocalStack(functions=functions, limits=limits, background=False, speed=0) as stack:
        stack.cloud.oss.put_object("imagedrop-local", "incoming/a.raw", b"disk")
        stack.cloud.pump.run_until_idle()
        assert len(calls) == 3
        assert stack.cloud.mns.take_messages("imagedrop-track-dlq", 10) == []


@pytest.mark.parametrize("memory", [100, 500, 40960])
def test_a_memory_size_fc_would_refuse_is_refused(memory: int) -> None:
    with pytest.raises(ValueError, match=f"memorySize {memory}: FC takes 128 to 32768 MB"):
        FunctionLimits(memory_mb=memory)


def test_the_functions_run_with_s_yaml_limits_and_report_them() -> None:
    seen: list[Any] = []
    limits = function_limits()
    functions = {"imagedrop-ingest": lambda payload, context: seen.append(context.function),
                 "imagedrop-poller": lambda payload, context: None}
    with LocalStack(functions=functions, limits=limits, background=False, speed=0) as stack:
        stack.sink("imagedrop-ingest")(b"{}")
        fc = stack.cloud.fc
        shapes = {name: fc.function_shape(fc.function(name)) for name in limits}
    (function,) = seen
    assert (function.timeout, function.memory) == (120, 512)
    assert {name: (s["runtime"], s["timeout"], s["memorySize"]) for name, s in shapes.items()} == {
        "imagedrop-ingest": ("python3.12", 120, 512), "imagedrop-poller": ("python3.12", 300, 512)}


def test_an_ingest_that_would_pass_its_timeout_ends_with_a_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A disk that takes long to read: each of its reads takes 0.1 s, and it needs a hundred,
    # while the ingest has 2 s.
    import imagedrop_disk

    real_inspect = imagedrop_disk.inspect

    def slow_inspect(source: Any) -> Any:
        for _ in range(100):
            source.read(0, 512)
            time.sleep(0.1)
        return real_inspect(source)

    monkeypatch.setattr(imagedrop_disk, "inspect", slow_inspect)
    limits = function_limits()
    limits["imagedrop-ingest"] = replace(limits["imagedrop-ingest"], timeout=2)
    with deployment(tmp_path, limits=limits) as h:
        disk, manifest = h.sample()
        key = h.drop(disk, manifest)
        h.run()
        record = h.status(key)
        timeouts = [e for e in h.cloud.pump.errors if "FunctionTimeout" in e.error]
        events = [json.loads(m.body) for m in h.cloud.mns.take_messages("imagedrop-events-inbox", 20)]
    assert record.state == "failed"
    (problem,) = record.problems
    assert problem.code == "function_timeout"
    assert "timeout was nearly spent while reading incoming/web.qcow2" in problem.rule
    assert "raise `timeout` of imagedrop-ingest in s.yaml" in problem.fix
    assert f"imagedrop replay {key}" in problem.fix
    assert record.image_id is None and h.cloud.ecs.tasks == {}
    assert timeouts == []  # it stopped itself before the platform had to
    assert "imagedrop.import.failed" in {e["type"] for e in events}
