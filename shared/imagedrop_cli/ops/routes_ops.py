"""The routes file in the bucket, and a team's MNS subscription to its route's events."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from imagedrop.notify import ROUTES_FILE, Routes, RoutesError, parse_routes
from imagedrop.redact import redacted
from .connection import Connection
from .exit_codes import BAD_INPUT, CLOUD_ERROR, OpsError
from .oss_calls import oss_call

SUBSCRIPTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,255}$")


def read_file(path: Path) -> Routes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OpsError(f"{path}: cannot read it ({exc.strerror})", BAD_INPUT) from None
    try:
        return parse_routes(raw, str(path))
    except RoutesError as exc:
        raise OpsError(str(exc), BAD_INPUT) from None


def routes_key(conn: Connection) -> str:
    return f"{conn.state_prefix}{ROUTES_FILE}"


def put_routes(conn: Connection, routes: Routes) -> str:
    """Upload `routes` (as checked) to the bucket; returns where."""
    key = routes_key(conn)
    body = json.dumps(routes.model_dump(mode="json", exclude_defaults=True), indent=2, ensure_ascii=False)
    bucket = conn.oss_bucket()
    oss_call(f"PUT oss://{conn.bucket}/{key}",
              lambda: bucket.put_object(key, body.encode("utf-8"), headers={"Content-Type": "application/json"}))
    return f"oss://{conn.bucket}/{key}"


def get_routes(conn: Connection) -> Routes | None:
    """The bucket's routes, None when there is no file."""
    key = routes_key(conn)
    bucket = conn.oss_bucket()
    raw = oss_call(f"GET oss://{conn.bucket}/{key}", lambda: bucket.get_object(key).read())
    if raw is None:
        return None
    try:
        return parse_routes(raw, f"oss://{conn.bucket}/{key}")
    except RoutesError as exc:
        raise OpsError(f"{exc}; fix the file and upload it with `imagedrop routes put FILE`", BAD_INPUT) from None


def shown(routes: Routes) -> dict[str, Any]:
    """The routes as `routes show` prints them: every URL and secret redacted."""
    return redacted(routes)


def subscription_name(route: str, given: str | None) -> str:
    name = given or "imagedrop-" + route.replace("_", "-")
    if not SUBSCRIPTION_NAME.match(name):
        raise OpsError(f"--name {name!r}: an MNS subscription name starts with a letter and holds letters, "
                       "digits and - only (at most 256); choose another", BAD_INPUT)
    return name


def subscribe(conn: Connection, topic: str, route: str, endpoint: str, name: str) -> None:
    """Subscribe `endpoint` to the topic's events of `route`: FilterTag = the route name, and
    NotifyContentFormat=SIMPLIFIED, so the endpoint gets each CloudEvent as it was published."""
    from mns.account import Account
    from mns.mns_exception import MNSExceptionBase
    from mns.subscription import SubscriptionMeta

    if not conn.mns_endpoint:
        raise OpsError("no MNS endpoint: set IMAGEDROP_MNS_ENDPOINT (https://<account>.mns.<region>."
                       "aliyuncs.com) or FC_ACCOUNT_ID, or use --local", BAD_INPUT)
    creds = conn.credentials
    account = Account(conn.mns_endpoint, creds.access_key_id, creds.access_key_secret,
                      creds.security_token or "")
    meta = SubscriptionMeta(endpoint, "BACKOFF_RETRY", "SIMPLIFIED", route)
    try:
        account.get_subscription(topic, name).subscribe(meta)
    except MNSExceptionBase as exc:
        code = getattr(exc, "type", type(exc).__name__)
        fix = {"SubscriptionAlreadyExist": "; it exists with other settings: pick another --name",
               "TopicNotExist": "; check IMAGEDROP_TOPIC (the deployment's topic)"}.get(code, "")
        raise OpsError(f"Subscribe {topic}/{name}: {code}: {getattr(exc, 'message', exc)}{fix}",
                       CLOUD_ERROR) from None
