"""OSS XML bodies and header values, byte for byte in the shapes OSS answers and oss2 parses."""

from __future__ import annotations

import math
import time
from email.utils import formatdate
from functools import lru_cache
from typing import Iterable
from urllib.parse import quote
from xml.sax.saxutils import escape

from ...core import ServiceError
from ..backend.listing import ListPage
from ..backend.objects import FakeBucket, FakeObject, FakePart
from ..backend.notify import iso_millis

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def http_date(epoch: float) -> str:
    return _http_date(math.floor(epoch))  # the format has whole seconds


@lru_cache(maxsize=4096)
def _http_date(seconds: int) -> str:
    return formatdate(seconds, usegmt=True)


def _el(tag: str, value: object) -> str:
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _enc(value: str, url: bool) -> str:
    return quote(value, safe="") if url else value


def error_xml(err: ServiceError, request_id: str, host_id: str) -> bytes:
    extra = dict(err.extra)
    ec = extra.pop("EC", "")
    parts = [_el("Code", err.code), _el("Message", err.message), _el("RequestId", request_id),
             _el("HostId", host_id)]
    parts += [_el(k, v) for k, v in extra.items()]
    if ec:
        parts += [_el("EC", ec),
                  _el("RecommendDoc", f"https://api.aliyun.com/troubleshoot?q={ec}")]
    return (XML_HEAD + "<Error>\n  " + "\n  ".join(parts) + "\n</Error>\n").encode("utf-8")


def owner_xml(account_id: str) -> str:
    return f"<Owner>{_el('ID', account_id)}{_el('DisplayName', account_id)}</Owner>"


def list_objects_xml(bucket: str, page: ListPage, objects: list[FakeObject], *, prefix: str,
                     marker: str, delimiter: str, max_keys: int, url: bool, account_id: str,
                     v2: dict[str, str] | None = None) -> bytes:
    root = "ListBucketResult"
    out = [XML_HEAD, f"<{root}>", _el("Name", bucket), _el("Prefix", _enc(prefix, url))]
    if v2 is None:
        out.append(_el("Marker", _enc(marker, url)))
    else:
        if "continuation-token" in v2:
            out.append(_el("ContinuationToken", v2["continuation-token"]))
        if v2.get("start-after"):
            out.append(_el("StartAfter", _enc(v2["start-after"], url)))
    out += [_el("MaxKeys", max_keys), _el("Delimiter", _enc(delimiter, url))]
    if url:
        out.append(_el("EncodingType", "url"))
    out.append(_el("IsTruncated", "true" if page.truncated else "false"))
    if page.truncated:
        out.append(_el("NextMarker", _enc(page.next_marker, url)) if v2 is None
                   else _el("NextContinuationToken", v2["next-token"]))
    if v2 is not None:
        out.append(_el("KeyCount", len(page.keys) + len(page.prefixes)))
    with_owner = v2 is None or v2.get("fetch-owner") == "true"
    owner = owner_xml(account_id) if with_owner else ""
    for obj in objects:
        out.append("<Contents>" + _el("Key", _enc(obj.key, url))
                   + _el("LastModified", iso_millis(obj.last_modified))
                   + _el("ETag", f'"{obj.etag}"') + _el("Type", obj.object_type)
                   + _el("Size", obj.size) + _el("StorageClass", obj.storage_class) + owner
                   + "</Contents>")
    for common in page.prefixes:
        out.append("<CommonPrefixes>" + _el("Prefix", _enc(common, url)) + "</CommonPrefixes>")
    out.append(f"</{root}>")
    return "".join(out).encode("utf-8")


def location_xml(region: str) -> bytes:
    return (XML_HEAD + _el("LocationConstraint", f"oss-{region}")).encode()


def bucket_info_xml(bucket: FakeBucket, account_id: str) -> bytes:
    b = bucket
    body = ("<BucketInfo><Bucket>" + _el("AccessMonitor", "Disabled")
            + _el("CreationDate", iso_millis(b.created))
            + _el("ExtranetEndpoint", f"oss-{b.region}.aliyuncs.com")
            + _el("IntranetEndpoint", f"oss-{b.region}-internal.aliyuncs.com")
            + _el("Location", f"oss-{b.region}") + _el("StorageClass", b.storage_class)
            + _el("TransferAcceleration", "Disabled") + _el("CrossRegionReplication", "Disabled")
            + _el("Name", b.name) + _el("ResourceGroupId", "rg-default")
            + owner_xml(account_id)
            + "<AccessControlList>" + _el("Grant", b.acl) + "</AccessControlList>"
            + _el("DataRedundancyType", "LRS") + _el("Comment", "")
            + "<ServerSideEncryptionRule>" + _el("SSEAlgorithm", "None")
            + "</ServerSideEncryptionRule>" + "</Bucket></BucketInfo>")
    return (XML_HEAD + body).encode()


