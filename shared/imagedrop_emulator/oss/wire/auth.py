"""OSS request signatures, verified the way the service does: V1 (`OSS ak:sig`, HMAC-SHA1), V4
(`OSS4-HMAC-SHA256`, scoped signing key), and presigned URLs of both versions
(`OSSAccessKeyId/Expires/Signature`, `x-oss-credential/x-oss-date/x-oss-expires/x-oss-signature`).

Pure functions over the request's method, decoded resource, query pairs and headers: the wire
layer feeds them and turns the `ServiceError`s they raise into XML.

A header-signed request must be dated (`Date`, or `x-oss-date`) within 15 minutes of the real
clock, or it is refused 403 `RequestTimeTooSkewed` as OSS does; the check follows a good
signature (see `..freshness`). A date that cannot be read at all is refused 403 `AccessDenied`
naming the header (a choice made here: OSS publishes no code for it).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Callable

from ...core import ServiceError
from ...freshness import MAX_SKEW_SECONDS, is_skewed, parse_http_date, parse_iso_date
from .. import errors

# Query parameters that are part of the V1 canonical resource (as the service and oss2 define it).
SUBRESOURCES = frozenset({
    "acl", "uploads", "location", "cors", "logging", "website", "referer", "lifecycle", "delete",
    "append", "tagging", "objectMeta", "uploadId", "partNumber", "security-token", "position",
    "img", "style", "styleName", "replication", "replicationProgress", "replicationLocation",
    "cname", "bucketInfo", "comp", "qos", "live", "status", "vod", "startTime", "endTime",
    "symlink", "x-oss-process", "response-content-type", "x-oss-traffic-limit",
    "response-content-language", "response-expires", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "udf", "udfName", "udfImage",
    "udfId", "udfImageDesc", "udfApplication", "udfApplicationLog", "restore", "callback",
    "callback-var", "qosInfo", "policy", "stat", "encryption", "versions", "versioning",
    "versionId", "requestPayment", "x-oss-request-payer", "sequential", "inventory", "inventoryId",
    "continuation-token", "asyncFetch", "worm", "wormId", "wormExtend", "transferAcceleration",
    "metaQuery", "resourceGroup", "regionList", "accessPoint", "publicAccessBlock",
})
V4_SIGNED_BY_DEFAULT = ("content-type", "content-md5")

SecretLookup = Callable[[str], "str | None"]
TokenCheck = Callable[[str, "str | None"], bool]


@dataclass
class SignedRequest:
    method: str
    bucket: str          # "" for service-level requests
    key: str             # decoded object key, "" for bucket-level requests
    params: list[tuple[str, str]]   # decoded query pairs, in order
    headers: dict[str, str]         # lower-case names


@dataclass
class Signer:
    access_key_id: str
    v4_region: str | None = None   # the region of a V4 credential scope


def verify(req: SignedRequest, secret_for: SecretLookup, token_ok: TokenCheck,
           now: float | None = None) -> Signer:
    """Check the request's signature; return who signed it."""
    auth = req.headers.get("authorization", "")
    query = dict(req.params)
    clock = now if now is not None else time.time()
    if auth.startswith("OSS4-HMAC-SHA256 "):
        signer = _verify_v4(req, auth, secret_for, token_ok)
        _check_fresh("x-oss-date", req.headers.get("x-oss-date", ""), clock)
        return signer
    if auth.startswith("OSS "):
        signer = Signer(_verify_v1(req, auth, secret_for, token_ok))
        name = "x-oss-date" if req.headers.get("x-oss-date") else "Date"
        _check_fresh(name, req.headers.get(name.lower(), ""), clock)
        return signer
    if auth:
        raise ServiceError(400, "InvalidArgument",
                           "Authorization header is invalid: expected 'OSS <AccessKeyId>:<Signature>' "
                           "or 'OSS4-HMAC-SHA256 Credential=...'.")
    if "OSSAccessKeyId" in query and "Signature" in query:
        return Signer(_verify_presigned_v1(req, query, secret_for, token_ok, now))
    if query.get("x-oss-signature-version") == "OSS4-HMAC-SHA256" and "x-oss-signature" in query:
        return _verify_presigned_v4(req, query, secret_for, token_ok, now)
    raise ServiceError(403, "AccessDenied",
                       "You have no right to access this object because of bucket acl.")


