"""Request signatures ECS accepts: ACS3-HMAC-SHA256 (the tea SDK's V3) and the classic RPC
HMAC-SHA1 `Signature` query parameter (older SDKs and the CLI), plus the STS token.

Pure over the request facts: returns the access key id that signed, or raises the error real
ECS answers. The canonical request follows `alibabacloud_tea_openapi.utils.get_authorization`.

After a good signature, `check_fresh` refuses a request dated more than 15 minutes from the real
clock (400 `InvalidTimeStamp.Expired`) and a nonce used before (400 `SignatureNonceUsed`), as the
cloud's API gateway does (see `..freshness`). Choices made here where Alibaba publishes nothing: a
date that is not `yyyy-MM-ddTHH:mm:ssZ` gets 400 `InvalidTimeStamp.Format`, a missing nonce
400 `MissingSignatureNonce`; Function Compute, behind the same gateway, answers the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Callable, Mapping
from urllib.parse import parse_qsl, quote

from .core import ServiceError
from .freshness import NonceMemory, is_skewed, parse_iso_date

ACS3 = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Parameters of the classic RPC signature; they are not operation parameters.
RPC_COMMON = frozenset({"Action", "Version", "Format", "AccessKeyId", "Signature", "SignatureMethod",
                        "SignatureVersion", "SignatureNonce", "Timestamp", "SecurityToken",
                        "SignatureType"})

SIGNATURE_MISMATCH = "The request signature does not conform to Aliyun standards."


def _mismatch(string_to_sign: str) -> ServiceError:
    # Real ECS appends its own string to sign, which is what lets a client author find the bug.
    return ServiceError(400, "SignatureDoesNotMatch",
                        f"{SIGNATURE_MISMATCH} server string to sign is:{string_to_sign}")


def incomplete(why: str) -> ServiceError:
    return ServiceError(400, "IncompleteSignature", f"{SIGNATURE_MISMATCH} {why}")


def unknown_key(access_key_id: str) -> ServiceError:
    return ServiceError(404, "InvalidAccessKeyId.NotFound",
                        f"Specified access key is not found: {access_key_id!r}. "
                        "Use an AccessKey pair this cloud issued.")


def parse_authorization(value: str) -> tuple[str, str, list[str], str]:
    """`ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex` → its four parts."""
    algorithm, _, rest = value.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, val = part.strip().partition("=")
        if sep:
            fields[name] = val
    if algorithm != ACS3:
        raise incomplete(f"Only {ACS3} is accepted in the Authorization header, got {algorithm!r}.")
    if not all(fields.get(k) for k in ("Credential", "SignedHeaders", "Signature")):
        raise incomplete("The Authorization header needs Credential, SignedHeaders and Signature.")
    return algorithm, fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"]


def canonical_query(query: str) -> str:
    """Decode the URL query as a form (`+` is a space), then re-quote values with `%20`."""
    pairs = dict(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{k}={quote(pairs[k], safe='~')}" for k in sorted(pairs))


def acs3_string_to_sign(method: str, path: str, query: str, headers: Mapping[str, str],
                        signed: list[str], payload_hash: str) -> str:
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    canonical_request = "\n".join([method, path or "/", canonical_query(query), canonical_headers,
                                   ";".join(signed), payload_hash])
    return f"{ACS3}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"


def verify_acs3(method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
                secret_for: Callable[[str], str | None]) -> str:
    _, access_key_id, signed, signature = parse_authorization(headers["authorization"])
    unsigned = sorted(n for n in headers if n.startswith("x-acs-") and n not in signed)
    if unsigned or "host" not in signed:
        raise incomplete(f"Every x-acs-* header and host must be signed; not signed: "
                         f"{', '.join(unsigned) or 'host'}.")
    secret = secret_for(access_key_id)
    if secret is None:
        raise unknown_key(access_key_id)
    payload_hash = headers.get("x-acs-content-sha256", "")
    if payload_hash != hashlib.sha256(body).hexdigest():
        raise incomplete("x-acs-content-sha256 is missing or is not the SHA-256 of the body.")
    string_to_sign = acs3_string_to_sign(method, path, query, headers, signed, payload_hash)
    expected = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise _mismatch(string_to_sign)
    return access_key_id


def _pct(value: str) -> str:
    return quote(value, safe="~")


def verify_rpc_v1(method: str, params: Mapping[str, str],
                  secret_for: Callable[[str], str | None]) -> str:
    """Classic RPC: `Signature = base64(HMAC-SHA1(secret + "&", METHOD&%2F&pct(sorted query)))`."""
    access_key_id = params.get("AccessKeyId", "")
    if not access_key_id:
        raise incomplete('The classic signature needs the "AccessKeyId" parameter.')
    if params.get("SignatureMethod", "HMAC-SHA1") != "HMAC-SHA1":
        raise incomplete("Only SignatureMethod HMAC-SHA1 is accepted with a Signature parameter.")
    secret = secret_for(access_key_id)
    if secret is None:
        raise unknown_key(access_key_id)
    canonical = "&".join(f"{_pct(k)}={_pct(params[k])}" for k in sorted(params) if k != "Signature")
    string_to_sign = f"{method}&{_pct('/')}&{_pct(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), params.get("Signature", "")):
        raise _mismatch(string_to_sign)
    return access_key_id


def check_token(access_key_id: str, token: str | None, token_ok: Callable[[str, str | None], bool]) -> None:
    if not token_ok(access_key_id, token or None):
        raise ServiceError(400, "InvalidSecurityToken.MismatchWithAccessKey",
                           "Specified SecurityToken mismatch with the AccessKey: send the token issued "
                           "together with this STS AccessKey, and none with a long-term key.")


def check_fresh(access_key_id: str, stamp: str, nonce: str, nonces: NonceMemory, now: float, *,
                stamp_name: str = "x-acs-date",
                nonce_name: str = "x-acs-signature-nonce") -> None:
    """The request's own time against the real clock, then its nonce against the ones seen."""
    signed_at = parse_iso_date(stamp)
    if signed_at is None:
        raise ServiceError(400, "InvalidTimeStamp.Format",
                           "Specified time stamp or date value is not well formatted: "
                           f"{stamp_name} {stamp!r} must be UTC yyyy-MM-ddTHH:mm:ssZ.")
    if is_skewed(signed_at, now):
        raise ServiceError(400, "InvalidTimeStamp.Expired",
                           f"Specified time stamp or date value is expired: {stamp_name} "
                           f"{stamp} is more than 15 minutes from the server's time; correct the "
                           "client's clock.")
    if not nonce:
        raise ServiceError(400, "MissingSignatureNonce",
                           f"{nonce_name} is mandatory for this request: send a new random value "
                           "with every request.")
    if not nonces.use(access_key_id, nonce, signed_at, now):
        raise ServiceError(400, "SignatureNonceUsed",
                           f"Specified signature nonce was used already: {nonce_name} {nonce!r}; "
                           "send a new random value with every request.")
