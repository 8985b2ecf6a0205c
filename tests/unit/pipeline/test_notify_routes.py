"""Routes: each team's channels hear of its own folder's imports, in the states it chose; the MNS
tag says whose an event is; the deployment-wide channels still hear everything."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from imagedrop.config import Settings
from imagedrop.model.status import Event, StatusRecord
from imagedrop.notify import Notifier, Routes, RoutesError, RoutesSource, cloudevent, parse_routes
from imagedrop.ports import ObjectInfo
from imagedrop.redact import redacted

SECRET_A = "whsec_" + base64.b64encode(b"team-a-key-of-enough-bytes-0123").decode()


def routes_doc(**team_a: Any) -> dict[str, Any]:
    return {"routes": [
        {"name": "team-a", "prefix": "incoming/team-a/", "states": ["succeeded", "failed"],
         "webhooks": [{"url": "https://a.example/hook?token=tok-aaaa", "secret": SECRET_A}], **team_a},
        {"name": "team-a-db", "prefix": "incoming/team-a/db/",
         "slack": {"url": "https://hooks.slack.example/services/T/B/tok-slack"}},
        {"name": "team_b", "prefix": "incoming/team-b/",
         "dingtalk": {"url": "https://robot.example/send?access_token=tok-ding", "secret": "SEC-ding"}},
    ]}


def test_a_valid_file_reads_and_states_default_to_all() -> None:
    routes = parse_routes(json.dumps(routes_doc()))
    assert [r.name for r in routes.routes] == ["team-a", "team-a-db", "team_b"]
    assert routes.routes[1].states[0] == "waiting" and "cancelled" in routes.routes[1].states


def test_the_longest_matching_prefix_wins_and_at_most_one_route() -> None:
    routes = parse_routes(routes_doc())
    assert routes.route_for("incoming/team-a/web.qcow2.json").name == "team-a"
    assert routes.route_for("incoming/team-a/db/pg.qcow2.json").name == "team-a-db"
    assert routes.route_for("incoming/team-c/x.json") is None


@pytest.mark.parametrize("change, message", [
    ({"secrets": "x"}, "routes.0.secrets: is not a field of a route"),
    ({"name": "a" * 17}, "routes.0.name: must be 1-16 letters, digits, - or _"),
    ({"name": "team a"}, "routes.0.name: must be 1-16 letters, digits, - or _"),
    ({"name": "succeeded"}, "routes.0.name: 'succeeded' is a state's name"),
    ({"states": ["done"]}, "routes.0.states.0: Input should be 'waiting'"),
    ({"name": "team_b"}, "two routes have the name 'team_b'"),
    ({"webhooks": [{"url": "https://a.example/h", "secret": "plain-tok-abcd"}]},
     "routes.0.webhooks.0.secret: Value error, a webhook secret must be whsec_"),
    ({"webhooks": [{"url": "ftp://a.example/h?token=tok-ftp"}]},
     "routes.0.webhooks.0.url: Value error, the URL must be an http:// or https:// URL"),
    ({"slack": {"url": "https://h/x", "secret": "x"}}, "routes.0.slack.secret: is not a field"),
])
def test_a_wrong_file_is_refused_naming_the_field_and_no_secret(change: dict[str, Any], message: str) -> None:
    doc = routes_doc()
    doc["routes"][0].update(change)
    with pytest.raises(RoutesError) as caught:
        parse_routes(json.dumps(doc))
    assert message.replace("Value error, ", "") in str(caught.value)
    for secret in ("plain-tok-abcd", "tok-ftp", "tok-aaaa"):
        assert secret not in str(caught.value)


def test_routes_shown_redacted() -> None:
    shown = json.dumps(redacted(parse_routes(routes_doc())), ensure_ascii=False)
    for secret in ("tok-aaaa", SECRET_A, "tok-slack", "tok-ding", "SEC-ding", "/services/"):
        assert secret not in shown
    assert '"https://a.example/…"' in shown and '"name": "team-a"' in shown


# ------------------------------------------------------------------------- delivery


def event(manifest: str, state: str) -> dict[str, Any]:
    record = StatusRecord(id="id-" + hashlib.sha256(manifest.encode()).hexdigest()[:8], state=state,
                          bucket="images", manifest=manifest, region="cn-hangzhou",
                          history=[Event(at="2026-11-03T02:20:00Z", state=state, note="x")])
    return cloudevent(record, source="s", now=0)


def test_route_channels_hear_their_states_and_the_deployment_hears_all(monkeypatch: pytest.MonkeyPatch) -> None:
    posted: list[tuple[str, dict[str, Any]]] = []

    def send(channel: Any, event: dict[str, Any], transport: Any) -> None:
        posted.append((channel.url.split("?")[0], event))

    from imagedrop.notify.channels.base import HttpChannel
    monkeypatch.setattr(HttpChannel, "send", send)
    published: list[tuple[str, str]] = []
    settings = Settings.model_validate(dict(region="cn-hangzhou", account_id="1", queue="q", topic="t",
                                            mns_endpoint="http://127.0.0.1:1",
                                            webhook_urls="https://ops.example/all"))
    routes = parse_routes(routes_doc())
    notifier = Notifier(settings, lambda body, tag: published.append((json.loads(body)["subject"], tag)),
                        routes=lambda bucket: routes)
    for manifest in ("incoming/team-a/w.json", "incoming/team-a/db/p.json", "incoming/team-b/x.json",
                     "incoming/other/y.json"):
        for state in ("importing", "succeeded"):
            assert notifier.send(event(manifest, state)) == []
    by_url: dict[str, list[tuple[str, str]]] = {}
    for url, sent in posted:
        by_url.setdefault(url, []).append((sent["subject"], sent["type"].rsplit(".", 1)[1]))
    assert len(by_url["https://ops.example/all"]) == 8
    assert by_url["https://a.example/hook"] == [("incoming/team-a/w.json", "succeeded")]
    assert by_url["https://hooks.slack.example/services/T/B/tok-slack"] == [
        ("incoming/team-a/db/p.json", "importing"), ("incoming/team-a/db/p.json", "succeeded")]
    assert len(by_url["https://robot.example/send"]) == 2
    assert published == [
        ("incoming/team-a/w.json", "importing"), ("incoming/team-a/w.json", "team-a"),
        ("incoming/team-a/db/p.json", "team-a-db"), ("incoming/team-a/db/p.json", "team-a-db"),
        ("incoming/team-b/x.json", "team_b"), ("incoming/team-b/x.json", "team_b"),
        ("incoming/other/y.json", "importing"), ("incoming/other/y.json", "succeeded")]


# ------------------------------------------------------------------------- reading the file


class CountingBucket:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.calls: list[str] = []

    def put(self, key: str, data: str) -> None:
        self.objects[key] = (data.encode(), hashlib.md5(data.encode()).hexdigest())

    def head(self, key: str) -> ObjectInfo | None:
        self.calls.append("HEAD")
        found = self.objects.get(key)
        return ObjectInfo(key, len(found[0]), found[1]) if found else None

    def get_small(self, key: str, limit: int = 0) -> bytes | None:
        self.calls.append("GET")
        found = self.objects.get(key)
        return found[0][:limit] if found else None


def test_the_file_is_headed_once_per_invocation_and_read_only_when_its_etag_changes() -> None:
    bucket = CountingBucket()
    source = RoutesSource(bucket, "imagedrop/")  # type: ignore[arg-type]
    assert source.current() == Routes() and bucket.calls == ["HEAD"]
    bucket.put("imagedrop/routes.json", json.dumps(routes_doc()))
    assert source.current() == Routes() and bucket.calls == ["HEAD"]   # same invocation: no look
    source.new_invocation()
    assert len(source.current().routes) == 3 and bucket.calls == ["HEAD", "HEAD", "GET"]
    source.current()
    source.new_invocation()
    source.current()
    assert bucket.calls == ["HEAD", "HEAD", "GET", "HEAD"]              # unchanged ETag: no GET
    bucket.put("imagedrop/routes.json", '{"routes": [{"name": "x"}]}')
    source.new_invocation()
    with pytest.raises(RoutesError, match="routes.0.prefix: Field required"):
        source.current()


def test_a_broken_file_is_a_recorded_failure_and_the_deployment_still_hears() -> None:
    published: list[str] = []
    settings = Settings.model_validate(dict(region="cn-hangzhou", account_id="1", queue="q", topic="t",
                                            mns_endpoint="http://127.0.0.1:1"))

    def broken(bucket: str) -> Routes:
        raise RoutesError("oss://imagedrop/routes.json: routes.0.prefix: Field required")

    failures = Notifier(settings, lambda body, tag: published.append(tag), routes=broken).send(
        event("incoming/team-a/w.json", "succeeded"))
    assert published == ["succeeded"]
    assert failures == [{"channel": "routes", "target": "routes.json",
                         "error": "oss://imagedrop/routes.json: routes.0.prefix: Field required"}]
