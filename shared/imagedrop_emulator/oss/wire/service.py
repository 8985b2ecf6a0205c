"""The OSS HTTP protocol over `OssBackend`: route, verify the signature, call, serialize."""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from typing import TYPE_CHECKING, Callable

from ...core import ServiceError, WireRequest, WireResponse, new_request_id
from ...env import CloudEnv
from .. import errors
from . import render
from ..backend.append import parse_position
from .auth import SignedRequest, verify
from .conditions import not_modified, overridden
from ..backend.listing import check_max_keys
from ..backend.multipart import parse_part_number
from .ranges import resolve_range
from .request_xml import parse_complete, parse_delete
from .routes import Address, action_of, address_of

if TYPE_CHECKING:
    from ..backend.objects import FakeObject
    from ..backend.service import OssBackend

Handler = Callable[[WireRequest, Address, str], WireResponse]
_NO_BUCKET_NEEDED = {"ListBuckets", "PutBucket"}


def request_id_of(req: WireRequest) -> str:
    """One request id per request, shared by the response headers, errors and trigger payloads."""
    rid = getattr(req, "_oss_request_id", None)
    if rid is None:
        rid = new_request_id()
        setattr(req, "_oss_request_id", rid)
    return rid


def _address(req: WireRequest) -> Address:
    """`address_of`, worked out once per request (dispatch asks for the action, then handle)."""
    key = (req.method, req.path, req.host)
    cached = req.__dict__.get("_oss_address")
    if cached is None or cached[0] != key:
        cached = (key, address_of(req))
        req.__dict__["_oss_address"] = cached
    return cached[1]


def _action(req: WireRequest, addr: Address) -> str:
    key = (req.method, req.query, addr, "x-oss-copy-source" in req.headers)
    cached = req.__dict__.get("_oss_action")
    if cached is None or cached[0] != key:
        cached = (key, action_of(req, addr))  # raises for an unroutable request: nothing cached
        req.__dict__["_oss_action"] = cached
    return cached[1]


