"""S3 errors as clients see them: the error Code, the HTTP status, the XML body, and that a
rejected write leaves nothing behind. Also presigned URLs, which plain HTTP clients use."""

from __future__ import annotations

import datetime
import urllib.parse

import pytest
from botocore.exceptions import ClientError

import sigv4
from harness import REGION, md5_b64, quoted_etag, unique_name


def s3_error(call) -> tuple:
    """Runs call, which must fail; returns (Code, HTTP status)."""
    with pytest.raises(ClientError) as e:
        call()
    resp = e.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def assert_absent(s3, bucket: str, key: str) -> None:
    assert s3_error(lambda: s3.head_object(Bucket=bucket, Key=key))[1] == 404
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=key)


def assert_xml_error(resp: sigv4.RawResponse, status: int, code: str) -> dict:
    assert resp.status == status, (resp.status, resp.body[:500])
    assert (resp.header("Content-Type") or "").startswith("application/xml"), resp.headers
    err = resp.error()
    assert err["Code"] == code, err
    assert err["Message"], err
    assert err["RequestId"] == resp.header("x-amz-request-id"), err
    return err


# -- codes through boto3 --------------------------------------------------------------------


def test_no_such_bucket(s3):
    missing = unique_name("missing")
    assert s3_error(lambda: s3.get_object(Bucket=missing, Key="k")) == ("NoSuchBucket", 404)
    assert s3_error(lambda: s3.put_object(Bucket=missing, Key="k", Body=b"x")) == (
        "NoSuchBucket", 404)
    assert s3_error(lambda: s3.list_objects_v2(Bucket=missing)) == ("NoSuchBucket", 404)
    assert s3_error(lambda: s3.delete_object(Bucket=missing, Key="k")) == ("NoSuchBucket", 404)
    assert s3_error(lambda: s3.delete_bucket(Bucket=missing)) == ("NoSuchBucket", 404)
    assert missing not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_no_such_key(s3, bucket):
    assert s3_error(lambda: s3.get_object(Bucket=bucket, Key="nope")) == ("NoSuchKey", 404)
    assert s3_error(lambda: s3.get_object(Bucket=bucket, Key="nope", Range="bytes=0-1")) == (
        "NoSuchKey", 404)
    # HEAD responses have no body, so botocore can only report the status.
    assert s3_error(lambda: s3.head_object(Bucket=bucket, Key="nope")) == ("404", 404)


def test_bucket_already_owned_by_you(s3, bucket):
    assert s3_error(lambda: s3.create_bucket(Bucket=bucket)) == ("BucketAlreadyOwnedByYou", 409)


@pytest.mark.parametrize(
    "name",
    ["UPPER", "ab", "a..b", "192.168.1.1", "a" * 64, "-leading", "trailing-", "under_score"],
)
def test_invalid_bucket_name(s3, name):
    assert s3_error(lambda: s3.create_bucket(Bucket=name)) == ("InvalidBucketName", 400)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("name", ["abc", "a" * 63, "1.2.3", "my-bucket.with-dots.0"])
def test_valid_bucket_names_at_the_edges(s3, name):
    assert s3.create_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.delete_bucket(Bucket=name)


def test_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep/me", Body=b"1")
    assert s3_error(lambda: s3.delete_bucket(Bucket=bucket)) == ("BucketNotEmpty", 409)
    assert s3.get_object(Bucket=bucket, Key="keep/me")["Body"].read() == b"1"
    s3.delete_object(Bucket=bucket, Key="keep/me")
    assert s3.delete_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


@pytest.mark.parametrize("range_header", ["bytes=100-", "bytes=100-200", "bytes=5000-6000"])
def test_invalid_range(s3, bucket, range_header):
    s3.put_object(Bucket=bucket, Key="hundred", Body=b"r" * 100)
    assert s3_error(lambda: s3.get_object(Bucket=bucket, Key="hundred", Range=range_header)) == (
        "InvalidRange", 416)


