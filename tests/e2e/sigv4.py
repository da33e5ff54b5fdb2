"""AWS Signature Version 4 for S3, and raw HTTP requests, with the standard library only.

boto3 always signs correctly and with the current time; the tests that need a request boto3
will not send (a skewed clock, a payload hash of other bytes, an expired presigned URL, an
unsigned request, a look at the raw XML error body) build it here and send it with http.client.
test_sigv4_helper.py checks these signatures against botocore's, so a failure elsewhere is the
server's and not this module's.

Paths are given decoded ("/bucket/key with space"); this module percent-encodes them once, as
S3 expects (S3 does not double-encode the canonical URI, unlike the other AWS services).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import http.client
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Mapping, Optional, Sequence, Tuple

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
SERVICE = "s3"

Query = Sequence[Tuple[str, str]]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def uri_encode(value: str, *, keep_slash: bool) -> str:
    """RFC 3986 percent-encoding of UTF-8, leaving only unreserved characters (and '/'). Lone
    surrogates stand for raw bytes (Python's surrogateescape): "\\udcff" is sent as %FF."""
    safe = "-_.~/" if keep_slash else "-_.~"
    return urllib.parse.quote(value.encode("utf-8", "surrogateescape"), safe=safe)


def canonical_query(query: Query) -> str:
    pairs = sorted(
        (uri_encode(k, keep_slash=False), uri_encode(v, keep_slash=False)) for k, v in query
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def request_target(path: str, query: Query = ()) -> str:
    """The request line's target: the encoded path and, if any, the canonical query string."""
    target = uri_encode(path, keep_slash=True)
    if query:
        target += "?" + canonical_query(query)
    return target


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date_stamp: str, region: str) -> bytes:
    k_date = _hmac(("AWS4" + secret_key).encode("utf-8"), date_stamp)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, SERVICE)
    return _hmac(k_service, "aws4_request")


def _amz_date(now: Optional[datetime.datetime]) -> str:
    now = now or utc_now()
    if now.tzinfo is not None:
        now = now.astimezone(datetime.timezone.utc)
    return now.strftime(AMZ_DATE_FORMAT)


def _canonical_headers(headers: Mapping[str, str]) -> Tuple[str, str]:
    lowered = {}
    for name, value in headers.items():
        lowered[name.strip().lower()] = " ".join(str(value).strip().split())
    names = sorted(lowered)
    canonical = "".join(f"{n}:{lowered[n]}\n" for n in names)
    return canonical, ";".join(names)


def _signature(
    *,
    method: str,
    path: str,
    query: Query,
    headers: Mapping[str, str],
    payload_hash: str,
    amz_date: str,
    secret_key: str,
    region: str,
) -> Tuple[str, str, str]:
    """Returns (signature, signed header names, credential scope)."""
    canonical_headers, signed_headers = _canonical_headers(headers)
    canonical_request = "\n".join(
        [
            method,
            uri_encode(path, keep_slash=True),
            canonical_query(query),
            canonical_headers,
            signed_headers,
            payload_hash,
        ]
    )
    date_stamp = amz_date[:8]
    scope = f"{date_stamp}/{region}/{SERVICE}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, sha256_hex(canonical_request.encode("utf-8"))]
    )
    key = signing_key(secret_key, date_stamp, region)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return signature, signed_headers, scope


