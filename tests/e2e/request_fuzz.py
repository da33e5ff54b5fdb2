"""Random S3 requests against a running server, and what every answer to them must look like.

The requests are correctly signed (SigV4, the root credentials) so that they get past
authentication into the operations, and random everywhere else: method, bucket (existing,
missing, invalid), key (any Unicode), sub-resources and their values, the conditional, range,
copy, checksum, tagging and storage-class headers, and bodies (garbage, broken and
almost-right XML of every request body S3 takes, aws-chunked framing with faults). A few
buckets, objects and a multipart upload are made first so the requests reach real state.

An answer is a finding when:
- the server does not answer within the timeout, or closes the connection without answering;
- it answers 500 (InternalError) or any 5xx but 501 NotImplemented and 503 SlowDown;
- an error (4xx/5xx to a non-HEAD request) is not S3 XML with Code, Message and RequestId, or
  lacks x-amz-request-id;
- it refuses the signature of a request signed correctly (SignatureDoesNotMatch);
- the server process dies.

Used by test_request_fuzz.py (a bounded run with fixed seeds) and as a script for longer
campaigns, against any server (the ASan build, say):

    python3 tests/e2e/request_fuzz.py --endpoint http://127.0.0.1:9000 --seconds 600 --seed 1
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import http.client
import os
import random
import socket
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence, Tuple

import sigv4

REGION = "us-east-1"
TIMEOUT = 20.0  # seconds for one answer; a slower one is a finding (a hang)

# S3 sub-resources and parameters, with a generator of plausible and implausible values.
SUBRESOURCES = [
    "uploads", "tagging", "delete", "location", "versioning", "acl", "restore", "policy",
    "cors", "lifecycle", "versions", "website", "notification", "attributes", "legal-hold",
    "retention", "object-lock", "encryption", "logging", "replication", "torrent", "select",
]
PARAMS = [
    "uploadId", "partNumber", "list-type", "max-keys", "continuation-token", "prefix",
    "delimiter", "marker", "start-after", "encoding-type", "fetch-owner", "max-uploads",
    "key-marker", "upload-id-marker", "max-parts", "part-number-marker", "versionId",
    "response-content-type", "response-content-disposition", "response-cache-control",
    "response-expires", "response-content-encoding", "response-content-language",
    "X-Amz-Expires", "x-id",
]
HEADERS = [
    "Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since",
    "x-amz-copy-source", "x-amz-copy-source-range", "x-amz-copy-source-if-match",
    "x-amz-copy-source-if-none-match", "x-amz-copy-source-if-modified-since",
    "x-amz-copy-source-if-unmodified-since", "x-amz-metadata-directive",
    "x-amz-tagging-directive", "x-amz-tagging", "x-amz-storage-class", "Content-MD5",
    "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1", "x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm",
    "x-amz-checksum-algorithm", "x-amz-checksum-mode", "x-amz-checksum-type", "x-amz-trailer",
    "x-amz-meta-a", "x-amz-meta-Ünï", "Content-Type", "Content-Encoding", "Cache-Control",
    "Content-Disposition", "Expires", "x-amz-acl", "x-amz-bucket-object-lock-enabled",
    "x-amz-expected-bucket-owner", "x-amz-request-payer", "x-amz-mp-parts-count",
    "x-amz-decoded-content-length", "x-amz-object-attributes", "x-amz-max-parts",
    "x-amz-server-side-encryption", "x-amz-website-redirect-location", "x-amz-restore",
]
STORAGE_CLASSES = ["STANDARD", "STANDARD_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE",
                   "REDUCED_REDUNDANCY", "ONEZONE_IA", "INTELLIGENT_TIERING", "EXPRESS_ONEZONE"]
CHECKSUMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "MD5", "crc32", ""]


@dataclasses.dataclass
class Finding:
    kind: str
    request: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.request}\n    {self.detail}"


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: List[Tuple[str, str]]
    headers: Dict[str, str]
    body: bytes
    payload_hash: Optional[str] = None  # None: the SHA-256 of body, or UNSIGNED-PAYLOAD
    auth: str = "sigv4"  # or "mangled" (a broken Authorization), "presigned", "v2", "none"

    def describe(self) -> str:
        body = self.body[:160]
        return (f"{self.method} {self.path!r} auth={self.auth} query={self.query!r} "
                f"headers={self.headers!r} "
                f"body[{len(self.body)}]={body!r}")


class Fuzzer:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, seed: int) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.netloc = urllib.parse.urlsplit(self.endpoint).netloc
        self.access_key = access_key
        self.secret_key = secret_key
        self.rng = random.Random(seed)
        self.seed = seed
        self.buckets: List[str] = []
        self.keys: List[Tuple[str, str]] = []  # (bucket, key) that existed at some point
        self.uploads: List[Tuple[str, str, str]] = []  # (bucket, key, upload id)
        self.etags: List[str] = []
        self.statuses: Dict[int, int] = {}
        self.sent = 0

    # -- set-up ------------------------------------------------------------------------------

    def setup(self) -> None:
        """Two buckets with a few objects and one open multipart upload with a part."""
        for i in range(2):
            name = f"fz{self.seed}-{i}-{os.urandom(4).hex()}"  # unique on a reused server
            self._must(Request("PUT", f"/{name}", [], {}, b""), (200,))
            self.buckets.append(name)
        for i in range(6):
            bucket = self.rng.choice(self.buckets)
            key = self._valid_key()
            body = self.rng.randbytes(self.rng.choice([0, 1, 100, 5000, 70000]))
            resp = self._must(Request("PUT", f"/{bucket}/{key}", [], {}, body), (200,))
            self.keys.append((bucket, key))
            if resp.header("ETag"):
                self.etags.append(resp.header("ETag"))
        bucket = self.buckets[0]
        key = self._valid_key()
        resp = self._must(Request("POST", f"/{bucket}/{key}", [("uploads", "")], {}, b""),
                          (200,))
        upload_id = ET.fromstring(resp.body).findtext(
            "{http://s3.amazonaws.com/doc/2006-03-01/}UploadId") or ""
        self._must(Request("PUT", f"/{bucket}/{key}",
                           [("partNumber", "1"), ("uploadId", upload_id)], {},
                           self.rng.randbytes(1000)), (200,))
        self.uploads.append((bucket, key, upload_id))

    def _must(self, req: Request, statuses: Sequence[int]) -> sigv4.RawResponse:
        resp = self._send(req)
        if resp is None or resp.status not in statuses:
            got = resp.status if resp is not None else "no answer"
            body = resp.body[:300] if resp is not None else b""
            raise AssertionError(f"set-up request failed ({got}): {req.describe()} {body!r}")
        return resp

    # -- random parts ------------------------------------------------------------------------

    def _text(self, max_len: int = 24) -> str:
        alphabets = [
            "abcdefghijklmnopqrstuvwxyz0123456789",
            "abc-_.~/ +%&=?#!*'()[]{}:;,@$\\\"<>|^`",
            "é日本語🙂Ωß\u200b\u00a0",
            "\t\n\r\x01\x7f",
        ]
        weights = [8, 4, 2, 1]
        n = self.rng.choice([0, 1, 2, 5, max_len, self.rng.randrange(max_len + 1)])
        out = []
        for _ in range(n):
            alphabet = self.rng.choices(alphabets, weights)[0]
            out.append(self.rng.choice(alphabet))
        return "".join(out)

    def _key(self) -> str:
        forms = [
            lambda: self._text(),
            lambda: "dir/" + self._text() + "/" + self._text(),
            lambda: "k" * self.rng.choice([1, 255, 1024, 1025]),
            lambda: self.rng.choice([".", "..", "./x", "../x", "a//b", "/", "//", "a/", " "]),
            lambda: "%2F" + self._text(),
        ]
        key = self.rng.choice(forms)()
        return key or "k"

    def _valid_key(self) -> str:
        while True:
            key = self._key()
            if len(key.encode("utf-8")) <= 1024 and key not in (".", "..", "/", "//"):
                return key

    def _header_value(self) -> str:
        # http.client sends header values as Latin-1; keep them printable so the request goes
        # out as generated (a control character would be refused before sending).
        chars = "abcdefghijklmnopqrstuvwxyz0123456789 -_=,;:/\"*+.%()"
        if self.rng.random() < 0.05:
            chars += "\x00\x01\x7f\t\xe9\xff"  # refused by the HTTP parser, or kept
        n = self.rng.choice([0, 1, 8, 40, 300])
        return "".join(self.rng.choice(chars) for _ in range(n))

    def _number(self) -> str:
        return self.rng.choice([
            "0", "1", "2", "-1", "10000", "10001", "1000", "1001", "99999999999999999999",
            "18446744073709551616", "4294967296", "1e3", "0x10", " 5", "5 ", "", "abc", "007",
            str(self.rng.randrange(-5, 20000)),
        ])

    def _date(self) -> str:
        return self.rng.choice([
            "Wed, 21 Oct 2015 07:28:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "2015-10-21T07:28:00Z",
            "Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "yesterday", "",
            "Mon, 32 Jan 2020 25:61:61 GMT", "Mon, 01 Jan 0000 00:00:00 GMT",
        ])

    def _range(self) -> str:
        n = lambda: self.rng.choice(["0", "1", "99", "4999", "5000", "69999", "70000",  # noqa
                                     "18446744073709551615", "99999999999999999999999", "",
                                     "-1", "a"])
        return self.rng.choice([
            f"bytes={n()}-{n()}", f"bytes=-{n()}", f"bytes={n()}-", f"bytes={n()}-{n()},{n()}-",
            "bytes=", "bytes=-", "items=0-1", f"bytes {n()}-{n()}", "bytes=0-0, 1-1", "=",
        ])

    def _etag(self) -> str:
        if self.etags and self.rng.random() < 0.5:
            return self.rng.choice(self.etags)
        return self.rng.choice(["*", '"abc"', "abc", '""', '"' + "0" * 32 + '"', ",", '"x", *'])

    def _copy_source(self) -> str:
        if self.keys and self.rng.random() < 0.6:
            bucket, key = self.rng.choice(self.keys)
            source = urllib.parse.quote(f"{bucket}/{key}", safe="/")
            if self.rng.random() < 0.5:
                source = "/" + source
        else:
            source = self.rng.choice(["", "/", "nobucket", "/b/", "b/k", "%zz", "/a/b?x=y",
                                      urllib.parse.quote(self._text())])
        if self.rng.random() < 0.2:
            source += "?versionId=" + self.rng.choice(["null", "x", ""])
        return source

    def _checksum_value(self) -> str:
        raw = self.rng.randbytes(self.rng.choice([0, 4, 8, 20, 32, 33]))
        value = base64.b64encode(raw).decode()
        return self.rng.choice([value, value[:-1], "!!!", "", "AAAA"])

    def _header(self, name: str) -> str:
        lname = name.lower()
        if lname == "range" or lname == "x-amz-copy-source-range":
            return self._range()
        if "if-match" in lname or "if-none-match" in lname:
            return self._etag()
        if "since" in lname or lname == "expires":
            return self._date()
        if lname == "x-amz-copy-source":
            return self._copy_source()
        if "directive" in lname:
            return self.rng.choice(["COPY", "REPLACE", "copy", "", "MOVE"])
        if lname == "x-amz-storage-class":
            return self.rng.choice(STORAGE_CLASSES + ["", "hot", "cold"])
        if lname == "x-amz-tagging":
            return self.rng.choice(["a=b", "a=b&c=d", "a", "=b", "a=b&a=c", "&&", "%zz=1",
                                    "&".join(f"k{i}=v" for i in range(11)),
                                    "k" * 129 + "=v", "k=" + "v" * 257, ""])
        if lname == "content-md5":
            return self.rng.choice([base64.b64encode(self.rng.randbytes(16)).decode(), "xx", "",
                                    base64.b64encode(self.rng.randbytes(15)).decode()])
        if lname.startswith("x-amz-checksum-") and lname not in (
                "x-amz-checksum-mode", "x-amz-checksum-type", "x-amz-checksum-algorithm"):
            return self._checksum_value()
        if lname in ("x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"):
            return self.rng.choice(CHECKSUMS)
        if lname == "x-amz-checksum-mode":
            return self.rng.choice(["ENABLED", "enabled", "DISABLED", ""])
        if lname == "x-amz-checksum-type":
            return self.rng.choice(["COMPOSITE", "FULL_OBJECT", "x"])
        if lname == "x-amz-trailer":
            return self.rng.choice(["x-amz-checksum-crc32", "x-amz-checksum-sha256", "x", "",
                                    "x-amz-checksum-crc32,x-amz-checksum-crc32c"])
        if lname in ("x-amz-decoded-content-length", "x-amz-mp-parts-count", "x-amz-max-parts"):
            return self._number()
        if lname == "x-amz-acl":
            return self.rng.choice(["private", "public-read", "public-read-write",
                                    "authenticated-read", "bucket-owner-full-control", "x"])
        if lname == "content-encoding":
            return self.rng.choice(["gzip", "aws-chunked", "aws-chunked,gzip", "identity", ""])
        return self._header_value()

    def _param(self, name: str) -> str:
        if name == "uploadId":
            if self.uploads and self.rng.random() < 0.6:
                return self.rng.choice(self.uploads)[2]
            return self.rng.choice(["", "x", "0" * 64, self._text()])
        if name in ("partNumber", "max-keys", "max-uploads", "max-parts", "part-number-marker",
                    "list-type", "X-Amz-Expires"):
            return self._number()
        if name == "encoding-type":
            return self.rng.choice(["url", "URL", "", "base64"])
        if name == "fetch-owner":
            return self.rng.choice(["true", "false", "", "1"])
        if name == "continuation-token":
            return self.rng.choice([base64.b64encode(self.rng.randbytes(12)).decode(), "",
                                    "!!", self._text()])
        return self._text()

    def _xml_body(self) -> bytes:
        ns = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' if self.rng.random() < 0.5 else ""
        part = lambda: (  # noqa: E731
            f"<Part><PartNumber>{self._number()}</PartNumber>"
            f"<ETag>{self._etag()}</ETag></Part>")
        obj = lambda: f"<Object><Key>{self._xml_text()}</Key></Object>"  # noqa: E731
        tag = lambda: (  # noqa: E731
            f"<Tag><Key>{self._xml_text()}</Key><Value>{self._xml_text()}</Value></Tag>")
        docs = [
            lambda: (f"<Delete{ns}><Quiet>{self.rng.choice(['true', 'false', 'x'])}</Quiet>"
                     + "".join(obj() for _ in range(self.rng.choice([0, 1, 3, 1001])))
                     + "</Delete>"),
            lambda: (f"<CompleteMultipartUpload{ns}>"
                     + "".join(part() for _ in range(self.rng.choice([0, 1, 2, 5])))
                     + "</CompleteMultipartUpload>"),
            lambda: (f"<Tagging{ns}><TagSet>"
                     + "".join(tag() for _ in range(self.rng.choice([0, 1, 2, 11])))
                     + "</TagSet></Tagging>"),
            lambda: (f"<RestoreRequest{ns}><Days>{self._number()}</Days>"
                     f"<GlacierJobParameters><Tier>{self.rng.choice(['Standard', 'Bulk', 'x'])}"
                     "</Tier></GlacierJobParameters></RestoreRequest>"),
            lambda: (f"<CreateBucketConfiguration{ns}><LocationConstraint>"
                     f"{self.rng.choice(['us-east-1', 'eu-west-1', '', 'x'])}"
                     "</LocationConstraint></CreateBucketConfiguration>"),
            lambda: f"<VersioningConfiguration{ns}><Status>Enabled</Status>"
                    "</VersioningConfiguration>",
            lambda: "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><Delete>&a;</Delete>",
            lambda: "<Delete><Object><Key>" + "a" * 2000,
            lambda: "<" * 500,
            lambda: "",
        ]
        doc = self.rng.choice(docs)()
        data = doc.encode("utf-8", "surrogatepass")
        if data and self.rng.random() < 0.15:
            cut = self.rng.randrange(len(data))
            data = data[:cut]
        return data

    def _xml_text(self) -> str:
        text = self._text()
        if self.rng.random() < 0.7:
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text

    def _chunked(self, payload: bytes) -> Tuple[bytes, Dict[str, str]]:
        """An aws-chunked body (unsigned chunks, a checksum trailer), often broken."""
        chunks = []
        rest = payload
        while rest:
            size = self.rng.choice([1, 8192, 65536, len(rest)])
            chunks.append(rest[:size])
            rest = rest[size:]
        out = b""
        for c in chunks:
            out += f"{len(c):x}\r\n".encode() + c + b"\r\n"
        out += b"0\r\n"
        crc = self._checksum_value()
        out += f"x-amz-checksum-crc32:{crc}\r\n\r\n".encode()
        mutation = self.rng.choice(["none", "none", "cut", "flip", "size", "insert"])
        if mutation == "cut" and out:
            out = out[:self.rng.randrange(len(out))]
        elif mutation == "flip" and out:
            i = self.rng.randrange(len(out))
            out = out[:i] + bytes([out[i] ^ 0xFF]) + out[i + 1:]
        elif mutation == "size":
            out = self.rng.choice([b"ffffffffffffffffff\r\n", b"-1\r\n", b"zz\r\n",
                                   b"10;chunk-signature=\r\n"]) + out
        elif mutation == "insert":
            i = self.rng.randrange(len(out) + 1)
            out = out[:i] + self.rng.randbytes(self.rng.randrange(1, 9)) + out[i:]
        headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": self.rng.choice(
                [str(len(payload)), str(len(payload) + 1), self._number()]),
            "x-amz-trailer": self.rng.choice(["x-amz-checksum-crc32", "x-amz-checksum-crc32c",
                                              ""]),
        }
        return out, headers

    def _operation(self) -> Request:
        """A request shaped like one S3 operation (right method and sub-resources) on existing
        state, with its parameters, headers and body drawn at random."""
        rng = self.rng
        bucket, key = rng.choice(self.keys) if self.keys else (self.buckets[0], "k")
        upload = rng.choice(self.uploads) if self.uploads else (bucket, key, "x")
        obj = f"/{bucket}/{key}"
        ops = [
            ("GET", obj, [], ["Range", "If-Match", "If-None-Match", "If-Modified-Since",
                              "If-Unmodified-Since", "x-amz-checksum-mode"]),
            ("HEAD", obj, [], ["Range", "If-Match", "If-None-Match", "x-amz-checksum-mode"]),
            ("GET", obj, [("partNumber", self._number())], ["Range"]),
            ("PUT", obj, [], ["Content-MD5", "x-amz-checksum-crc32", "x-amz-checksum-sha256",
                              "x-amz-sdk-checksum-algorithm", "If-None-Match", "If-Match",
                              "x-amz-tagging", "x-amz-storage-class", "x-amz-meta-a",
                              "Content-Type"]),
            ("PUT", obj, [], ["x-amz-copy-source", "x-amz-metadata-directive",
                              "x-amz-tagging-directive", "x-amz-copy-source-if-match",
                              "x-amz-copy-source-if-none-match",
                              "x-amz-copy-source-if-modified-since", "x-amz-storage-class"]),
            ("DELETE", obj, [], ["If-Match"]),
            ("GET", f"/{bucket}", [("list-type", "2"), ("prefix", ""), ("delimiter", ""),
                                   ("max-keys", ""), ("continuation-token", ""),
                                   ("start-after", ""), ("encoding-type", ""),
                                   ("fetch-owner", "")], []),
            ("GET", f"/{bucket}", [("marker", ""), ("prefix", ""), ("delimiter", ""),
                                   ("max-keys", ""), ("encoding-type", "")], []),
            ("POST", f"/{bucket}", [("delete", "")], ["Content-MD5"]),
            ("POST", obj, [("uploads", "")], ["x-amz-checksum-algorithm", "x-amz-tagging"]),
            ("PUT", f"/{upload[0]}/{upload[1]}", [("partNumber", ""), ("uploadId", "")],
             ["Content-MD5", "x-amz-checksum-crc32c"]),
            ("PUT", f"/{upload[0]}/{upload[1]}", [("partNumber", ""), ("uploadId", "")],
             ["x-amz-copy-source", "x-amz-copy-source-range"]),
            ("POST", f"/{upload[0]}/{upload[1]}", [("uploadId", "")], ["If-None-Match"]),
            ("GET", f"/{upload[0]}/{upload[1]}", [("uploadId", ""), ("max-parts", ""),
                                                  ("part-number-marker", "")], []),
            ("DELETE", f"/{upload[0]}/{upload[1]}", [("uploadId", "")], []),
            ("GET", f"/{bucket}", [("uploads", ""), ("prefix", ""), ("key-marker", ""),
                                   ("upload-id-marker", ""), ("max-uploads", "")], []),
            ("PUT", obj, [("tagging", "")], []),
            ("GET", obj, [("tagging", "")], []),
            ("DELETE", obj, [("tagging", "")], []),
            ("POST", obj, [("restore", "")], []),
            ("GET", obj, [("response-content-type", ""), ("response-content-disposition", ""),
                          ("response-expires", "")], []),
            ("GET", f"/{bucket}", [("location", "")], []),
            ("GET", f"/{bucket}", [("versioning", "")], []),
            ("PUT", f"/{bucket}", [], ["x-amz-acl"]),
            ("DELETE", f"/{bucket}", [], []),
            ("HEAD", f"/{bucket}", [], []),
        ]
        method, path, params, header_names = rng.choice(ops)
        query = []
        for name, value in params:
            if rng.random() < 0.25 and name not in ("list-type", "delete", "uploads", "tagging",
                                                    "restore", "location", "versioning"):
                continue  # left out
            if value == "" and name not in ("delete", "uploads", "tagging", "restore", "location",
                                            "versioning"):
                value = self._param(name)
            query.append((name, value))
        headers = {n: self._header(n) for n in header_names if rng.random() < 0.4}
        body = b""
        payload_hash = None
        if method in ("PUT", "POST"):
            if "delete" in dict(query) or "uploadId" in dict(query) and method == "POST" or (
                    "tagging" in dict(query) or "restore" in dict(query)):
                body = self._xml_body()
            elif rng.random() < 0.3:
                body, extra = self._chunked(rng.randbytes(rng.choice([0, 10, 9000])))
                headers.update(extra)
                payload_hash = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
            elif "x-amz-copy-source" not in headers:
                body = rng.randbytes(rng.choice([0, 1, 100, 5000]))
        return Request(method, path, query, headers, body, payload_hash)

    def _request(self) -> Request:
        rng = self.rng
        req = self._operation() if rng.random() < 0.6 else self._random_request()
        r = rng.random()
        if r < 0.04:
            req.auth = "mangled"
        elif r < 0.07:
            req.auth = "presigned"
        elif r < 0.09:
            req.auth = "v2"
        elif r < 0.1:
            req.auth = "none"
        return req

    def _random_request(self) -> Request:
        rng = self.rng
        method = rng.choices(["GET", "PUT", "POST", "DELETE", "HEAD"], [4, 4, 2, 2, 2])[0]
        r = rng.random()
        if r < 0.05:
            path = "/"
        elif r < 0.12:
            path = "/" + rng.choice(["a", "AB", "x" * 64, "-b", "b..c", "192.168.0.1",
                                     "nosuchbucket-" + str(rng.randrange(100)), self._text()])
        elif r < 0.2 and self.buckets:
            path = "/" + rng.choice(self.buckets) + rng.choice(["", "/"])
        elif r < 0.55 and self.keys:
            bucket, key = rng.choice(self.keys)
            path = f"/{bucket}/{key}"
        elif r < 0.65 and self.uploads:
            bucket, key, _ = rng.choice(self.uploads)
            path = f"/{bucket}/{key}"
        else:
            bucket = rng.choice(self.buckets) if self.buckets else "b"
            path = f"/{bucket}/{self._key()}"

        query: List[Tuple[str, str]] = []
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5])):
            if rng.random() < 0.2:
                query.append((rng.choice(SUBRESOURCES), rng.choice(["", "", "x", "1"])))
            else:
                name = rng.choice(PARAMS)
                query.append((name, self._param(name)))
        if rng.random() < 0.03:
            query.append((self._text(8) or "q", self._text()))

        headers: Dict[str, str] = {}
        for _ in range(rng.choice([0, 1, 1, 2, 3, 6])):
            name = rng.choice(HEADERS)
            if name == "x-amz-meta-Ünï":
                name = "x-amz-meta-" + rng.choice(["ok", "a_b", "UPPER", "x" * 300])
            headers[name] = self._header(name)

        body = b""
        payload_hash = None
        if method in ("PUT", "POST"):
            kind = rng.choice(["empty", "bytes", "xml", "xml", "chunked"])
            if kind == "bytes":
                body = rng.randbytes(rng.choice([1, 100, 5000, 70000]))
            elif kind == "xml":
                body = self._xml_body()
            elif kind == "chunked":
                body, extra = self._chunked(rng.randbytes(rng.choice([0, 10, 9000])))
                headers.update(extra)
                payload_hash = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        if payload_hash is None and rng.random() < 0.3:
            payload_hash = sigv4.UNSIGNED_PAYLOAD
        return Request(method, path, query, headers, body, payload_hash)

    # -- sending and judging -----------------------------------------------------------------

    def _mangle(self, authorization: str) -> str:
        rng = self.rng
        forms = [
            lambda a: a[:rng.randrange(len(a))],
            lambda a: a.replace("Credential=", rng.choice(["Credential =", "credential=", ""])),
            lambda a: a.replace(self.access_key, rng.choice(["", "AKIA", self.access_key + "/x"])),
            lambda a: a.replace("/us-east-1/", rng.choice(["/", "//", "/eu-west-1/", "/\u00e9/"])),
            lambda a: a.replace("/s3/", rng.choice(["/iam/", "/", "/s3/x/"])),
            lambda a: a.replace("aws4_request", rng.choice(["", "aws4_requestx"])),
            lambda a: a.replace("SignedHeaders=", rng.choice(["SignedHeaders=;", "SignedHeaders=,",
                                                              "SignedHeaders=zzz;"])),
            lambda a: a.replace("Signature=", rng.choice(["Signature=0", "Signature=", "Sig="])),
            lambda a: a.replace(", ", rng.choice([",", ",,", " , ", ";"])),
            lambda a: rng.choice(["AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ", "AWS x:y", "AWS :",
                                  "AWS " + self.access_key + ":" + "A" * 28, "Bearer x", ""]),
            lambda a: a.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
        ]
        return rng.choice(forms)(authorization)

    def _presigned_query(self, req: Request) -> List[Tuple[str, str]]:
        rng = self.rng
        url = sigv4.presign_url(
            method=req.method, endpoint=self.endpoint, path=req.path,
            access_key=self.access_key, secret_key=self.secret_key, region=REGION,
            expires=rng.choice([1, 60, 604800, 604801]))
        query = urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)
        if rng.random() < 0.7:  # break one of them
            i = rng.randrange(len(query))
            name, value = query[i]
            query[i] = (name, rng.choice(["", value[:-1], value + "0", "-1", "99999999999",
                                          "20991231T000000Z", "x/y/z", value.upper()]))
        if rng.random() < 0.2:
            query.append(rng.choice([("X-Amz-Security-Token", "x"), ("X-Amz-Expires", "5"),
                                     ("X-Amz-Algorithm", "AWS4-HMAC-SHA256")]))
        return query + req.query

    def _send(self, req: Request) -> Optional[sigv4.RawResponse]:
        payload_hash = req.payload_hash or sigv4.sha256_hex(req.body)
        query = req.query
        if req.auth in ("sigv4", "mangled"):
            signed = sigv4.sign_headers(
                method=req.method, host=self.netloc, path=req.path, access_key=self.access_key,
                secret_key=self.secret_key, region=REGION, query=req.query, headers=req.headers,
                payload_hash=payload_hash)
            if req.auth == "mangled":
                signed["Authorization"] = self._mangle(signed["Authorization"])
        else:
            signed = {"Host": self.netloc, **req.headers}
            if req.auth == "presigned":
                query = self._presigned_query(req)
            elif req.auth == "v2":
                signed["Date"] = self._date()
                signed["Authorization"] = self._mangle("AWS " + self.access_key + ":" + "A" * 28)
        if "Content-Length" not in signed and req.method in ("PUT", "POST"):
            signed["Content-Length"] = str(len(req.body))
        target = sigv4.request_target(req.path, query)
        host, _, port = self.netloc.rpartition(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
        try:
            conn.putrequest(req.method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in signed.items():
                conn.putheader(name, value.encode("latin-1", "replace"))
            conn.endheaders(req.body if req.body else None)
            resp = conn.getresponse()
            data = resp.read()
            self.sent += 1
            return sigv4.RawResponse(resp.status, resp.reason, resp.headers, data)
        except (socket.timeout, TimeoutError):
            return None
        except (ConnectionError, http.client.HTTPException, OSError):
            self.sent += 1
            return sigv4.RawResponse(0, "connection closed", http.client.HTTPMessage(), b"")
        finally:
            conn.close()

    def judge(self, req: Request, resp: Optional[sigv4.RawResponse]) -> Optional[Finding]:
        what = req.describe()
        if resp is None:
            return Finding("no answer within %.0fs" % TIMEOUT, what, "")
        self.statuses[resp.status] = self.statuses.get(resp.status, 0) + 1
        if resp.status == 0:
            # A server may close after answering an error to a request whose body it will not
            # read; closing without any answer is a finding.
            return Finding("connection closed without an answer", what, "")
        if resp.status >= 500 and resp.status not in (501, 503):
            return Finding(f"{resp.status} server error", what, resp.body[:400].decode(
                "utf-8", "replace"))
        if not resp.header("x-amz-request-id"):
            return Finding("no x-amz-request-id", what, str(resp.status))
        if resp.status >= 400 and req.method != "HEAD":
            try:
                err = sigv4.parse_error(resp.body)
            except (AssertionError, ET.ParseError) as e:
                return Finding(f"{resp.status} without an S3 XML error", what, str(e)[:400])
            missing = [f for f in ("Code", "Message", "RequestId") if not err.get(f)]
            if missing:
                return Finding(f"{resp.status} error lacks {missing}", what, str(err))
            # A header byte over 0x7f is signed as UTF-8 here but sent as Latin-1: a mismatch
            # then is the request's fault.
            latin1 = any(ord(c) > 0x7f for v in req.headers.values() for c in v)
            if err["Code"] == "InternalError" or (err["Code"] == "SignatureDoesNotMatch"
                                                  and req.auth == "sigv4" and not latin1):
                return Finding(f"{resp.status} {err['Code']}", what, str(err)[:400])
        return None

    def step(self) -> Optional[Finding]:
        req = self._request()
        resp = self._send(req)
        finding = self.judge(req, resp)
        # Remember what came to exist, so later requests reach it.
        if (resp is not None and resp.status == 200 and req.method == "PUT" and not req.query
                and req.path.count("/") >= 2):
            bucket, _, key = req.path[1:].partition("/")
            if key and (bucket, key) not in self.keys and len(self.keys) < 200:
                self.keys.append((bucket, key))
            if resp.header("ETag") and len(self.etags) < 200:
                self.etags.append(resp.header("ETag"))
        return finding


def run(endpoint: str, access_key: str, secret_key: str, seed: int, count: int = 0,
        seconds: float = 0, alive=lambda: True, max_findings: int = 50) -> Tuple[Fuzzer, List[Finding]]:
    """Sends `count` random requests (or for `seconds`); returns the fuzzer and its findings.
    Stops early once the server is no longer `alive()`."""
    fuzzer = Fuzzer(endpoint, access_key, secret_key, seed)
    fuzzer.setup()
    findings: List[Finding] = []
    deadline = time.monotonic() + seconds if seconds else None
    i = 0
    while (count and i < count) or (deadline and time.monotonic() < deadline):
        i += 1
        finding = fuzzer.step()
        if finding:
            findings.append(finding)
            if len(findings) >= max_findings:
                break
        if i % 100 == 0 and not alive():
            findings.append(Finding("server died", f"after {i} requests", ""))
            break
    return fuzzer, findings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--access-key", default="VAULTAIREE2EROOT0001")
    ap.add_argument("--secret-key", default="e2eRootSecret/0123456789+abcdefghijklmno")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--threads", type=int, default=1,
                    help="fuzzers at once (seeds SEED, SEED+1, ...), on the same buckets' server")
    args = ap.parse_args()
    results = [None] * args.threads

    def one(i: int) -> None:
        results[i] = run(args.endpoint, args.access_key, args.secret_key, args.seed + i,
                         count=args.count, seconds=0 if args.count else args.seconds,
                         max_findings=1000)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = 0
    statuses: Dict[int, int] = {}
    findings = []
    for fuzzer, found in results:
        sent += fuzzer.sent
        for status, n in fuzzer.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
        findings += found
    for f in findings:
        print(f)
    print(f"{sent} requests, statuses {dict(sorted(statuses.items()))}, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