def _secret(ak: str, token: str | None, secret_for: SecretLookup, token_ok: TokenCheck) -> str:
    secret = secret_for(ak)
    if secret is None:
        raise ServiceError(403, "InvalidAccessKeyId",
                           "The OSS Access Key Id you provided does not exist in our records.",
                           OSSAccessKeyId=ak)
    if not token_ok(ak, token):
        if token and ak.startswith("STS."):
            raise ServiceError(403, "InvalidSecurityToken",
                               "The security token you provided is invalid.", OSSAccessKeyId=ak)
        raise ServiceError(403, "InvalidAccessKeyId",
                           "The OSS Access Key Id you provided does not exist in our records.",
                           OSSAccessKeyId=ak, EC=errors.EC_STS_KEY_UNKNOWN)
    return secret


def _check_fresh(header: str, value: str, now: float) -> None:
    signed_at = parse_http_date(value) if "," in value else parse_iso_date(
        value, ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ"))
    if signed_at is None:
        raise ServiceError(403, "AccessDenied",
                           f"The {header} header {value!r} is not a date: send the time of the "
                           "request (an HTTP date such as 'Sun, 29 Nov 2026 19:14:14 GMT', or "
                           "20261129T191414Z for x-oss-date).", Header=header)
    if is_skewed(signed_at, now):
        raise ServiceError(403, "RequestTimeTooSkewed",
                           "The difference between the request time and the current time is too "
                           "large.", RequestTime=value,
                           ServerTime=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now)),
                           MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000))


# ----------------------------------------------------------------------------- V1


def v1_string_to_sign(req: SignedRequest, date: str) -> str:
    h = req.headers
    oss_headers = sorted((k, v) for k, v in h.items() if k.startswith("x-oss-"))
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in oss_headers)
    return "\n".join([req.method, h.get("content-md5", ""), h.get("content-type", ""), date,
                      canonical_headers + v1_resource(req)])


def v1_resource(req: SignedRequest) -> str:
    subs = sorted((k, v) for k, v in req.params if k in SUBRESOURCES)
    sub = "&".join(f"{k}={v}" if v else k for k, v in subs)
    base = f"/{req.bucket}/{req.key}" if req.bucket else "/"
    return base + (f"?{sub}" if sub else "")


def _sign_v1(secret: str, string_to_sign: str) -> str:
    digest = hmac.digest(secret.encode(), string_to_sign.encode("utf-8"), "sha1")
    return base64.b64encode(digest).decode()


def _mismatch(ak: str, provided: str, string_to_sign: str, **extra: str) -> ServiceError:
    data = string_to_sign.encode("utf-8")
    return ServiceError(
        403, "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        OSSAccessKeyId=ak, SignatureProvided=provided, StringToSign=string_to_sign,
        StringToSignBytes=" ".join(f"{b:02X}" for b in data) + " ", **extra)


def _verify_v1(req: SignedRequest, auth: str, secret_for: SecretLookup, token_ok: TokenCheck) -> str:
    ak, sep, provided = auth[4:].strip().rpartition(":")
    if not sep or not ak:
        raise ServiceError(400, "InvalidArgument",
                           "Authorization header is invalid: expected 'OSS <AccessKeyId>:<Signature>'.")
    secret = _secret(ak, req.headers.get("x-oss-security-token"), secret_for, token_ok)
    date = req.headers.get("x-oss-date") or req.headers.get("date", "")
    string_to_sign = v1_string_to_sign(req, date)
    if not hmac.compare_digest(_sign_v1(secret, string_to_sign), provided):
        raise _mismatch(ak, provided, string_to_sign, EC=errors.EC_SIGNATURE_V1)
    return ak


def _verify_presigned_v1(req: SignedRequest, query: dict[str, str], secret_for: SecretLookup,
                         token_ok: TokenCheck, now: float | None) -> str:
    ak, provided, expires = query["OSSAccessKeyId"], query["Signature"], query.get("Expires", "")
    secret = _secret(ak, query.get("security-token"), secret_for, token_ok)
    # Expiry is checked against real time: that is what the client signed with.
    if not expires.isdigit() or int(expires) < int(now if now is not None else time.time()):
        raise ServiceError(403, "AccessDenied", "Request has expired.", Expires=expires)
    string_to_sign = v1_string_to_sign(req, expires)
    if not hmac.compare_digest(_sign_v1(secret, string_to_sign), provided):
        raise _mismatch(ak, provided, string_to_sign, EC=errors.EC_SIGNATURE_V1)
    return ak


# ----------------------------------------------------------------------------- V4

_V4_FIELD = re.compile(r"(Credential|AdditionalHeaders|Signature)=([^,\s]*)")