def sign_headers(
    *,
    method: str,
    host: str,
    path: str,
    access_key: str,
    secret_key: str,
    region: str,
    query: Query = (),
    headers: Optional[Mapping[str, str]] = None,
    payload_hash: str,
    now: Optional[datetime.datetime] = None,
) -> dict:
    """Headers for a SigV4 header-signed request: the given ones plus Host, X-Amz-Date,
    X-Amz-Content-SHA256 and Authorization. Every given header is signed."""
    amz_date = _amz_date(now)
    out = {"Host": host, "X-Amz-Date": amz_date, "X-Amz-Content-SHA256": payload_hash}
    out.update(headers or {})
    signature, signed_headers, scope = _signature(
        method=method,
        path=path,
        query=query,
        headers=out,
        payload_hash=payload_hash,
        amz_date=amz_date,
        secret_key=secret_key,
        region=region,
    )
    out["Authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return out


def presign_url(
    *,
    method: str,
    endpoint: str,
    path: str,
    access_key: str,
    secret_key: str,
    region: str,
    expires: int,
    now: Optional[datetime.datetime] = None,
) -> str:
    """A presigned URL (query-string SigV4, only Host signed, UNSIGNED-PAYLOAD)."""
    host = urllib.parse.urlsplit(endpoint).netloc
    amz_date = _amz_date(now)
    scope = f"{amz_date[:8]}/{region}/{SERVICE}/aws4_request"
    query = [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{access_key}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    signature, _, _ = _signature(
        method=method,
        path=path,
        query=query,
        headers={"host": host},
        payload_hash=UNSIGNED_PAYLOAD,
        amz_date=amz_date,
        secret_key=secret_key,
        region=region,
    )
    query.append(("X-Amz-Signature", signature))
    return endpoint.rstrip("/") + request_target(path, query)


@dataclasses.dataclass
class RawResponse:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name)

    def error(self) -> dict:
        """The S3 XML error body as {child tag: text}; fails unless the root is <Error>."""
        return parse_error(self.body)


def parse_error(body: bytes) -> dict:
    root = ET.fromstring(body)
    tag = root.tag.split("}", 1)[-1]  # tolerate a namespace, although S3 sends none
    if tag != "Error":
        raise AssertionError(f"root element is <{root.tag}>, not <Error>: {body[:500]!r}")
    return {child.tag.split("}", 1)[-1]: (child.text or "") for child in root}


def send(
    netloc: str,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    timeout: float = 30.0,
) -> RawResponse:
    """Sends to netloc ("127.0.0.1:PORT") exactly the given headers (no Host, Accept-Encoding
    or Content-Type added, but a Content-Length whenever there is a body or the method is
    PUT/POST) and reads the whole response."""
    host, _, port = netloc.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        names = {k.lower() for k in headers}
        for name, value in headers.items():
            conn.putheader(name, value)
        if "content-length" not in names and (body or method in ("PUT", "POST")):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, resp.reason, resp.headers, data)
    finally:
        conn.close()


def fetch_url(
    url: str,
    method: str = "GET",
    body: bytes = b"",
    headers: Optional[Mapping[str, str]] = None,
    timeout: float = 30.0,
) -> RawResponse:
    """A plain HTTP request to a full URL (a presigned one, say), with a Host header."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    all_headers = {"Host": parts.netloc}
    all_headers.update(headers or {})
    return send(parts.netloc, method, target, all_headers, body, timeout)


def signed_request(
    endpoint: str,
    method: str,
    path: str,
    *,
    access_key: str,
    secret_key: str,
    region: str,
    query: Query = (),
    headers: Optional[Mapping[str, str]] = None,
    body: bytes = b"",
    payload_hash: Optional[str] = None,
    now: Optional[datetime.datetime] = None,
    timeout: float = 30.0,
) -> RawResponse:
    """A SigV4 header-signed request. payload_hash defaults to the SHA-256 of body; pass
    another to sign a request whose declared hash does not match what is sent."""
    host = urllib.parse.urlsplit(endpoint).netloc
    signed = sign_headers(
        method=method,
        host=host,
        path=path,
        access_key=access_key,
        secret_key=secret_key,
        region=region,
        query=query,
        headers=headers,
        payload_hash=payload_hash if payload_hash is not None else sha256_hex(body),
        now=now,
    )
    return send(host, method, request_target(path, query), signed, body, timeout)


def unsigned_request(
    endpoint: str,
    method: str,
    path: str,
    *,
    query: Query = (),
    headers: Optional[Mapping[str, str]] = None,
    body: bytes = b"",
    timeout: float = 30.0,
) -> RawResponse:
    """An anonymous request: no Authorization header, no presigned query."""
    host = urllib.parse.urlsplit(endpoint).netloc
    all_headers = {"Host": host}
    all_headers.update(headers or {})
    return send(host, method, request_target(path, query), all_headers, body, timeout)