class OssWire:
    name = "oss"

    def __init__(self, backend: "OssBackend", env: CloudEnv):
        self.backend = backend
        self.env = env

    # ------------------------------------------------------------------ WireService

    def action_of(self, req: WireRequest) -> str:
        request_id_of(req)
        return _action(req, _address(req))

    def throttle_error(self) -> ServiceError:
        # OSS flow control answers 503 with a code naming the limit hit.
        return ServiceError(503, "TotalQpsLimitExceeded", "Max total qps limit is exceeded")

    def error_response(self, err: ServiceError, req: WireRequest) -> WireResponse:
        rid = request_id_of(req)
        headers = {"x-oss-request-id": rid, "Server": "AliyunOSS", "Date": render.now_http_date()}
        if "EC" in err.extra:
            headers["x-oss-ec"] = err.extra["EC"]
        if "NextAppendPosition" in err.extra:  # oss2 reads it from the header of a 409
            headers["x-oss-next-append-position"] = err.extra["NextAppendPosition"]
        if req.method.upper() == "HEAD":  # HEAD errors carry no body
            headers["Content-Length"] = "0"
            return WireResponse(err.status, headers, b"")
        body = render.error_xml(err, rid, req.host or "oss.aliyuncs.com")
        headers.update({"Content-Type": "application/xml", "Content-Length": str(len(body))})
        return WireResponse(err.status, headers, body)

    def handle(self, req: WireRequest) -> WireResponse:
        addr = _address(req)
        action = _action(req, addr)
        self._authenticate(req, addr)
        if action not in _NO_BUCKET_NEEDED:
            bucket = self.backend.bucket(addr.bucket)
            if addr.virtual_hosted and addr.host_region and addr.host_region != bucket.region:
                raise errors.bucket_in_other_region(bucket.name, bucket.region)
        handler: Handler | None = getattr(self, f"_{action}", None)
        if handler is None:
            raise errors.not_implemented(action)
        return handler(req, addr, request_id_of(req))

    def _authenticate(self, req: WireRequest, addr: Address) -> None:
        signed = SignedRequest(req.method.upper(), addr.bucket, addr.key, req.params(), req.headers)
        creds = self.env.credentials
        signer = verify(signed, creds.secret_for, creds.token_ok, time.time())
        if signer.v4_region is not None:
            found = self.backend.buckets.get(addr.bucket)
            expected = found.region if found else (addr.host_region or self.env.region)
            if signer.v4_region != expected:  # the service derives the key with its own region
                raise ServiceError(403, "SignatureDoesNotMatch",
                                   "The request signature we calculated does not match the "
                                   "signature you provided. Check your key and signing method.",
                                   OSSAccessKeyId=signer.access_key_id,
                                   Hint=f"V4 scope region {signer.v4_region} is not {expected}")

    # ------------------------------------------------------------------ helpers

    def _reply(self, rid: str, status: int = 200, headers: dict[str, str] | None = None,
               body: bytes = b"", content_type: str = "application/xml") -> WireResponse:
        out = {"x-oss-request-id": rid, "Server": "AliyunOSS", "Date": render.now_http_date(),
               "Content-Type": content_type, "Content-Length": str(len(body))}
        out.update(headers or {})
        return WireResponse(status, out, body)

    def _url_encoded(self, req: WireRequest) -> bool:
        return req.param_dict().get("encoding-type") == "url"

    # ------------------------------------------------------------------ service and buckets

    def _ListBuckets(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        prefix = req.param_dict().get("prefix", "")
        buckets = sorted((b for b in self.backend.buckets.values() if b.name.startswith(prefix)),
                         key=lambda b: b.name)
        return self._reply(rid, body=render.list_buckets_xml(buckets, self.env.account_id))

    def _PutBucket(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        self.backend.create_bucket(addr.bucket, addr.host_region or self.env.region)
        return self._reply(rid, headers={"Location": f"/{addr.bucket}"})

    def _DeleteBucket(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        self.backend.delete_bucket(addr.bucket)
        return self._reply(rid, 204)

    def _GetBucketLocation(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        return self._reply(rid, body=render.location_xml(self.backend.bucket_region(addr.bucket)))

    def _GetBucketInfo(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        bucket = self.backend.bucket(addr.bucket)
        return self._reply(rid, body=render.bucket_info_xml(bucket, self.env.account_id))

    def _ListObjects(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        q = req.param_dict()
        prefix, marker, delimiter = q.get("prefix", ""), q.get("marker", ""), q.get("delimiter", "")
        max_keys = check_max_keys(q.get("max-keys"))
        page, objects = self.backend.list_objects(addr.bucket, prefix=prefix, marker=marker,
                                                  delimiter=delimiter, max_keys=max_keys)
        body = render.list_objects_xml(addr.bucket, page, objects, prefix=prefix, marker=marker,
                                       delimiter=delimiter, max_keys=max_keys,
                                       url=self._url_encoded(req), account_id=self.env.account_id)
        return self._reply(rid, body=body)

    def _ListObjectsV2(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        q = req.param_dict()
        prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
        max_keys = check_max_keys(q.get("max-keys"))
        marker = q.get("start-after", "")
        if q.get("continuation-token"):
            try:
                marker = max(marker, base64.urlsafe_b64decode(q["continuation-token"]).decode())
            except (binascii.Error, UnicodeDecodeError):
                raise ServiceError(400, "InvalidArgument", "The continuation token is not valid.",
                                   ArgumentName="continuation-token") from None
        page, objects = self.backend.list_objects(addr.bucket, prefix=prefix, marker=marker,
                                                  delimiter=delimiter, max_keys=max_keys)
        v2 = {k: q[k] for k in ("continuation-token", "start-after", "fetch-owner") if k in q}
        v2["next-token"] = base64.urlsafe_b64encode(page.next_marker.encode()).decode()
        body = render.list_objects_xml(addr.bucket, page, objects, prefix=prefix, marker=marker,
                                       delimiter=delimiter, max_keys=max_keys,
                                       url=self._url_encoded(req), account_id=self.env.account_id,
                                       v2=v2)
        return self._reply(rid, body=body)

    # ------------------------------------------------------------------ objects

    def _PutObject(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        req.body.seek(0)
        obj = self.backend.put_object(addr.bucket, addr.key, req.body, headers=req.headers,
                                      request_id=rid)
        headers = {"ETag": f'"{obj.etag}"', "x-oss-hash-crc64ecma": str(obj.crc64)}
        if obj.content_md5:
            headers["Content-MD5"] = obj.content_md5
        return self._reply(rid, headers=headers)

    def _AppendObject(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        position = parse_position(req.param_dict().get("position"))
        req.body.seek(0)
        obj = self.backend.append_object(addr.bucket, addr.key, position, req.body,
                                         headers=req.headers, request_id=rid)
        return self._reply(rid, headers={"ETag": f'"{obj.etag}"',
                                         "x-oss-next-append-position": str(obj.size),
                                         "x-oss-hash-crc64ecma": str(obj.crc64)})

    def _DeleteMultipleObjects(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        body = req.body_bytes(limit=4 * 1024 * 1024)
        given_md5 = req.header("content-md5")
        if given_md5 and given_md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
            raise errors.invalid_digest(given_md5)
        keys, quiet = parse_delete(body)
        deleted = self.backend.delete_objects(addr.bucket, keys)
        return self._reply(rid, body=render.delete_result_xml([] if quiet else deleted,
                                                              self._url_encoded(req)))

    def _CopyObject(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        from urllib.parse import unquote

        source = req.header("x-oss-copy-source")
        src_bucket, _, src_key = unquote(source.split("?", 1)[0]).lstrip("/").partition("/")
        if not src_bucket or not src_key:
            raise ServiceError(400, "InvalidArgument",
                               "x-oss-copy-source must be /<bucket>/<url-encoded key>.",
                               ArgumentName="x-oss-copy-source", ArgumentValue=source)
        obj = self.backend.copy_object(src_bucket, src_key, addr.bucket, addr.key,
                                       headers=req.headers, request_id=rid)
        return self._reply(rid, headers={"ETag": f'"{obj.etag}"',
                                         "x-oss-hash-crc64ecma": str(obj.crc64)},
                           body=render.copy_xml(obj))

    def _GetObject(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        obj = self.backend.read_object(addr.bucket, addr.key)
        if not_modified(req.headers, obj.etag, obj.last_modified):
            return self._not_modified(obj, rid)
        standard = req.header("x-oss-range-behavior").lower() == "standard"
        span = resolve_range(req.header("range"), obj.size, standard=standard)
        headers = render.object_headers(obj, self.backend.restore_state(obj))
        headers.update(overridden(req.param_dict()))
        start, end, status = 0, obj.size, 200
        if span is not None:
            (start, end), status = span, 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{obj.size}"
        headers.update({"x-oss-request-id": rid, "Server": "AliyunOSS",
                        "Date": render.now_http_date(), "Content-Length": str(end - start)})
        return WireResponse(status, headers, obj.body.iter_range(start, end), end - start)

    def _HeadObject(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        obj = self.backend.get_object(addr.bucket, addr.key)
        if not_modified(req.headers, obj.etag, obj.last_modified):
            return self._not_modified(obj, rid)
        headers = render.object_headers(obj, self.backend.restore_state(obj))
        headers.update({"x-oss-request-id": rid, "Server": "AliyunOSS",
                        "Date": render.now_http_date(), "Content-Length": str(obj.size)})
        return WireResponse(200, headers, iter(()), obj.size)

    def _RestoreObject(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        status = self.backend.restore_object(addr.bucket, addr.key, req.body_bytes(limit=64 * 1024))
        return self._reply(rid, status)

    def _not_modified(self, obj: FakeObject, rid: str) -> WireResponse:
        return WireResponse(304, {"ETag": f'"{obj.etag}"', "x-oss-request-id": rid,
                                  "Last-Modified": render.http_date(obj.last_modified),
                                  "Server": "AliyunOSS", "Date": render.now_http_date(),
                                  "Content-Length": "0"}, b"")

    def _GetObjectMeta(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        obj = self.backend.get_object(addr.bucket, addr.key)
        headers = {"ETag": f'"{obj.etag}"', "Last-Modified": render.http_date(obj.last_modified),
                   "x-oss-request-id": rid, "Content-Length": str(obj.size),
                   "Date": render.now_http_date()}
        return WireResponse(200, headers, iter(()), obj.size)

    def _DeleteObject(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        self.backend.delete_object(addr.bucket, addr.key)
        return self._reply(rid, 204)

    # ------------------------------------------------------------------ multipart

    def _InitiateMultipartUpload(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        upload = self.backend.initiate_multipart_upload(addr.bucket, addr.key, headers=req.headers)
        return self._reply(rid, body=render.initiate_xml(addr.bucket, addr.key, upload.upload_id,
                                                         self._url_encoded(req)))

    def _UploadPart(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        q = req.param_dict()
        req.body.seek(0)
        part = self.backend.upload_part(addr.bucket, addr.key, q["uploadId"],
                                        parse_part_number(q["partNumber"]), req.body)
        return self._reply(rid, headers={"ETag": f'"{part.etag}"',
                                         "x-oss-hash-crc64ecma": str(part.body.crc64)})

    def _CompleteMultipartUpload(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        upload_id = req.param_dict()["uploadId"]
        parts = None if req.header("x-oss-complete-all").lower() == "yes" else \
            parse_complete(req.body_bytes(limit=4 * 1024 * 1024))
        obj = self.backend.complete_multipart_upload(addr.bucket, addr.key, upload_id, parts,
                                                     headers=req.headers, request_id=rid)
        location = f"http://{addr.bucket}.oss-{self.backend.bucket_region(addr.bucket)}" \
                   f".aliyuncs.com/{addr.key}"
        return self._reply(rid, headers={"ETag": f'"{obj.etag}"',
                                         "x-oss-hash-crc64ecma": str(obj.crc64)},
                           body=render.complete_xml(addr.bucket, obj, location,
                                                    self._url_encoded(req)))

    def _AbortMultipartUpload(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        self.backend.abort_multipart_upload(addr.bucket, addr.key, req.param_dict()["uploadId"])
        return self._reply(rid, 204)

    def _ListParts(self, req: WireRequest, addr: Address, rid: str) -> WireResponse:
        q = req.param_dict()
        marker_raw, max_raw = q.get("part-number-marker") or "0", q.get("max-parts") or "1000"
        if not marker_raw.isdigit() or not max_raw.isdigit() or not 1 <= int(max_raw) <= 1000:
            raise ServiceError(400, "InvalidArgument",
                               "part-number-marker must be a non-negative integer and max-parts "
                               "an integer between 1 and 1000.")
        marker, max_parts = int(marker_raw), int(max_raw)
        parts, truncated, next_marker = self.backend.list_parts(
            addr.bucket, addr.key, q["uploadId"], marker=marker, max_parts=max_parts)
        return self._reply(rid, body=render.list_parts_xml(
            addr.bucket, addr.key, q["uploadId"], parts, marker=marker, next_marker=next_marker,
            max_parts=max_parts, truncated=truncated))