def list_buckets_xml(buckets: Iterable[FakeBucket], account_id: str) -> bytes:
    items = "".join(
        "<Bucket>" + _el("CreationDate", iso_millis(b.created))
        + _el("ExtranetEndpoint", f"oss-{b.region}.aliyuncs.com")
        + _el("IntranetEndpoint", f"oss-{b.region}-internal.aliyuncs.com")
        + _el("Location", f"oss-{b.region}") + _el("Name", b.name) + _el("Region", b.region)
        + _el("StorageClass", b.storage_class) + "</Bucket>"
        for b in sorted(buckets, key=lambda b: b.name))
    return (XML_HEAD + "<ListAllMyBucketsResult>" + owner_xml(account_id)
            + f"<Buckets>{items}</Buckets></ListAllMyBucketsResult>").encode()


def initiate_xml(bucket: str, key: str, upload_id: str, url: bool) -> bytes:
    return (XML_HEAD + "<InitiateMultipartUploadResult>" + _el("Bucket", bucket)
            + _el("Key", _enc(key, url)) + _el("UploadId", upload_id)
            + (_el("EncodingType", "url") if url else "")
            + "</InitiateMultipartUploadResult>").encode("utf-8")


def complete_xml(bucket: str, obj: FakeObject, location: str, url: bool) -> bytes:
    return (XML_HEAD + "<CompleteMultipartUploadResult>"
            + (_el("EncodingType", "url") if url else "") + _el("Location", location)
            + _el("Bucket", bucket) + _el("Key", _enc(obj.key, url))
            + _el("ETag", f'"{obj.etag}"') + "</CompleteMultipartUploadResult>").encode("utf-8")


def list_parts_xml(bucket: str, key: str, upload_id: str, parts: list[FakePart], *, marker: int,
                   next_marker: int, max_parts: int, truncated: bool) -> bytes:
    items = "".join(
        "<Part>" + _el("PartNumber", p.number) + _el("LastModified", iso_millis(p.last_modified))
        + _el("ETag", f'"{p.etag}"') + _el("HashCrc64ecma", p.body.crc64) + _el("Size", p.size)
        + "</Part>" for p in parts)
    return (XML_HEAD + "<ListPartsResult>" + _el("Bucket", bucket) + _el("Key", key)
            + _el("UploadId", upload_id) + _el("StorageClass", "Standard")
            + _el("PartNumberMarker", marker) + _el("NextPartNumberMarker", next_marker)
            + _el("MaxParts", max_parts) + _el("IsTruncated", "true" if truncated else "false")
            + items + "</ListPartsResult>").encode("utf-8")


def delete_result_xml(deleted: list[str], url: bool) -> bytes:
    return (XML_HEAD + "<DeleteResult>" + (_el("EncodingType", "url") if url else "")
            + "".join(f"<Deleted>{_el('Key', _enc(k, url))}</Deleted>" for k in deleted)
            + "</DeleteResult>").encode("utf-8")


def copy_xml(obj: FakeObject) -> bytes:
    return (XML_HEAD + "<CopyObjectResult>" + _el("LastModified", iso_millis(obj.last_modified))
            + _el("ETag", f'"{obj.etag}"') + "</CopyObjectResult>").encode()


def object_headers(obj: FakeObject, restore: str | None = None) -> dict[str, str]:
    """What OSS returns about an object on GET and HEAD (Content-Length set by the caller);
    `restore` is the `x-oss-restore` value of an archived object being or having been restored."""
    headers = {
        "Content-Type": obj.content_type,
        "ETag": f'"{obj.etag}"',
        "Last-Modified": http_date(obj.last_modified),
        "Accept-Ranges": "bytes",
        "x-oss-object-type": obj.object_type,
        "x-oss-storage-class": obj.storage_class,
        "x-oss-hash-crc64ecma": str(obj.crc64),
    }
    if restore:
        headers["x-oss-restore"] = restore
    if obj.content_md5:
        headers["Content-MD5"] = obj.content_md5
    for name, value in obj.stored_headers.items():
        headers["-".join(p.capitalize() for p in name.split("-"))] = value
    headers.update(obj.user_meta)
    return headers


def now_http_date() -> str:
    return http_date(time.time())
