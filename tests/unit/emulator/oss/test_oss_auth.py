"""Signatures are verified, not trusted: wrong secrets, unknown keys, tokens and regions fail as on OSS."""

from __future__ import annotations

import oss2
import pytest
import requests
from oss_helpers import BUCKET, MakeBucket

from imagedrop_emulator import FakeCloud
from imagedrop_emulator.oss.wire.auth import SignedRequest, v1_resource, v1_string_to_sign

MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.")


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_wrong_secret_is_signature_does_not_match(make_bucket: MakeBucket, version: str) -> None:
    bucket = make_bucket(version, secret="not-the-secret")
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.put_object("k", b"data")
    assert (err.value.status, err.value.code, err.value.message) == (403, "SignatureDoesNotMatch",
                                                                    MISMATCH)
    assert err.value.details["StringToSign"]  # what the server signed, to diagnose with
    if version == "v1":
        assert err.value.details["StringToSign"].endswith(f"/{BUCKET}/k")
        assert err.value.details["EC"] == "0002-00000040"
    else:
        assert err.value.details["CanonicalRequest"].startswith(f"PUT\n/{BUCKET}/k\n")


def test_unknown_access_key(cloud: FakeCloud, make_bucket: MakeBucket) -> None:
    bucket = make_bucket(auth=oss2.Auth("LTAInobody", "whatever"))
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.get_object("k")
    assert (err.value.status, err.value.code) == (403, "InvalidAccessKeyId")
    assert err.value.message == "The OSS Access Key Id you provided does not exist in our records."
    assert err.value.details["OSSAccessKeyId"] == "LTAInobody"


def test_anonymous_request_is_denied(make_bucket: MakeBucket) -> None:
    bucket = make_bucket(auth=oss2.AnonymousAuth())
    with pytest.raises(oss2.exceptions.AccessDenied) as err:
        bucket.get_object("k")
    assert err.value.code == "AccessDenied"
    assert err.value.message == "You have no right to access this object because of bucket acl."


def test_sts_key_needs_its_own_token(cloud: FakeCloud, make_bucket: MakeBucket) -> None:
    ak, sk, _ = cloud.credentials.issue_sts()
    bucket = make_bucket(auth=oss2.StsAuth(ak, sk, "CAISforged"))
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.put_object("k", b"1")
    assert (err.value.status, err.value.code) == (403, "InvalidSecurityToken")
    without = make_bucket(auth=oss2.Auth(ak, sk))  # STS key, token left out
    with pytest.raises(oss2.exceptions.ServerError) as err2:
        without.put_object("k", b"1")
    assert err2.value.code == "InvalidAccessKeyId"


def test_v4_with_another_region_does_not_match(cloud: FakeCloud, endpoint: str) -> None:
    bucket = oss2.Bucket(oss2.AuthV4(cloud.access_key_id, cloud.access_key_secret), endpoint,
                         BUCKET, region="cn-shanghai")
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.get_object("k")
    assert (err.value.status, err.value.code) == (403, "SignatureDoesNotMatch")


def test_presigned_url_works_and_tampering_fails(bucket: oss2.Bucket) -> None:
    bucket.put_object("shared/a b.txt", b"hello")
    url = bucket.sign_url("GET", "shared/a b.txt", 60)
    assert requests.get(url, timeout=5).content == b"hello"
    forged = url.replace("Signature=", "Signature=AA")
    resp = requests.get(forged, timeout=5)
    assert resp.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in resp.content


def test_v1_string_to_sign_shape() -> None:
    req = SignedRequest("PUT", "b", "dir/a b", [("partNumber", "2"), ("uploadId", "U"),
                                               ("encoding-type", "url")],
                        {"content-type": "text/plain", "x-oss-meta-b": "2", "x-oss-date": "D",
                         "date": "ignored", "content-md5": "M"})
    assert v1_resource(req) == "/b/dir/a b?partNumber=2&uploadId=U"
    assert v1_string_to_sign(req, "D") == (
        "PUT\nM\ntext/plain\nD\nx-oss-date:D\nx-oss-meta-b:2\n/b/dir/a b?partNumber=2&uploadId=U")
