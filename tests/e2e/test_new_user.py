"""What a new user trips over, from a fresh clone: `./dev`, the README's commands, `--local`, the
one-line errors (no tracebacks, no SDK reprs), Ctrl-C/SIGTERM, and README statements that must
stay true. Every process here talks to loopback only."""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import oss2
import pytest
from typer.testing import CliRunner

from cli_process import cli
from imagedrop_cli import app
from imagedrop_cli.demo import sample_files
from imagedrop_cli.ops.exit_codes import OpsError
from imagedrop_cli.ops.imports import manifest_key_of

ROOT = Path(__file__).resolve().parents[2]
DISK, MANIFEST = sample_files()


_cli = cli


def _as_at_a_terminal() -> None:
    """Popen's preexec_fn: Ctrl-C interrupts the command, as at a terminal. A test run from a
    background job of a script inherits SIGINT ignored, and Python keeps an ignored SIGINT
    ignored, so without this the signal these tests send would be lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _env(**extra: str) -> dict[str, str]:
    """The environment of a new user: no IMAGEDROP_* setting, no Alibaba Cloud credentials, no
    ~/.aliyun profile, and the ECS metadata service off (conftest: loopback only)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("IMAGEDROP_", "ALIBABA_CLOUD_ACCESS", "ALIBABA_CLOUD_SECURITY"))}
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    env.update(extra)
    return env


def _run(*args: str, cwd: Path | None = None, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cli(*args), capture_output=True, text=True, env=_env(**env), cwd=cwd, timeout=timeout)


