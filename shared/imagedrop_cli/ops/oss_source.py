"""`oss://bucket/key` as a disk `ByteSource`, connecting the way the operator commands do."""

from __future__ import annotations

from imagedrop.decide.archived import read_state, restore_problem
from imagedrop.errors import ImageSourceError
from imagedrop.cloud.oss_store import ObjectStore, OssByteSource


def open_oss_source(url: str, *, local: bool = False) -> OssByteSource:
    """Open `oss://BUCKET/KEY` for inspection: one HEAD now, one ranged GET per read later.
    `local`: in the `imagedrop local up` stack."""
    from .connection import ConnectionOptions, resolve
    from .exit_codes import OpsError

    bucket, _, key = url.removeprefix("oss://").partition("/")
    if not bucket or not key:
        raise ImageSourceError("an OSS source is oss://BUCKET/KEY")
    try:
        conn = resolve(ConnectionOptions(bucket=bucket, local=local))
    except OpsError as err:
        raise ImageSourceError(err.message) from None
    store = ObjectStore(bucket, endpoint=conn.oss_endpoint, credentials=conn.credentials, attempts=2)
    head = store.head(key)
    if head is None:
        raise ImageSourceError(f"no object {key!r} in bucket {bucket!r}: check the key (keys are case-sensitive)")
    state = read_state(head.storage_class, head.restore)
    if state != "readable":  # its bytes cannot be read: say why once, not per ranged GET
        raise ImageSourceError(restore_problem(bucket, key, head.storage_class, state).line())
    return store.source(key, head.size)
