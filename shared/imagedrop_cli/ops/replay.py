"""`imagedrop replay` I/O: list the prefix, build each trigger payload, invoke ingest asynchronously."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .connection import Connection
from .exit_codes import BAD_INPUT, CLOUD_ERROR, OpsError
from .fc_invoke import FcError, FunctionCompute
from .replay_plan import StoredObject, payload_for, replay_items


@dataclass(frozen=True)
class Replayed:
    key: str
    role: str
    request_id: str = ""
    error: str = ""

    def as_json(self) -> dict[str, str]:
        return dict(self.__dict__)


def list_objects(conn: Connection, prefix: str) -> list[StoredObject]:
    import oss2

    try:
        found = list(oss2.ObjectIterator(conn.oss_bucket(), prefix=prefix))
    except oss2.exceptions.OssError as exc:
        from .net_errors import short_reason

        raise OpsError(f"listing oss://{conn.bucket}/{prefix}: "
                       f"{getattr(exc, 'code', '') or short_reason(exc)}; check the bucket, the endpoint "
                       "and the network", CLOUD_ERROR) from None
    return [StoredObject(o.key, o.size, (o.etag or "").strip('"'), (o.type or "") == "Multipart",
                         float(o.last_modified or 0)) for o in found]


def replay(conn: Connection, prefix: str, *, function: str, dry_run: bool = False,
           on_item: Callable[[Replayed], None] = lambda _: None) -> list[Replayed]:
    if not prefix.startswith(conn.watch_prefix):
        raise OpsError(f"PREFIX {prefix!r} is outside the watched prefix {conn.watch_prefix!r}: the ingest "
                       "function ignores those objects; replay a folder under it", BAD_INPUT)
    objects = list_objects(conn, prefix)
    by_key = {o.key: o for o in objects}
    fc = None if dry_run else FunctionCompute(conn)
    done = []
    for item in replay_items(objects, state_prefix=conn.state_prefix):
        payload = payload_for(by_key[item.key], bucket=conn.bucket, region=conn.region,
                              account_id=conn.account_id or "", function=function)
        result = Replayed(item.key, item.role)
        if fc is not None:
            try:
                result = Replayed(item.key, item.role, request_id=fc.invoke_async(function, payload))
            except FcError as exc:
                result = Replayed(item.key, item.role, error=f"{exc.code}: {exc.message}")
        done.append(result)
        on_item(result)
    return done
