"""The read-only calls `imagedrop doctor` makes, each turned into a `Check` (never an exception)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from imagedrop.model.state_keys import CANCEL_SUFFIX

from .connection import Connection
from .doctor_checks import (IMPORT_ROLE, Check, bucket_region_check, failed, passed, prefixes_check,
                            role_check, trigger_check)
from .fc_invoke import FcError, FunctionCompute

CREDENTIALS_FIX = ("check ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET or the profile in "
                   "~/.aliyun/config.json; the key must be active")


@dataclass(frozen=True)
class Deployment:
    """What the deployment should have (names as s.yaml sets them)."""

    ingest_function: str = "imagedrop-ingest"
    poller_function: str = "imagedrop-poller"
    queue: str | None = None
    topic: str | None = None
    import_role: str = IMPORT_ROLE
    repair: str = "off"              # IMAGEDROP_REPAIR: doctor checks Image Builder unless off


def _ecs_client(conn: Connection) -> Any:
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi.models import Config

    from imagedrop.cloud.ecs_api import default_ecs_endpoint

    endpoint = conn.ecs_endpoint or default_ecs_endpoint(conn.region)
    host = endpoint.removeprefix("http://").removeprefix("https://").rstrip("/")
    creds = conn.credentials
    return Client(Config(access_key_id=creds.access_key_id, access_key_secret=creds.access_key_secret,
                         security_token=creds.security_token, region_id=conn.region, endpoint=host,
                         protocol="http" if endpoint.startswith("http://") else "https",
                         connect_timeout=5000, read_timeout=20000))


def _ecs_error(exc: Exception) -> tuple[str, str]:
    from .fc_invoke import _clean

    return str(getattr(exc, "code", "") or type(exc).__name__), _clean(str(getattr(exc, "message", "") or exc))


def _unreached(exc: Exception) -> str | None:
    """Why the ECS SDK never got an answer (refused, unresolved…), or None when ECS answered."""
    from .net_errors import network_reason

    if getattr(exc, "code", None) and not type(exc).__name__.startswith("Unretryable"):
        return None
    inner = getattr(exc, "inner_exception", None)
    if inner is not None and getattr(inner, "code", None):
        return None  # the SDK gave up retrying an answer ECS did give
    return network_reason(exc) or (None if getattr(exc, "code", None) else type(exc).__name__)


def _ecs_host(conn: Connection) -> str:
    from imagedrop.cloud.ecs_api import default_ecs_endpoint

    return conn.ecs_endpoint or default_ecs_endpoint(conn.region)


NETWORK_FIX = "check the network, and IMAGEDROP_ECS_ENDPOINT if you set one"


def probe_credentials(conn: Connection) -> Check:
    from alibabacloud_ecs20140526 import models
    from alibabacloud_tea_util.models import RuntimeOptions

    name = "credentials work"
    try:
        _ecs_client(conn).describe_regions_with_options(models.DescribeRegionsRequest(), RuntimeOptions())
    except Exception as exc:
        unreached = _unreached(exc)
        if unreached:
            return failed(name, f"cannot reach ECS at {_ecs_host(conn)} ({unreached})", NETWORK_FIX)
        code, message = _ecs_error(exc)
        return failed(name, f"ECS DescribeRegions answered {code}: {message[:160]}", CREDENTIALS_FIX)
    return passed(name, f"access key {conn.credentials.access_key_id[:8]}… is accepted")


def probe_bucket(conn: Connection) -> Check:
    import oss2

    try:
        location = conn.oss_bucket().get_bucket_location().location
    except oss2.exceptions.NoSuchBucket:
        return failed("bucket exists", f"bucket {conn.bucket} does not exist at {conn.oss_endpoint}",
                      f"create it in {conn.region} (ossutil mb oss://{conn.bucket} or the console)")
    except oss2.exceptions.OssError as exc:
        from .net_errors import short_reason

        detail = getattr(exc, "code", "") or short_reason(exc)
        return failed("bucket exists", f"GetBucketLocation of {conn.bucket} failed: {detail}",
                      "check the bucket name, the endpoint and that the credentials may read the bucket")
    return bucket_region_check(conn.bucket, str(location).removeprefix("oss-"), conn.region)


def probe_mns(conn: Connection, kind: str, name: str | None) -> Check:
    title = f"MNS {kind} {name or '(not configured)'}"
    if not name:
        return failed(title, f"no {kind} name", f"set IMAGEDROP_{kind.upper()} as s.yaml does")
    if not conn.mns_endpoint:
        return failed(title, "MNS endpoint unknown", "pass --account-id or set IMAGEDROP_MNS_ENDPOINT")
    from mns.account import Account
    from mns.mns_exception import MNSExceptionBase

    creds = conn.credentials
    account = Account(conn.mns_endpoint, creds.access_key_id, creds.access_key_secret, creds.security_token or "")
    try:
        target = account.get_queue(name) if kind == "queue" else account.get_topic(name)
        target.get_attributes()
    except MNSExceptionBase as exc:
        code = getattr(exc, "type", "") or type(exc).__name__
        create = (f"aliyun mns CreateQueue --QueueName {name}" if kind == "queue"
                  else f"aliyun mns CreateTopic --TopicName {name}")
        return failed(title, f"Get{kind.capitalize()}Attributes answered {code}: "
                      f"{str(getattr(exc, 'message', exc))[:120]}", f"create it ({create}) in {conn.region}")
    return passed(title, "exists")


def probe_role(conn: Connection, deployment: Deployment) -> Check:
    from alibabacloud_ecs20140526 import models
    from alibabacloud_tea_util.models import RuntimeOptions

    key = _any_object(conn) or f"{conn.watch_prefix}imagedrop-doctor-probe.qcow2"
    request = models.ImportImageRequest().from_map({
        "RegionId": conn.region, "RoleName": deployment.import_role, "DryRun": True,
        "ImageName": "imagedrop-doctor-probe", "OSType": "linux", "Platform": "Others Linux",
        "Architecture": "x86_64",
        "DiskDeviceMapping": [{"OSSBucket": conn.bucket, "OSSObject": key, "Format": "QCOW2", "DiskImageSize": 20}]})
    try:
        _ecs_client(conn).import_image_with_options(request, RuntimeOptions())
    except Exception as exc:
        unreached = _unreached(exc)
        if unreached:  # no answer is no verdict on the role
            return failed(f"import role {deployment.import_role}",
                          f"not checked: cannot reach ECS at {_ecs_host(conn)} ({unreached})", NETWORK_FIX)
        return role_check(*_ecs_error(exc))
    return role_check(None)


def _any_object(conn: Connection) -> str | None:
    try:
        result = conn.oss_bucket().list_objects(prefix=conn.watch_prefix, max_keys=5)
    except Exception:
        return None
    keys = [o.key for o in result.object_list if not o.key.endswith((".json", CANCEL_SUFFIX, "/"))]
    return keys[0] if keys else None


def probe_functions(conn: Connection, deployment: Deployment) -> list[Check]:
    try:
        fc = FunctionCompute(conn)
    except Exception as exc:
        return [failed("functions", str(exc), "pass --account-id so the FC endpoint is known")]
    checks = []
    for function, trigger in ((deployment.ingest_function, "oss"), (deployment.poller_function, "mns")):
        try:
            info = fc.get_function(function)
            state = info.get("state") or "state unknown"
            checks.append(passed(f"function {function}",
                                 f"{info.get('runtime')}, FC 3.0 ({state})"))
            checks.append(trigger_check(function, fc.list_triggers(function), want_type=trigger,
                                        watch_prefix=conn.watch_prefix))
        except FcError as exc:
            checks.append(failed(f"function {function}", f"FC answered {exc.code}: {exc.message}",
                                 "run `s deploy` from the repository root "
                                 f"(s.yaml declares {function})"))
    return checks


def run_doctor(conn: Connection, deployment: Deployment,
               on_check: Callable[[Check], None] = lambda _: None) -> list[Check]:
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        on_check(check)

    add(probe_credentials(conn))
    add(probe_bucket(conn))
    add(prefixes_check(conn.watch_prefix, conn.state_prefix))
    add(probe_mns(conn, "queue", deployment.queue))
    add(probe_mns(conn, "topic", deployment.topic))
    add(probe_role(conn, deployment))
    for check in probe_functions(conn, deployment):
        add(check)
    if deployment.repair.strip().lower() not in ("", "off", "forbid"):
        from .doctor_repair import probe_image_builder

        for check in probe_image_builder(conn, _ecs_client, _ecs_error):
            add(check)
    return checks
