"""AWS Signature Version 2, as old clients still send it: boto3 with
Config(signature_version='s3') for header-signed requests (x-amz-* headers, Content-Type and
Content-MD5 are part of its string to sign) and its presigned URLs (AWSAccessKeyId, Expires,
Signature in the query), fetched with urllib; and, since botocore 1.29 signs sub-resources
(?tagging, ?uploads, ?delete...) wrongly in path style, raw SigV2 requests signed here."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from typing import Optional, Sequence, Tuple

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import sigv4
from harness import REGION, poll, quoted_etag, unique_name

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def v2_client(server, secret_key=None):
    session = boto3.session.Session(
        aws_access_key_id=server.access_key,
        aws_secret_access_key=secret_key or server.secret_key,
        region_name=REGION)
    return session.client("s3", endpoint_url=server.endpoint, config=Config(
        signature_version="s3", s3={"addressing_style": "path"},
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=5, read_timeout=60))


@pytest.fixture(scope="module")
def v2(server):
    return v2_client(server)


@pytest.fixture
def v2_bucket(v2) -> str:
    name = unique_name("v2")
    v2.create_bucket(Bucket=name)
    return name


def s3_error(call) -> Tuple[str, int]:
    with pytest.raises(ClientError) as e:
        call()
    resp = e.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def fetch(url: str, method: str = "GET", data: bytes = None):
    """urllib, as a script would use it; returns (status, headers, body) also for errors."""
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def error_code(body: bytes) -> str:
    return ET.fromstring(body).findtext("Code")


def test_bucket_and_object_round_trip_with_sigv2(v2, s3):
    name = unique_name("v2-basic")
    assert v2.create_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert name in [b["Name"] for b in v2.list_buckets()["Buckets"]]

    body = b"signed the old way\n" * 100
    put = v2.put_object(Bucket=name, Key="docs/read me.txt", Body=body, ContentType="text/plain",
                        Metadata={"owner": "legacy-app", "build": "7"})
    assert put["ETag"] == quoted_etag(body)

    got = v2.get_object(Bucket=name, Key="docs/read me.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "legacy-app", "build": "7"}
    # The same object as a SigV4 client sees it.
    assert s3.get_object(Bucket=name, Key="docs/read me.txt")["Metadata"] == {
        "owner": "legacy-app", "build": "7"}

    v2.put_object(Bucket=name, Key="docs/other", Body=b"2")
    v2.put_object(Bucket=name, Key="top", Body=b"3")
    listed = v2.list_objects(Bucket=name, Prefix="docs/")
    assert [o["Key"] for o in listed["Contents"]] == ["docs/other", "docs/read me.txt"]
    listed = v2.list_objects(Bucket=name, Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]] == ["top"]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["docs/"]
    page = v2.list_objects(Bucket=name, MaxKeys=1, Marker="docs/other")
    assert [o["Key"] for o in page["Contents"]] == ["docs/read me.txt"]
    assert page["IsTruncated"] is True

    assert v2.head_object(Bucket=name, Key="top")["ContentLength"] == 1
    for key in ("docs/read me.txt", "docs/other", "top"):
        assert v2.delete_object(Bucket=name, Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "Contents" not in v2.list_objects(Bucket=name)
    assert v2.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_sigv2_with_a_wrong_secret_is_signature_does_not_match(server, s3, v2_bucket):
    wrong = v2_client(server, secret_key=server.secret_key + "x")
    assert s3_error(wrong.list_buckets) == ("SignatureDoesNotMatch", 403)
    assert s3_error(lambda: wrong.put_object(Bucket=v2_bucket, Key="k", Body=b"x")) == (
        "SignatureDoesNotMatch", 403)
    assert s3_error(lambda: s3.head_object(Bucket=v2_bucket, Key="k")) == ("404", 404)


# -- sub-resources, by raw SigV2 requests ---------------------------------------------------
#
# botocore 1.29 signs path-style SigV2 requests with a sub-resource wrongly: its string to sign
# ends in "/bucket/key?tagging?tagging" (the sub-resource twice, from the auth path and again
# from the query), which AWS rejects as well. So these requests are signed here, by the rules
# of "Signing and authenticating REST requests" (the string to sign is Method, Content-MD5,
# Content-Type, Date, the x-amz-* headers and the CanonicalizedResource with its sub-resources).


def sigv2_string_to_sign(method: str, headers: dict, resource: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    amz = "".join(f"{k}:{lowered[k].strip()}\n" for k in sorted(lowered) if k.startswith("x-amz-"))
    return "\n".join([method, lowered.get("content-md5", ""), lowered.get("content-type", ""),
                      lowered["date"], amz + resource])


def canonical_resource(path: str, query: Sequence[Tuple[str, Optional[str]]]) -> str:
    subresources = sorted((k, v) for k, v in query if k in SUBRESOURCES)
    resource = sigv4.uri_encode(path, keep_slash=True)
    if subresources:
        resource += "?" + "&".join(k if v is None else f"{k}={v}" for k, v in subresources)
    return resource


SUBRESOURCES = {"acl", "delete", "location", "partNumber", "tagging", "uploadId", "uploads",
                "versionId", "versioning", "versions"}


def sigv2_request(server, method: str, path: str,
                  query: Sequence[Tuple[str, Optional[str]]] = (),
                  headers: Optional[dict] = None, body: bytes = b"",
                  secret_key: Optional[str] = None) -> sigv4.RawResponse:
    """A header-signed SigV2 request; a query value of None is sent as a bare name
    ("?uploads"), as clients send sub-resources."""
    headers = dict(headers or {})
    headers["Date"] = email.utils.formatdate(usegmt=True)
    to_sign = sigv2_string_to_sign(method, headers, canonical_resource(path, query))
    signature = base64.b64encode(hmac.new((secret_key or server.secret_key).encode(),
                                          to_sign.encode(), hashlib.sha1).digest()).decode()
    headers["Authorization"] = f"AWS {server.access_key}:{signature}"
    headers["Host"] = server.host
    target = sigv4.uri_encode(path, keep_slash=True)
    if query:
        target += "?" + "&".join(
            k if v is None else f"{k}={urllib.parse.quote(v, safe='')}" for k, v in query)
    return sigv4.send(server.host, method, target, headers, body)


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_the_sigv2_helper_agrees_with_botocore_where_botocore_is_right():
    from botocore.auth import HmacV1Auth
    url = "http://127.0.0.1:1/bkt/some%20key?uploadId=abc&partNumber=2&max-parts=5"
    mine = canonical_resource("/bkt/some key", [("uploadId", "abc"), ("partNumber", "2"),
                                                ("max-parts", "5")])
    assert mine == HmacV1Auth(None).canonical_resource(urllib.parse.urlsplit(url))
    assert mine == "/bkt/some%20key?partNumber=2&uploadId=abc"


def test_sigv2_helper_is_accepted_for_a_plain_put(server, s3, v2_bucket):
    body = b"raw v2"
    resp = sigv2_request(server, "PUT", f"/{v2_bucket}/plain key", body=body, headers={
        "Content-Type": "text/plain", "Content-MD5": md5_b64(body),
        "x-amz-meta-Origin": "raw-v2"})
    assert resp.status == 200, resp.body
    head = s3.head_object(Bucket=v2_bucket, Key="plain key")
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"origin": "raw-v2"}
    # And a wrong secret is refused with the same helper.
    resp = sigv2_request(server, "PUT", f"/{v2_bucket}/plain key", body=b"x",
                         secret_key=server.secret_key + "x")
    assert resp.status == 403
    assert resp.error()["Code"] == "SignatureDoesNotMatch"


def test_sigv2_tagging_sub_resource(server, s3, v2_bucket):
    s3.put_object(Bucket=v2_bucket, Key="t", Body=b"x")
    xml = (b'<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>')
    resp = sigv2_request(server, "PUT", f"/{v2_bucket}/t", query=[("tagging", None)], body=xml,
                         headers={"Content-MD5": md5_b64(xml), "Content-Type": "application/xml"})
    assert resp.status == 200, resp.body
    resp = sigv2_request(server, "GET", f"/{v2_bucket}/t", query=[("tagging", None)])
    assert resp.status == 200, resp.body
    assert b"<Key>a</Key>" in resp.body and b"<Value>1</Value>" in resp.body
    assert s3.get_object_tagging(Bucket=v2_bucket, Key="t")["TagSet"] == [
        {"Key": "a", "Value": "1"}]


def test_sigv2_multipart_upload(server, s3, v2_bucket):
    path = f"/{v2_bucket}/mp"
    resp = sigv2_request(server, "POST", path, query=[("uploads", None)])
    assert resp.status == 200, resp.body
    upload_id = ET.fromstring(resp.body).findtext(NS + "UploadId")
    assert upload_id
    resp = sigv2_request(server, "PUT", path, body=b"only part",
                         query=[("partNumber", "1"), ("uploadId", upload_id)])
    assert resp.status == 200, resp.body
    etag = resp.header("ETag")
    assert etag == quoted_etag(b"only part")
    resp = sigv2_request(server, "GET", path, query=[("uploadId", upload_id)])
    assert resp.status == 200, resp.body
    assert b"<PartNumber>1</PartNumber>" in resp.body
    done = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag>"
            f"</Part></CompleteMultipartUpload>").encode()
    resp = sigv2_request(server, "POST", path, query=[("uploadId", upload_id)], body=done,
                         headers={"Content-Type": "application/xml"})
    assert resp.status == 200, resp.body
    assert s3.get_object(Bucket=v2_bucket, Key="mp")["Body"].read() == b"only part"


def test_sigv2_delete_objects(server, s3, v2_bucket):
    for key in ("a", "b"):
        s3.put_object(Bucket=v2_bucket, Key=key, Body=b"x")
    xml = b"<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object></Delete>"
    resp = sigv2_request(server, "POST", f"/{v2_bucket}", query=[("delete", None)], body=xml,
                         headers={"Content-MD5": md5_b64(xml), "Content-Type": "application/xml"})
    assert resp.status == 200, resp.body
    assert resp.body.count(b"<Deleted>") == 2
    assert "Contents" not in s3.list_objects_v2(Bucket=v2_bucket)


def test_sigv2_location_sub_resource(server, v2_bucket):
    resp = sigv2_request(server, "GET", f"/{v2_bucket}", query=[("location", None)])
    assert resp.status == 200, resp.body
    assert ET.fromstring(resp.body).tag == NS + "LocationConstraint"


def test_sigv2_copy_object(v2, v2_bucket):
    # x-amz-copy-source is one of the x-amz-* headers in the string to sign.
    v2.put_object(Bucket=v2_bucket, Key="src", Body=b"copied", Metadata={"m": "1"})
    v2.copy_object(Bucket=v2_bucket, Key="dst", CopySource={"Bucket": v2_bucket, "Key": "src"})
    got = v2.get_object(Bucket=v2_bucket, Key="dst")
    assert got["Body"].read() == b"copied"
    assert got["Metadata"] == {"m": "1"}


def test_sigv2_presigned_get_with_urllib(v2, v2_bucket):
    body = b"shared by a v2 presigned url"
    v2.put_object(Bucket=v2_bucket, Key="shared/file name.txt", Body=body)
    url = v2.generate_presigned_url(
        "get_object", Params={"Bucket": v2_bucket, "Key": "shared/file name.txt"},
        ExpiresIn=300)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert set(query) == {"AWSAccessKeyId", "Expires", "Signature"}, url

    status, headers, got = fetch(url)
    assert status == 200, got
    assert got == body
    assert headers["ETag"] == quoted_etag(body)


def test_sigv2_presigned_put(v2, v2_bucket):
    url = v2.generate_presigned_url(
        "put_object", Params={"Bucket": v2_bucket, "Key": "incoming"}, ExpiresIn=300)
    # urllib would add a Content-Type of its own to a PUT with data, and Content-Type is
    # part of SigV2's string to sign: send exactly the signed request with http.client.
    resp = sigv4.fetch_url(url, method="PUT", body=b"uploaded with v2")
    assert resp.status == 200, resp.body
    assert v2.get_object(Bucket=v2_bucket, Key="incoming")["Body"].read() == b"uploaded with v2"


def test_sigv2_presigned_url_with_a_tampered_signature(v2, v2_bucket):
    v2.put_object(Bucket=v2_bucket, Key="guarded", Body=b"secret")
    url = v2.generate_presigned_url(
        "get_object", Params={"Bucket": v2_bucket, "Key": "guarded"}, ExpiresIn=300)
    parts = urllib.parse.urlsplit(url)
    query = [(k, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" if k == "Signature" else v)
             for k, v in urllib.parse.parse_qsl(parts.query)]
    status, _, got = fetch(parts._replace(query=urllib.parse.urlencode(query)).geturl())
    assert status == 403
    assert error_code(got) == "SignatureDoesNotMatch"
    assert b"secret" not in got


def test_expired_sigv2_presigned_url_is_access_denied(v2, v2_bucket):
    v2.put_object(Bucket=v2_bucket, Key="stale", Body=b"too late")
    url = v2.generate_presigned_url(
        "get_object", Params={"Bucket": v2_bucket, "Key": "stale"}, ExpiresIn=1)
    expires = int(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))["Expires"])
    # Wait (bounded) until the clock is past the expiry, then fetch once.
    poll(time.time, lambda now: now >= expires + 1, timeout=5.0,
         what="the presigned URL to expire", interval=0.1)
    status, _, got = fetch(url)
    assert status == 403, got
    assert error_code(got) == "AccessDenied"
    assert b"too late" not in got
