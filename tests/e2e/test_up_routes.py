"""Routes through `imagedrop local up`: two teams' folders, each with its route in the bucket.
team-a subscribes its own HTTP endpoint to the topic with `imagedrop subscribe` (FilterTag,
SIMPLIFIED) and hears exactly its imports' ends; team-b's webhook hears exactly team-b's, signed
for `standardwebhooks`; the deployment-wide webhook hears everything. Every body is read back
whole by the `cloudevents` SDK, and team-b's hostile key reaches no chat channel and no CLI
command as markup."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import oss2
import pytest
from receivers import Inbox, Received, assert_same_event, read_event, signed_by

from cli_process import clean_env, cli
from imagedrop_cli.demo import sample_files

TERMINAL = {"succeeded", "rejected", "failed", "cancelled"}
ALL_SECRET = "whsec_" + base64.b64encode(b"deployment-wide-key-0123456789ab").decode()
B_SECRET = "whsec_" + base64.b64encode(b"team-b-own-key-0123456789abcdef!").decode()
HOSTILE = ("incoming/team-b/x\n#### imagedrop: incoming/team-b/ok.json is succeeded\n"
           "- note: approved, sign in at https://evil.example/sso [/] [link=https://evil.example]y[/link] "
           "\x1b]8;;https://evil.example\x1b\\z\x1b]8;;\x1b\\ \x1b[5mblink")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path, Inbox]]:
    cwd = tmp_path_factory.mktemp("up-routes")
    inbox = Inbox()
    inbox.thread.start()
    env = clean_env(IMAGEDROP_WEBHOOK_URLS=f"{inbox.url}/all", IMAGEDROP_WEBHOOK_SECRET=ALL_SECRET)
    proc = subprocess.Popen(cli("local", "up", "--speed", "600"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=cwd)
    try:
        assert proc.stdout
        yield json.loads(proc.stdout.readline()), cwd, inbox
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        inbox.close()


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cli(*args), capture_output=True, text=True, timeout=60, cwd=cwd, env=clean_env())
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def test_two_teams_hear_their_own_ends_and_the_deployment_hears_all(
        stack: tuple[dict[str, str], Path, Inbox]) -> None:
    info, cwd, inbox = stack
    routes = {"routes": [
        {"name": "team-a", "prefix": "incoming/team-a/", "states": sorted(TERMINAL)},
        {"name": "team-b", "prefix": "incoming/team-b/", "states": sorted(TERMINAL),
         "webhooks": [{"url": f"{inbox.url}/team-b", "secret": B_SECRET}],
         "slack": {"url": f"{inbox.url}/slack/T/B/tok-slack"},
         "dingtalk": {"url": f"{inbox.url}/robot/send?access_token=tok-ding", "secret": "SEC-ding"},
         "lark": {"url": f"{inbox.url}/lark/hook/tok-lark", "secret": "lark-sec"},
         "teams": {"url": f"{inbox.url}/teams/workflow?sig=tok-teams"}}]}
    (cwd / "routes.json").write_text(json.dumps(routes))
    # Given the routes checked, uploaded and shown redacted, and team-a's subscription
    run(cwd, "routes", "check", "routes.json")
    run(cwd, "routes", "put", "routes.json", "--local")
    shown = run(cwd, "routes", "show", "--local").stdout
    for secret in ("tok-slack", "tok-ding", "SEC-ding", "tok-lark", "lark-sec", "tok-teams", B_SECRET):
        assert secret not in shown
    assert '"team-b"' in shown
    run(cwd, "subscribe", "team-a", "--endpoint", f"{inbox.url}/team-a-mns", "--local")
    unknown = subprocess.run(cli("subscribe", "team-c", "--endpoint", f"{inbox.url}/c", "--local"),
                             capture_output=True, text=True, timeout=60, cwd=cwd, env=clean_env())
    assert unknown.returncode == 2 and "route 'team-c': not in the bucket's routes file" in unknown.stderr

    # When each team drops imports (one ends rejected), and a folder without a route one
    bucket = oss2.Bucket(oss2.Auth(info["access_key_id"], info["access_key_secret"]), info["oss"], info["bucket"])
    disk, sample = sample_files()
    manifest = json.loads(sample.read_text())
    keys = {"incoming/team-a/web.qcow2": "a-web", "incoming/team-a/bad.qcow2": "",
            HOSTILE + ".qcow2": "b-web", "incoming/nobody/web.qcow2": "n-web"}
    for key, name in keys.items():
        bucket.put_object_from_file(key, str(disk))
        bucket.put_object(key + ".json", json.dumps({**manifest, "image_name": name}))
    ends = {key + ".json": _end(bucket, key + ".json") for key in keys}
    assert ends["incoming/team-a/bad.qcow2.json"]["state"] == "rejected"
    assert ends[HOSTILE + ".qcow2.json"]["state"] == "succeeded", ends

    # Then, once every delivery has come (the topic's last one is the deployment's last)
    everything = _settled(inbox, "/all", minimum=4 * 2)
    sent = {}
    for got in everything:
        assert signed_by(ALL_SECRET, got.headers, got.body)
        event = read_event(got.headers, got.body)
        sent[event.get_id()] = json.loads(got.body)
        assert_same_event(event, sent[event.get_id()])
    assert {e["subject"] for e in sent.values()} == set(ends)
    terminal = {e["subject"]: e for e in sent.values() if e["data"]["state"] in TERMINAL}
    assert set(terminal) == set(ends)

    def ends_of(team: str) -> list[str]:
        return sorted(e["id"] for k, e in terminal.items() if k.startswith(f"incoming/{team}/"))

    # team-a's MNS subscription: exactly team-a's ends, each body the CloudEvent itself
    team_a = _settled(inbox, "/team-a-mns", minimum=2)
    assert sorted(read_event(g.headers, g.body).get_id() for g in team_a) == ends_of("team-a")
    for got in team_a:
        assert_same_event(read_event(got.headers, got.body), sent[json.loads(got.body)["id"]])
        assert got.headers["x-mns-message-tag"] == "team-a"
    # team-b's webhook: exactly team-b's ends, signed with team-b's key and no other
    team_b = inbox.on("/team-b")
    assert sorted(json.loads(g.body)["id"] for g in team_b) == ends_of("team-b")
    for got in team_b:
        assert signed_by(B_SECRET, got.headers, got.body) and not signed_by(ALL_SECRET, got.headers, got.body)
        assert_same_event(read_event(got.headers, got.body), sent[json.loads(got.body)["id"]])

    # team-b's hostile key is text in every chat channel: one line, no escape sequence
    chats = {path: inbox.on(path) for path in ("/slack/T/B/tok-slack", "/robot/send", "/lark/hook/tok-lark",
                                                "/teams/workflow")}
    for path, got in chats.items():
        assert len(got) == 1, path
        body = got[0].body.decode()
        assert "\\u001b" not in body and "\\n####" not in body and "\\n- note" not in body, (path, body)
    dingtalk = json.loads(chats["/robot/send"][0].body)["markdown"]["text"]
    assert len(dingtalk.split("\n")) == 2 + len([line for line in dingtalk.split("\n")[2:]])
    assert all(line.startswith("- ") for line in dingtalk.split("\n")[2:])
    assert "[" not in dingtalk.split("\n", 1)[1] and "](" not in dingtalk

    # and the CLI prints it as text: status, watch
    hostile = HOSTILE + ".qcow2.json"
    for args in (("status", "incoming/team-b/", "--local"), ("watch", hostile, "--local")):
        done = subprocess.run(cli(*args), capture_output=True, text=True, timeout=60, cwd=cwd,
                              env={**clean_env(), "FORCE_COLOR": "1", "COLUMNS": "400"})
        assert done.returncode == 0, (args, done.stderr)
        output = done.stdout + done.stderr
        assert "\x1b]8;" not in output and "\x1b[5m" not in output, args
        assert "[/] [link=https://evil.example]y[/link]" in output, args


def _end(bucket: oss2.Bucket, manifest_key: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            record = json.loads(bucket.get_object(f"imagedrop/status/{manifest_key}").read())
        except oss2.exceptions.NoSuchKey:
            record = None
        if record and record["state"] in TERMINAL:
            return record
        time.sleep(0.2)
    raise AssertionError(f"{manifest_key!r} did not end")


def _settled(inbox: Inbox, path: str, minimum: int) -> list[Received]:
    """What `path` received, once at least `minimum` arrived and nothing more came for a second."""
    deadline, last, quiet_since = time.monotonic() + 30, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(inbox.on(path))
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif now >= minimum and time.monotonic() - quiet_since > 1.0:
            break
        time.sleep(0.1)
    return inbox.on(path)