def test_invalid_access_key_id(server):
    stranger = server.client(access_key="AKIANOTAREALKEY00000", secret_key="whatever")
    assert s3_error(stranger.list_buckets) == ("InvalidAccessKeyId", 403)


def test_signature_does_not_match_with_wrong_secret(server, bucket):
    wrong = server.client(secret_key=server.secret_key + "x")
    assert s3_error(wrong.list_buckets) == ("SignatureDoesNotMatch", 403)
    assert s3_error(lambda: wrong.put_object(Bucket=bucket, Key="k", Body=b"x")) == (
        "SignatureDoesNotMatch", 403)
    assert_absent(server.client(), bucket, "k")


def test_anonymous_request_is_access_denied(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    resp = sigv4.unsigned_request(server.endpoint, "GET", f"/{bucket}/private")
    assert_xml_error(resp, 403, "AccessDenied")
    assert b"secret" not in resp.body
    resp = sigv4.unsigned_request(server.endpoint, "PUT", f"/{bucket}/anon", body=b"x")
    assert_xml_error(resp, 403, "AccessDenied")
    assert_absent(s3, bucket, "anon")


@pytest.mark.parametrize("minutes", [-20, 20])
def test_request_time_too_skewed(server, minutes):
    skewed = sigv4.utc_now() + datetime.timedelta(minutes=minutes)
    resp = server.signed("GET", "/", now=skewed)
    assert_xml_error(resp, 403, "RequestTimeTooSkewed")


def test_request_signed_by_hand_with_current_time_works(server, s3, bucket):
    # The control for the skew test: the same helper with the right time is accepted.
    resp = server.signed("PUT", f"/{bucket}/by hand+raw", body=b"raw body",
                         headers={"Content-Type": "text/plain"})
    assert resp.status == 200, resp.body
    assert resp.header("ETag") == quoted_etag(b"raw body")
    got = s3.get_object(Bucket=bucket, Key="by hand+raw")
    assert got["Body"].read() == b"raw body"
    assert got["ContentType"] == "text/plain"


def test_x_amz_content_sha256_mismatch(server, s3, bucket):
    body = b"the bytes actually sent"
    resp = server.signed("PUT", f"/{bucket}/tampered", body=body,
                         payload_hash=sigv4.sha256_hex(b"the bytes that were signed"))
    assert_xml_error(resp, 400, "XAmzContentSHA256Mismatch")
    assert_absent(s3, bucket, "tampered")


def test_bad_digest(s3, bucket):
    call = lambda: s3.put_object(Bucket=bucket, Key="bad-md5", Body=b"real body",
                                 ContentMD5=md5_b64(b"other body"))
    assert s3_error(call) == ("BadDigest", 400)
    assert_absent(s3, bucket, "bad-md5")


def test_correct_content_md5_is_accepted(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="good-md5", Body=b"real body",
                        ContentMD5=md5_b64(b"real body"))
    assert put["ETag"] == quoted_etag(b"real body")


def test_failed_overwrite_keeps_the_previous_version(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="stable", Body=b"version 1")
    call = lambda: s3.put_object(Bucket=bucket, Key="stable", Body=b"version 2",
                                 ContentMD5=md5_b64(b"something else"))
    assert s3_error(call) == ("BadDigest", 400)
    resp = server.signed("PUT", f"/{bucket}/stable", body=b"version 3",
                         payload_hash=sigv4.sha256_hex(b"version 4"))
    assert_xml_error(resp, 400, "XAmzContentSHA256Mismatch")
    got = s3.get_object(Bucket=bucket, Key="stable")
    assert got["Body"].read() == b"version 1"
    assert got["ETag"] == quoted_etag(b"version 1")


# -- the XML error body ---------------------------------------------------------------------


def test_error_body_is_s3_xml_with_code_message_resource_request_id(server, bucket):
    resp = server.signed("GET", f"/{bucket}/no/such/key")
    err = assert_xml_error(resp, 404, "NoSuchKey")
    assert err["Resource"] == f"/{bucket}/no/such/key"
    assert resp.body.lstrip().startswith(b"<?xml")

    missing = unique_name("missing")
    resp = server.signed("GET", f"/{missing}", query=[("list-type", "2")])
    err = assert_xml_error(resp, 404, "NoSuchBucket")
    assert err["Resource"] == f"/{missing}"
    assert err.get("BucketName", missing) == missing


def test_error_request_ids_are_unique(server, bucket):
    first = server.signed("GET", f"/{bucket}/nothing")
    second = server.signed("GET", f"/{bucket}/nothing")
    assert first.error()["RequestId"] != second.error()["RequestId"]


# -- presigned URLs -------------------------------------------------------------------------


def test_presigned_get_works_with_plain_http(s3, bucket):
    body = b"fetched without any AWS library" * 100
    s3.put_object(Bucket=bucket, Key="shared/file name.bin", Body=body)
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared/file name.bin"}, ExpiresIn=300)
    resp = sigv4.fetch_url(url)
    assert resp.status == 200, resp.body[:500]
    assert resp.body == body
    assert resp.header("ETag") == quoted_etag(body)
    assert resp.header("x-amz-request-id")


def test_presigned_put_works_with_plain_http(s3, bucket):
    body = b"uploaded with a presigned URL"
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "incoming/upload.txt"}, ExpiresIn=300)
    resp = sigv4.fetch_url(url, method="PUT", body=body)
    assert resp.status == 200, resp.body[:500]
    assert resp.header("ETag") == quoted_etag(body)
    got = s3.get_object(Bucket=bucket, Key="incoming/upload.txt")
    assert got["Body"].read() == body


