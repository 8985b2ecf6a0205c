"""`oss://bucket/key` as a disk `ByteSource`, connecting the way the operator commands do."""

from __future__ import annotations

from imagedrop.errors import DiskError
from imagedrop.cloud.oss_store import ObjectStore, OssByteSource


def open_oss_source(url: str) -> OssByteSource:
    """Open `oss://BUCKET/KEY` for inspection: one HEAD now, one ranged GET per read later."""
    from .connection import ConnectionOptions, resolve
    from .exit_codes import OpsError

    bucket, _, key = url.removeprefix("oss://").partition("/")
    if not bucket or not key:
        raise DiskError("an OSS source is oss://BUCKET/KEY")
    try:
        conn = resolve(ConnectionOptions(bucket=bucket))
    except OpsError as err:
        raise DiskError(err.message) from None
    store = ObjectStore(bucket, endpoint=conn.oss_endpoint, credentials=conn.credentials, attempts=2)
    head = store.head(key)
    if head is None:
        raise DiskError(f"no object {key!r} in bucket {bucket!r}: check the key (keys are case-sensitive)")
    return store.source(key, head.size)