def v4_uri_encode(text: str, keep_slash: bool) -> str:
    safe = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-~."
    out = []
    for byte in text.encode("utf-8"):
        if byte in safe or (keep_slash and byte == 0x2F):
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def v4_canonical_request(req: SignedRequest, additional: list[str]) -> str:
    uri = v4_uri_encode(f"/{req.bucket}/{req.key}" if req.bucket else "/", True)
    encoded = sorted((v4_uri_encode(k, False), v4_uri_encode(v, False)) for k, v in req.params)
    query = "&".join(f"{k}={v}" if v else k for k, v in encoded)
    signed = {k: v for k, v in req.headers.items()
              if k.startswith("x-oss-") or k in V4_SIGNED_BY_DEFAULT or k in additional}
    headers = "".join(f"{k}:{signed[k]}\n" for k in sorted(signed))
    payload = req.headers.get("x-oss-content-sha256", "UNSIGNED-PAYLOAD")
    return "\n".join([req.method, uri, query, headers, ";".join(sorted(additional)), payload])


def v4_signing_key(secret: str, date: str, region: str, product: str) -> bytes:
    key = hmac.new(("aliyun_v4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, product, "aliyun_v4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _scope(credential: str, where: str) -> list[str]:
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aliyun_v4_request":
        raise ServiceError(400, "InvalidArgument",
                           f"{where} is invalid: expected Credential "
                           "'<ak>/<yyyymmdd>/<region>/oss/aliyun_v4_request'.")
    return scope


def _check_v4(req: SignedRequest, scope: list[str], stamp: str, provided: str,
              additional: list[str], secret_for: SecretLookup, token_ok: TokenCheck,
              token: str | None) -> Signer:
    ak, date, region, product, _ = scope
    secret = _secret(ak, token, secret_for, token_ok)
    if not stamp.startswith(date):
        raise ServiceError(400, "InvalidArgument",
                           "x-oss-date must be set and fall on the date of the Credential scope.",
                           ArgumentName="x-oss-date", ArgumentValue=stamp)
    canonical = v4_canonical_request(req, additional)
    string_to_sign = "\n".join(["OSS4-HMAC-SHA256", stamp, "/".join(scope[1:]),
                                hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    expected = hmac.new(v4_signing_key(secret, date, region, product), string_to_sign.encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, provided):
        raise _mismatch(ak, provided, string_to_sign, CanonicalRequest=canonical)
    return Signer(ak, region)


def _verify_v4(req: SignedRequest, auth: str, secret_for: SecretLookup, token_ok: TokenCheck) -> Signer:
    fields = dict(_V4_FIELD.findall(auth))
    if "Signature" not in fields:
        raise ServiceError(400, "InvalidArgument",
                           "Authorization header is invalid: expected 'OSS4-HMAC-SHA256 "
                           "Credential=<ak>/<yyyymmdd>/<region>/oss/aliyun_v4_request, Signature=<hex>'.")
    scope = _scope(fields.get("Credential", ""), "Authorization header")
    additional = [h.lower() for h in fields.get("AdditionalHeaders", "").split(";") if h]
    return _check_v4(req, scope, req.headers.get("x-oss-date", ""), fields["Signature"], additional,
                     secret_for, token_ok, req.headers.get("x-oss-security-token"))


def _verify_presigned_v4(req: SignedRequest, query: dict[str, str], secret_for: SecretLookup,
                         token_ok: TokenCheck, now: float | None) -> Signer:
    scope = _scope(query.get("x-oss-credential", ""), "x-oss-credential")
    stamp, expires = query.get("x-oss-date", ""), query.get("x-oss-expires", "")
    try:
        signed_at = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise ServiceError(400, "InvalidArgument", "x-oss-date must look like 20240101T000000Z.",
                           ArgumentName="x-oss-date", ArgumentValue=stamp) from None
    if not expires.isdigit() or signed_at + int(expires) < int(now if now is not None else time.time()):
        raise ServiceError(403, "AccessDenied", "Request has expired.", Expires=expires)
    # The signature covers every query parameter except itself.
    unsigned = SignedRequest(req.method, req.bucket, req.key,
                             [(k, v) for k, v in req.params if k != "x-oss-signature"], req.headers)
    additional = [h.lower() for h in query.get("x-oss-additional-headers", "").split(";") if h]
    return _check_v4(unsigned, scope, stamp, query["x-oss-signature"], additional, secret_for,
                     token_ok, query.get("x-oss-security-token"))