def test_presigned_url_with_tampered_signature_is_rejected(s3, bucket):
    s3.put_object(Bucket=bucket, Key="guarded", Body=b"guarded content")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "guarded"}, ExpiresIn=300)
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    query = [(k, ("0" * 64 if k == "X-Amz-Signature" else v)) for k, v in query]
    tampered = parts._replace(query=urllib.parse.urlencode(query)).geturl()
    resp = sigv4.fetch_url(tampered)
    assert_xml_error(resp, 403, "SignatureDoesNotMatch")
    assert b"guarded content" not in resp.body


def test_presigned_url_for_another_key_is_rejected(s3, bucket):
    s3.put_object(Bucket=bucket, Key="allowed", Body=b"a")
    s3.put_object(Bucket=bucket, Key="forbidden", Body=b"f")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "allowed"}, ExpiresIn=300)
    resp = sigv4.fetch_url(url.replace("/allowed?", "/forbidden?"))
    assert_xml_error(resp, 403, "SignatureDoesNotMatch")


def test_expired_presigned_url_is_access_denied(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="stale", Body=b"too late")
    two_hours_ago = sigv4.utc_now() - datetime.timedelta(hours=2)
    url = sigv4.presign_url(method="GET", endpoint=server.endpoint, path=f"/{bucket}/stale",
                            access_key=server.access_key, secret_key=server.secret_key,
                            region=REGION, expires=3600, now=two_hours_ago)
    resp = sigv4.fetch_url(url)
    assert_xml_error(resp, 403, "AccessDenied")
    assert b"too late" not in resp.body


def test_presigned_url_signed_by_hand_in_the_past_but_unexpired_works(server, s3, bucket):
    # The control for the expiry test: 30 minutes old, valid for an hour. Presigned URLs are
    # judged by their expiry, not by the 15-minute clock-skew window of signed headers.
    s3.put_object(Bucket=bucket, Key="fresh", Body=b"still valid")
    half_hour_ago = sigv4.utc_now() - datetime.timedelta(minutes=30)
    url = sigv4.presign_url(method="GET", endpoint=server.endpoint, path=f"/{bucket}/fresh",
                            access_key=server.access_key, secret_key=server.secret_key,
                            region=REGION, expires=3600, now=half_hour_ago)
    resp = sigv4.fetch_url(url)
    assert resp.status == 200, resp.body[:500]
    assert resp.body == b"still valid"