def _one_clear_line(stderr: str, *must: str) -> str:
    """An error is one line naming what and what to do: never a traceback or an SDK's dict repr."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "{'status'" not in stderr and "x-oss-request-id" not in stderr, stderr
    for text in must:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    """`imagedrop local up` (or `serve`) running in a folder, as a user starts it."""

    def __init__(self, folder: Path, *args: str):
        self.folder = folder
        self.proc = subprocess.Popen(_cli("local", *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=_env(), cwd=folder)
        assert self.proc.stdout and self.proc.stderr
        self.line = self.proc.stdout.readline().strip()
        self.info: dict[str, Any] = json.loads(self.line)
        # The stack logs on stderr as it works: drain it, or a full pipe would stall it.
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        try:
            self.hint = self._lines.get(timeout=30)
        except queue.Empty:
            self.hint = ""

    def _drain(self, pipe: Any) -> None:
        for line in pipe:
            self._lines.put(line)

    @property
    def bucket(self) -> Any:
        return oss2.Bucket(oss2.Auth(self.info["access_key_id"], self.info["access_key_secret"]),
                           self.info["oss"], self.info["bucket"])

    def run(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return _run(*args, cwd=self.folder, **kw)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.stdout:
                self.proc.stdout.close()


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(tmp_path, "up")
    try:
        yield stack
    finally:
        stack.stop()


# --- ./dev ------------------------------------------------------------------------------------

def test_dev_without_arguments_prints_its_usage_with_every_subcommand_the_readme_names() -> None:
    done = subprocess.run([str(ROOT / "dev")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    readme = (ROOT / "README.md").read_text()
    for sub in sorted(set(re.findall(r"`\./dev (\w+)", readme))):
        assert f"./dev {sub}" in done.stdout, sub
    wrong = subprocess.run([str(ROOT / "dev"), "nope"], capture_output=True, text=True, timeout=30)
    assert wrong.returncode == 2
    assert "unknown command 'nope'" in _one_clear_line(wrong.stderr)


def test_dev_refuses_an_old_python_in_one_line_before_making_a_venv(tmp_path: Path) -> None:
    old = tmp_path / "python3.8"
    old.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo 'Python 3.8.10'\nexit 1\n")
    old.chmod(0o755)
    venv = tmp_path / "venv"
    done = subprocess.run([str(ROOT / "dev"), "demo"], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PYTHON": str(old), "IMAGEDROP_VENV": str(venv)})
    assert done.returncode == 2
    line = _one_clear_line(done.stderr, "Python 3.10", "Python 3.8.10", "PYTHON=")
    assert "demo" in line
    assert not venv.exists()


def test_dev_shell_runs_the_command_in_the_callers_folder(tmp_path: Path) -> None:
    venv = tmp_path / "venv"  # an environment already set up: ./dev installs nothing
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    tool = venv / "bin" / "imagedrop"
    tool.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'from imagedrop_cli import main; main()' \"$@\"\n")
    tool.chmod(0o755)
    (venv / ".imagedrop-installed").touch()
    os.utime(venv / ".imagedrop-installed", (time.time() + 3600, time.time() + 3600))
    here = tmp_path / "work"
    here.mkdir()
    (here / "mine.json").write_bytes(MANIFEST.read_bytes())
    done = subprocess.run([str(ROOT / "dev"), "shell", "validate", "mine.json"], capture_output=True, text=True,
                          timeout=60, cwd=here, env={**_env(), "IMAGEDROP_VENV": str(venv)})
    assert (done.returncode, done.stderr) == (0, "")
    missing = subprocess.run([str(ROOT / "dev"), "shell", "validate", "nope.json"], capture_output=True, text=True,
                             timeout=60, cwd=here, env={**_env(), "IMAGEDROP_VENV": str(venv)})
    assert missing.returncode == 1
    _one_clear_line(missing.stderr, "nope.json", "no such file")


# --- credentials, bucket names, unreachable endpoints ------------------------------------------

def test_missing_credentials_are_one_line_and_the_chain_logs_no_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from alibabacloud_credentials.exceptions import CredentialException
    from alibabacloud_credentials.provider import default

    from imagedrop_cli.ops.connection import chain_credentials

    def failing_chain(self: object) -> None:
        try:
            raise CredentialException("Failed to get RAM session credentials from ECS metadata service.")
        except CredentialException:  # what the library's ECS role link does off ECS
            logging.getLogger("credentials").exception("Failed to get RAM session credentials")
        raise CredentialException("unable to load credentials from any of the providers in the chain: "
                                  "['EnvironmentVariableCredentialsProvider: Environment variable accessKeyId "
                                  "cannot be empty', 'CLIProfileCredentialsProvider: unable to open "
                                  "credentials file', 'EcsRamRoleCredentialsProvider: Failed to get RAM']")

    monkeypatch.setattr(default.DefaultCredentialsProvider, "get_credentials", failing_chain)
    with pytest.raises(OpsError) as caught:
        chain_credentials({})
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "Failed to get RAM" not in captured.err
    message = caught.value.message
    assert "\n" not in message and "ALIBABA_CLOUD_ACCESS_KEY_ID" in message and "--local" in message
    assert "(tried: CLIProfile, EcsRamRole, EnvironmentVariable)" in message
    assert not logging.getLogger("credentials").disabled  # put back for whoever logs next


def test_an_invalid_bucket_name_is_one_line_not_an_oss2_traceback(tmp_path: Path) -> None:
    creds = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "AK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK"}
    for args in (["status"], ["watch", "incoming/x.qcow2"], ["cancel", "incoming/x.qcow2"],
                 ["push", str(DISK), "--manifest", str(MANIFEST)]):
        done = _run(*args, "--bucket", "ab", "--endpoint", f"http://127.0.0.1:{_closed_port()}", cwd=tmp_path, **creds)
        assert done.returncode == 2, (args, done.stderr)
        _one_clear_line(done.stderr, "'ab'", "not an OSS bucket name")


def test_an_unreachable_endpoint_is_named_with_a_short_reason(tmp_path: Path) -> None:
    creds = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "AK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK"}
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    for args in (["status"], ["watch", "incoming/x.qcow2"], ["replay", "incoming/"],
                 ["push", str(DISK), "--manifest", str(MANIFEST)]):
        done = _run(*args, "--bucket", "my-images", "--endpoint", endpoint, cwd=tmp_path, **creds)
        assert done.returncode == 3, (args, done.stderr)
        _one_clear_line(done.stderr, "connection refused")


def test_push_reports_the_files_problems_before_asking_for_credentials_or_a_stack(tmp_path: Path) -> None:
    broken = tmp_path / "web.qcow2.json"
    broken.write_text('{"image_name": "web-1", "os_type": "linux",}')
    for where in (["--bucket", "my-images"], ["--local"]):  # no credentials; no `local up` here
        done = _run("push", str(DISK), "--manifest", str(broken), *where, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "manifest: the manifest is not valid JSON" in done.stderr
        assert "credentials" not in done.stderr and "local up" not in done.stderr
        assert done.stderr.strip().endswith("nothing was uploaded")


def test_doctor_does_not_pass_the_role_check_when_ecs_never_answered(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    done = _run("doctor", "--bucket", "my-images", "--endpoint", closed, "--json", cwd=tmp_path,
                ALIBABA_CLOUD_ACCESS_KEY_ID="AK", ALIBABA_CLOUD_ACCESS_KEY_SECRET="SK",
                IMAGEDROP_ECS_ENDPOINT=closed)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    checks = {c["check"]: c for c in report["checks"]}
    role = checks["import role AliyunECSImageImportDefaultRole"]
    assert role["ok"] is False and "cannot reach ECS" in role["detail"] and role["fix"]
    creds = checks["credentials work"]
    assert creds["ok"] is False and "connection refused" in creds["detail"]
    assert all("RetryError" not in c["detail"] and "{'" not in c["detail"] for c in report["checks"])


# --- local serve / local up ---------------------------------------------------------------------

@pytest.mark.parametrize("command", ["serve", "up", "demo"])
def test_local_options_that_cannot_work_are_one_line_and_exit_2(command: str, tmp_path: Path) -> None:
    bad_faults = _run("local", command, "--faults", "ecs:*:nope", cwd=tmp_path, timeout=60)
    assert bad_faults.returncode == 2 and bad_faults.stdout == ""
    _one_clear_line(bad_faults.stderr, "'ecs:*:nope'", "e.g. ecs:ImportImage:throttle*2")
    backwards = _run("local", command, "--speed", "-1", cwd=tmp_path, timeout=60)
    assert backwards.returncode == 2 and backwards.stdout == ""
    _one_clear_line(backwards.stderr, "--speed -1", "0 or more")
    assert not (tmp_path / ".imagedrop-local").exists()
    shown = CliRunner().invoke(app, ["local", command, "--help"], terminal_width=200)
    assert "throttle*2" in shown.output and "mns:*:latency=20ms" in shown.output  # not eaten as markdown


def test_local_up_says_how_to_use_it_and_removes_its_stack_file_when_stopped(tmp_path: Path) -> None:
    stack = Stack(tmp_path, "up")
    stack_file = tmp_path / ".imagedrop-local" / "stack.json"
    try:
        assert "--local" in stack.hint and "IMAGEDROP_LOCAL=" in stack.hint
        assert "IMAGEDROP_OSS_ENDPOINT" not in stack.hint  # that alone never worked
        assert stack_file.read_text().strip() == stack.line
        listed = stack.run("status", "--local", "--json")
        assert listed.returncode == 0 and json.loads(listed.stdout) == []
    finally:
        code = stack.stop(signal.SIGTERM)
    assert code == 0
    assert not stack_file.exists()
    # A stack file left behind (a killed `local up`) is named, not reported as a bad endpoint.
    stack_file.write_text(stack.line + "\n")
    for args in (["status"], ["doctor"], ["watch", "incoming/web.qcow2"],
                 ["push", str(DISK), "--manifest", str(MANIFEST)]):
        done = _run(*args, "--local", cwd=tmp_path)
        assert done.returncode == 3, (args, done.stderr)
        _one_clear_line(done.stderr, "not running", "imagedrop local up")


def test_inspect_oss_against_local_serve_with_local_or_imagedrop_local(tmp_path: Path) -> None:
    stack = Stack(tmp_path, "serve")
    try:
        assert "IMAGEDROP_LOCAL" in stack.hint and "Ctrl-C" in stack.hint
        stack.bucket.put_object_from_file("incoming/web.qcow2", str(DISK))
        url = "oss://imagedrop-local/incoming/web.qcow2"
        by_env = stack.run("inspect", url, "--json", IMAGEDROP_LOCAL=stack.line)
        assert by_env.returncode == 0, by_env.stderr
        assert json.loads(by_env.stdout)["format"] == "qcow2"
        (tmp_path / ".imagedrop-local").mkdir()
        (tmp_path / ".imagedrop-local" / "stack.json").write_text(stack.line + "\n")
        by_flag = stack.run("inspect", url, "--json", "--local")
        assert by_flag.returncode == 0, by_flag.stderr
        assert json.loads(by_flag.stdout) == json.loads(by_env.stdout)
        no_bucket = stack.run("inspect", "oss://not-there/incoming/web.qcow2", "--local")
        assert no_bucket.returncode == 2
        _one_clear_line(no_bucket.stderr, "no bucket 'not-there'")
        no_object = stack.run("inspect", "oss://imagedrop-local/incoming/nope.qcow2", "--local")
        assert no_object.returncode == 2
        _one_clear_line(no_object.stderr, "no object 'incoming/nope.qcow2'")
        no_creds = stack.run("inspect", url)  # the cloud, without credentials: one line that says --local
        assert no_creds.returncode == 2
        _one_clear_line(no_creds.stderr, "no Alibaba Cloud credentials", "--local")
    finally:
        assert stack.stop(signal.SIGINT) == 0


def test_pushing_the_same_bytes_again_with_wait_ends_at_once_on_the_existing_image(up: Stack) -> None:
    first = up.run("push", str(DISK), "--manifest", str(MANIFEST), "--local", "--wait", "--json")
    assert first.returncode == 0, first.stderr
    image = json.loads(first.stdout)["image_id"]
    again = up.run("push", str(DISK), "--manifest", str(MANIFEST), "--local", "--wait", "--timeout", "90")
    assert again.returncode == 0, again.stderr  # before: no terminal state until --timeout (exit 4)
    assert f"imported before, as image {image}" in again.stderr
    assert image in again.stdout
    # watch and cancel take the key the way people write it
    watched = up.run("watch", "oss://imagedrop-local/incoming/web.qcow2", "--local", "--json")
    assert watched.returncode == 0, watched.stderr
    assert json.loads(watched.stdout)["image_id"] == image
    ended = up.run("cancel", "incoming/web.qcow2.cancel", "--local")
    assert ended.returncode == 2
    _one_clear_line(ended.stderr, "incoming/web.qcow2.json", "already ended succeeded")


def test_push_refuses_before_uploading_while_an_import_of_that_manifest_runs(tmp_path: Path) -> None:
    stack = Stack(tmp_path, "up", "--speed", "1")  # an import takes a real minute
    try:
        started = stack.run("push", str(DISK), "--manifest", str(MANIFEST), "--local")
        assert started.returncode == 0, started.stderr
        for _ in range(300):
            rows = json.loads(stack.run("status", "--local", "--json").stdout)
            if rows and rows[0]["state"] != "waiting":
                break
            time.sleep(0.2)
        assert rows and rows[0]["state"] == "importing", rows
        etag = stack.bucket.head_object("incoming/web.qcow2.json").etag
        again = stack.run("push", str(DISK), "--manifest", str(MANIFEST), "--local")
        assert again.returncode == 2
        assert "still importing" in again.stderr and "imagedrop cancel" in again.stderr
        assert "nothing was uploaded" in again.stderr
        assert stack.bucket.head_object("incoming/web.qcow2.json").etag == etag
        # Without --manifest, a missing field is named by its option.
        bare = stack.run("push", str(DISK), "--local")
        assert bare.returncode == 2
        assert "imagedrop push: --image-name: required" in bare.stderr
        # os type, platform and architecture may be left out: they are read from the disk
        for flag in ("--os-type", "--platform", "--architecture"):
            assert f"imagedrop push: {flag}: required" not in bare.stderr
        assert '"image_name"' not in bare.stderr
    finally:
        assert stack.stop() == 0


def test_watch_stopped_with_ctrl_c_says_the_import_goes_on(tmp_path: Path) -> None:
    stack = Stack(tmp_path, "up", "--speed", "1")
    try:
        started = stack.run("push", str(DISK), "--manifest", str(MANIFEST), "--local")
        assert started.returncode == 0, started.stderr
        for _ in range(300):
            if stack.run("status", "--local", "--json").stdout.strip() not in ("", "[]"):
                break
            time.sleep(0.2)
        watch = subprocess.Popen(_cli("watch", "incoming/web.qcow2", "--local"), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path,
                                 preexec_fn=_as_at_a_terminal)
        assert watch.stderr
        first = watch.stderr.readline()  # the first state it saw: it is now waiting
        assert "incoming/web.qcow2.json:" in first
        watch.send_signal(signal.SIGINT)
        out, err = watch.communicate(timeout=30)
        assert watch.returncode == 130
        states = [line for line in err.splitlines() if line.startswith("incoming/web.qcow2.json: ")]
        _one_clear_line("\n".join(line for line in err.splitlines() if line not in states),
                        "stopped waiting", "imagedrop watch", "imagedrop cancel")
    finally:
        assert stack.stop() == 0


def test_push_stopped_with_ctrl_c_says_nothing_is_imported_and_how_to_resume(tmp_path: Path) -> None:
    stack = Stack(tmp_path, "up", "--faults", "oss:UploadPart:latency=400ms")  # a slow upload to stop
    try:
        args = ["push", str(DISK), "--manifest", str(MANIFEST), "--local", "--part-size", "102400", "--threads", "1"]
        push = subprocess.Popen(_cli(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=_env(), cwd=tmp_path, preexec_fn=_as_at_a_terminal)
        bucket = stack.bucket
        for _ in range(300):
            checkpoints = tmp_path / ".imagedrop-push" / "checkpoints"
            if (checkpoints.is_dir() and any(checkpoints.iterdir())) or push.poll() is not None:
                break
            time.sleep(0.05)
        push.send_signal(signal.SIGINT)
        out, err = push.communicate(timeout=30)
        assert push.returncode == 130, err
        last = err.strip().splitlines()[-1]
        assert "Traceback" not in err
        assert "nothing is imported" in last and "run the same command again" in last and ".imagedrop-push" in last
        assert not bucket.object_exists("incoming/web.qcow2.json")
        again = stack.run(*args)
        assert again.returncode == 0, again.stderr
        assert bucket.get_object("incoming/web.qcow2").read() == DISK.read_bytes()
    finally:
        assert stack.stop() == 0


def test_demo_stops_cleanly_on_ctrl_c_and_sigterm(tmp_path: Path) -> None:
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        demo = subprocess.Popen(_cli("local", "demo", "--speed", "1"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
        assert demo.stderr
        banner = demo.stderr.readline()
        assert "OSS http://127.0.0.1:" in banner and "MNS http://127.0.0.1:" in banner  # one line, unwrapped
        while "(the manifest)" not in demo.stderr.readline():
            assert demo.poll() is None
        demo.send_signal(sig)
        out, err = demo.communicate(timeout=30)
        assert demo.returncode == code, err
        assert "interrupted" in err and "Traceback" not in err
        assert out == ""


# --- README statements --------------------------------------------------------------------------

def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_every_flag_the_readme_commands_section_names_is_in_that_commands_help() -> None:
    section = _readme_section("Commands")
    runner = CliRunner()
    checked = 0
    for row in re.findall(r"^\| `imagedrop ([a-z]+)[^|]*\|.*$", section, flags=re.M):
        line = next(r for r in section.splitlines() if r.startswith(f"| `imagedrop {row}"))
        flags = set(re.findall(r"(--[a-z][a-z-]+)", line))
        if not flags:
            continue
        shown = runner.invoke(app, [row, "--help"], terminal_width=200)
        assert shown.exit_code == 0, shown.output
        for flag in flags:
            assert flag in shown.output, (row, flag)
            checked += 1
    for flag in set(re.findall(r"`[^`]*?(--[a-z][a-z-]+)", section)):
        assert any(flag in runner.invoke(app, [c, "--help"], terminal_width=200).output
                   for c in ("push", "status", "watch", "cancel", "replay", "doctor", "inspect")), flag
    assert checked >= 8


def test_the_readme_inspect_example_is_what_the_sample_prints() -> None:
    text = (ROOT / "README.md").read_text()
    example = re.search(r"\$ imagedrop inspect (\S+) --json\n(\{.*?…\})", text, flags=re.S)
    assert example, "the README's inspect example is gone"
    path, shown = example.groups()
    assert (ROOT / path).is_file(), path
    done = CliRunner().invoke(app, ["inspect", str(ROOT / path), "--json"])
    assert done.exit_code == 0
    real = json.loads(done.stdout)
    for key, value in re.findall(r'"(\w+)": ([^,…}]+)', shown):
        assert json.dumps(real[key]) == value.strip(), (key, value, real[key])


def test_manifest_keys_are_taken_the_ways_people_write_them() -> None:
    for written in ("incoming/web.qcow2", "incoming/web.qcow2.json", "incoming/web.qcow2.json.cancel",
                    "incoming/web.qcow2.cancel", "oss://imagedrop-local/incoming/web.qcow2",
                    "oss://imagedrop-local/incoming/web.qcow2.json"):
        assert manifest_key_of(written) == "incoming/web.qcow2.json", written
