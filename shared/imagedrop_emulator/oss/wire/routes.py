"""Which bucket, key and API action an OSS request names (pure).

Virtual-hosted style (`bucket.oss-cn-hangzhou.aliyuncs.com/key`) is what oss2 uses for real
endpoints; path style (`/bucket/key`) for IP and localhost endpoints. Keys arrive percent-encoded
(`/` as %2F, space as %20, `+` literal) and are decoded with `unquote`, never `unquote_plus`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from ...core import WireRequest
from .. import errors
from .auth import SUBRESOURCES

# Query parameters of a bucket listing; any other sub-resource on a bucket is another API.
_LIST_PARAMS = frozenset({"prefix", "marker", "delimiter", "max-keys", "encoding-type", "list-type",
                          "continuation-token", "start-after", "fetch-owner"})
_OSS_LABEL = re.compile(r"^oss-(?P<region>[a-z0-9-]+?)(?:-internal)?$")


@dataclass(frozen=True)
class Address:
    bucket: str            # "" for service-level requests (ListBuckets)
    key: str               # "" for bucket-level requests
    host_region: str | None  # region named by an `oss-<region>` host label, if any
    virtual_hosted: bool


def host_region(host: str) -> str | None:
    for label in host.split(":")[0].lower().split("."):
        m = _OSS_LABEL.match(label)
        if m:
            return m["region"]
    return None


def address_of(req: WireRequest) -> Address:
    host = req.host.split(":")[0].lower()
    labels = host.split(".")
    region = host_region(host)
    raw = req.path or "/"
    if len(labels) > 3 and host.endswith(".aliyuncs.com") and _OSS_LABEL.match(labels[1] or ""):
        return Address(labels[0], unquote(raw[1:]), region, True)
    bucket, _, key = raw[1:].partition("/")
    return Address(unquote(bucket), unquote(key), region, False)


def action_of(req: WireRequest, addr: Address) -> str:
    """The OSS API action name (the unit fault knobs and logs use)."""
    q = req.param_dict()
    m = req.method.upper()
    if not addr.bucket:
        if m == "GET":
            return "ListBuckets"
        raise errors.not_implemented(f"{m} on the service root")
    if not addr.key:
        table = {
            ("PUT", "acl"): "PutBucketAcl", ("GET", "acl"): "GetBucketAcl",
            ("GET", "location"): "GetBucketLocation", ("GET", "bucketInfo"): "GetBucketInfo",
            ("GET", "uploads"): "ListMultipartUploads", ("POST", "delete"): "DeleteMultipleObjects",
        }
        for (method, sub), action in table.items():
            if m == method and sub in q:
                return action
        other = sorted((q.keys() & SUBRESOURCES) - _LIST_PARAMS)
        if other:  # e.g. ?stat, ?cors, ?lifecycle: never a listing, a create or a delete
            raise errors.not_implemented(f"{m} on bucket {addr.bucket} with ?{','.join(other)}")
        if m == "GET":
            return "ListObjectsV2" if q.get("list-type") == "2" else "ListObjects"
        if m == "PUT":
            return "PutBucket"
        if m == "DELETE":
            return "DeleteBucket"
        if m == "HEAD":
            return "GetBucketInfo"
        raise errors.not_implemented(f"{m} on bucket {addr.bucket}")
    if m == "PUT":
        if "partNumber" in q and "uploadId" in q:
            return "UploadPartCopy" if "x-oss-copy-source" in req.headers else "UploadPart"
        if "x-oss-copy-source" in req.headers:
            return "CopyObject"
        return "PutObject" if not (q.keys() & {"acl", "tagging", "symlink", "append"}) else \
            _unsupported(m, q)
    if m == "GET":
        if "uploadId" in q:
            return "ListParts"
        unsupported = {"acl", "tagging", "symlink", "x-oss-process"}
        return "GetObject" if not (q.keys() & unsupported) else _unsupported(m, q)
    if m == "HEAD":
        return "GetObjectMeta" if "objectMeta" in q else "HeadObject"
    if m == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in q else "DeleteObject"
    if m == "POST":
        if "restore" in q:
            return "RestoreObject"
        if "append" in q:
            return "AppendObject"
        if "uploads" in q:
            return "InitiateMultipartUpload"
        if "uploadId" in q:
            return "CompleteMultipartUpload"
    return _unsupported(m, q)


def _unsupported(method: str, query: dict[str, str]) -> str:
    subs = ",".join(sorted(query)) or "no sub-resource"
    raise errors.not_implemented(f"{method} on an object with ?{subs}")
