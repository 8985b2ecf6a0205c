"""The MNS request signature (`Authorization: MNS <AccessKeyId>:<Signature>`), checked as the service does.

StringToSign = VERB \\n Content-MD5 \\n Content-Type \\n Date \\n CanonicalizedMNSHeaders + CanonicalizedResource
Signature    = base64(HMAC-SHA1(AccessKeySecret, StringToSign))

Content-MD5 is base64 of the *hex* MD5 string of the body (the SDK's rule, kept by the service).
The `security-token` header of STS credentials is not signed; it must belong to the key.
The Date header is required and, once the signature is good, must be within 15 minutes of the
REAL clock (not the emulated one, which may run ahead): otherwise 400 `TimeExpired` "The http
request you sent is expired.", the code MNS publishes; the status (400) and refusing an unreadable
date the same way are our choices (see `..freshness`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Mapping

from ...core import ServiceError, WireRequest
from ...credentials import CredentialStore
from ...freshness import is_skewed, parse_http_date


def content_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).hexdigest().encode("ascii")).decode("ascii")


def string_to_sign(method: str, headers: Mapping[str, str], resource: str) -> str:
    """`headers` with lower-case names; `resource` is the request URI exactly as sent (path?query)."""
    mns_headers = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers) if k.startswith("x-mns-"))
    return (f"{method}\n{headers.get('content-md5', '')}\n{headers.get('content-type', '')}\n"
            f"{headers.get('date', '')}\n{mns_headers}{resource}")


def signature(secret: str, to_sign: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def authorization(access_key_id: str, secret: str, method: str, headers: Mapping[str, str], resource: str) -> str:
    """The header a client sends (used by tests and by anything that signs like the SDK)."""
    return f"MNS {access_key_id}:{signature(secret, string_to_sign(method, headers, resource))}"


def verify(req: WireRequest, body: bytes, credentials: CredentialStore) -> str:
    """The AccessKeyId of a correctly signed request; otherwise the error MNS answers."""
    header = req.header("authorization")
    if not header:
        raise ServiceError(400, "MissingAuthorizationHeader", "Authorization header is required.")
    scheme, _, credential = header.partition(" ")
    access_key_id, _, provided = credential.strip().partition(":")
    if scheme != "MNS" or not access_key_id or not provided:
        raise ServiceError(400, "InvalidAuthorizationHeader", "The Authorization header format is invalid. "
                           "(expected 'MNS <AccessKeyId>:<Signature>')")
    if not req.header("date"):
        raise ServiceError(400, "MissingDateHeader", "Date header is required.")
    md5 = req.header("content-md5")
    if md5 and md5 != content_md5(body):
        raise ServiceError(400, "InvalidDegist", "The Content-MD5 you specified is invalid. (expected base64 "
                           "of the hex MD5 of the body: " + content_md5(body) + ")")  # sic: real code spelling
    secret = credentials.secret_for(access_key_id)
    if secret is None:
        raise ServiceError(403, "InvalidAccessKeyId", "The AccessKey Id you provided is not exist.")
    resource = req.path + (f"?{req.query}" if req.query else "")
    to_sign = string_to_sign(req.method, req.headers, resource)
    if not hmac.compare_digest(signature(secret, to_sign), provided):
        raise ServiceError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match "
                           "the signature you provided. Check your key and signing method.",
                           StringToSign=to_sign)
    if not credentials.token_ok(access_key_id, req.header("security-token") or None):
        # UNVERIFIED code: MNS publishes none for a wrong STS token; AccessDenied is its 403 for bad keys.
        raise ServiceError(403, "AccessDenied", "The security token you provided is invalid or does not "
                           f"belong to AccessKey Id {access_key_id!r}; send the token issued with this key.")
    check_date(req.header("date"), time.time())
    return access_key_id


def check_date(value: str, now: float) -> None:
    signed_at = parse_http_date(value)
    if signed_at is None or is_skewed(signed_at, now):
        raise ServiceError(400, "TimeExpired",
                           f"The http request you sent is expired. (Date {value!r} must be an "
                           "HTTP date within 15 minutes of the server's time; correct the "
                           "client's clock)")
