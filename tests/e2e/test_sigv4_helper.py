"""The hand-made SigV4 signer (sigv4.py) agrees with botocore's, so when a hand-signed request
is rejected in the other tests, the server is at fault. Needs no server."""

from __future__ import annotations

import datetime
from unittest import mock

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import sigv4

ACCESS = "AKIDEXAMPLE000000000"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
WHEN = datetime.datetime(2024, 2, 29, 23, 59, 58)  # naive UTC, as botocore uses it
ENDPOINT = "http://127.0.0.1:9000"


class _FrozenDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return WHEN


def _botocore_sign(method, path, query, headers, body):
    url = ENDPOINT + sigv4.request_target(path, query)
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    with mock.patch("botocore.auth.datetime.datetime", _FrozenDatetime):
        S3SigV4Auth(Credentials(ACCESS, SECRET), "s3", "us-east-1").add_auth(req)
    return req.headers


def test_header_signature_matches_botocore():
    cases = [
        ("GET", "/", [], {}, b""),
        ("GET", "/bucket", [("list-type", "2"), ("prefix", "a b/ü"), ("delimiter", "/")], {}, b""),
        ("PUT", "/bucket/key with space+plus%/ключ", [],
         {"Content-Type": "text/plain", "x-amz-meta-color": " blue  sky "}, b"payload"),
    ]
    for method, path, query, headers, body in cases:
        theirs = _botocore_sign(
            method, path, query,
            dict(headers, **{"X-Amz-Content-SHA256": sigv4.sha256_hex(body)}), body)
        ours = sigv4.sign_headers(
            method=method, host="127.0.0.1:9000", path=path, access_key=ACCESS,
            secret_key=SECRET, region="us-east-1", query=query, headers=headers,
            payload_hash=sigv4.sha256_hex(body), now=WHEN)
        assert ours["X-Amz-Date"] == theirs["X-Amz-Date"] == "20240229T235958Z"
        assert ours["Authorization"] == theirs["Authorization"], (method, path)


def test_presigned_url_matches_botocore():
    path = "/bucket/dir/file name+1.txt"
    req = AWSRequest(method="GET", url=ENDPOINT + sigv4.request_target(path), headers={})
    with mock.patch("botocore.auth.datetime.datetime", _FrozenDatetime):
        S3SigV4QueryAuth(Credentials(ACCESS, SECRET), "s3", "us-east-1", expires=3600).add_auth(req)
    ours = sigv4.presign_url(method="GET", endpoint=ENDPOINT, path=path, access_key=ACCESS,
                             secret_key=SECRET, region="us-east-1", expires=3600, now=WHEN)

    def signature(url):
        return dict(q.split("=", 1) for q in url.split("?", 1)[1].split("&"))["X-Amz-Signature"]

    assert signature(ours) == signature(req.url)

