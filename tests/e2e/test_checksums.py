"""Flexible checksums and aws-chunked bodies: what boto3 sends with ChecksumAlgorithm, what
HEAD/GET answer with x-amz-checksum-mode: ENABLED, CRC64NVME (which botocore 1.29 does not
know) through raw requests, BadDigest on a mismatch, and aws-chunked uploads built by hand:
signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), signed chunks with a signed trailer, and
unsigned chunks with a trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import zlib
from typing import List, Optional, Tuple

import pytest
from botocore.exceptions import ClientError

import checksums
import sigv4
from checksums import checksum_b64
from harness import REGION, quoted_etag

BOTO_ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256"]
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def s3_error(call) -> Tuple[str, int]:
    with pytest.raises(ClientError) as e:
        call()
    resp = e.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def headers_of(resp) -> dict:
    return resp["ResponseMetadata"]["HTTPHeaders"]


def checksum_headers(headers) -> dict:
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-amz-checksum-")}


def assert_absent(s3, bucket: str, key: str) -> None:
    assert s3_error(lambda: s3.head_object(Bucket=bucket, Key=key)) == ("404", 404)


def assert_xml_error(resp: sigv4.RawResponse, status: int, code: str) -> None:
    assert resp.status == status, (resp.status, resp.body[:500])
    assert resp.error()["Code"] == code, resp.body[:500]


# -- the helpers themselves -----------------------------------------------------------------


def test_crc_helpers_match_their_check_values():
    # The standard check input of the CRC catalogue.
    assert zlib.crc32(b"123456789") == 0xCBF43926
    assert checksums.crc32c(b"123456789") == 0xE3069283
    assert checksums.crc64nvme(b"123456789") == 0xAE8B14860A799888
    # And against the CRT's CRC32C, which botocore uses.
    from awscrt import checksums as crt
    data = os.urandom(10000)
    assert checksums.crc32c(data) == crt.crc32c(data)


# -- single PUTs ----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", BOTO_ALGORITHMS)
def test_put_with_checksum_algorithm_stores_and_returns_the_checksum(s3, bucket, algorithm):
    field = f"Checksum{algorithm}"
    body = os.urandom(300 * 1024 + 7)
    expected = checksum_b64(algorithm, body)
    put = s3.put_object(Bucket=bucket, Key="summed", Body=body, ChecksumAlgorithm=algorithm)
    assert put["ETag"] == quoted_etag(body)
    assert put[field] == expected

    head = s3.head_object(Bucket=bucket, Key="summed", ChecksumMode="ENABLED")
    assert head[field] == expected
    assert head["ContentLength"] == len(body)
    # botocore also checks a whole-object GET's body against the header it gets.
    got = s3.get_object(Bucket=bucket, Key="summed", ChecksumMode="ENABLED")
    assert got[field] == expected
    assert got["Body"].read() == body

    # Without the checksum mode, no checksum is returned.
    plain = s3.head_object(Bucket=bucket, Key="summed")
    assert checksum_headers(headers_of(plain)) == {}


def test_checksum_type_of_a_single_put_is_full_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="typed", Body=b"abc", ChecksumAlgorithm="SHA256")
    head = s3.head_object(Bucket=bucket, Key="typed", ChecksumMode="ENABLED")
    assert headers_of(head)["x-amz-checksum-type"] == "FULL_OBJECT"


def test_crc64nvme_by_raw_requests(server, s3, bucket):
    body = os.urandom(200 * 1024 + 3)
    value = checksum_b64("CRC64NVME", body)
    resp = server.signed("PUT", f"/{bucket}/nvme", body=body,
                         headers={"x-amz-checksum-crc64nvme": value})
    assert resp.status == 200, resp.body
    assert resp.header("ETag") == quoted_etag(body)
    assert resp.header("x-amz-checksum-crc64nvme") == value

    head = server.signed("HEAD", f"/{bucket}/nvme", headers={"x-amz-checksum-mode": "ENABLED"})
    assert head.status == 200
    assert head.header("x-amz-checksum-crc64nvme") == value
    got = server.signed("GET", f"/{bucket}/nvme", headers={"x-amz-checksum-mode": "ENABLED"})
    assert got.status == 200
    assert got.body == body
    assert got.header("x-amz-checksum-crc64nvme") == value


def test_wrong_crc64nvme_is_bad_digest(server, s3, bucket):
    body = b"crc64 body"
    resp = server.signed("PUT", f"/{bucket}/nvme-bad", body=body,
                         headers={"x-amz-checksum-crc64nvme": checksum_b64("CRC64NVME", b"x")})
    assert_xml_error(resp, 400, "BadDigest")
    assert_absent(s3, bucket, "nvme-bad")


def test_wrong_crc32_is_bad_digest_and_nothing_is_stored(s3, bucket):
    call = lambda: s3.put_object(Bucket=bucket, Key="bad-crc", Body=b"the real body",
                                 ChecksumCRC32=checksum_b64("CRC32", b"another body"))
    assert s3_error(call) == ("BadDigest", 400)
    assert_absent(s3, bucket, "bad-crc")


def test_wrong_checksum_on_overwrite_keeps_the_old_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"version 1")
    call = lambda: s3.put_object(Bucket=bucket, Key="keep", Body=b"version 2",
                                 ChecksumSHA256=checksum_b64("SHA256", b"version 3"))
    assert s3_error(call) == ("BadDigest", 400)
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"version 1"


def test_a_checksum_value_that_is_not_base64_of_the_right_size_is_invalid_request(
        server, s3, bucket):
    for value in ("not base64!", checksum_b64("SHA256", b"x")):  # the second is 32 bytes
        resp = server.signed("PUT", f"/{bucket}/malformed", body=b"x",
                             headers={"x-amz-checksum-crc32": value})
        assert_xml_error(resp, 400, "InvalidRequest")
    assert_absent(s3, bucket, "malformed")


def test_two_checksum_headers_are_invalid_request(server, s3, bucket):
    body = b"twice"
    resp = server.signed("PUT", f"/{bucket}/two", body=body, headers={
        "x-amz-checksum-crc32": checksum_b64("CRC32", body),
        "x-amz-checksum-sha256": checksum_b64("SHA256", body)})
    assert_xml_error(resp, 400, "InvalidRequest")
    assert_absent(s3, bucket, "two")


def test_ranged_get_returns_no_checksum(s3, bucket):
    body = os.urandom(100000)
    s3.put_object(Bucket=bucket, Key="ranged", Body=body, ChecksumAlgorithm="CRC32")
    got = s3.get_object(Bucket=bucket, Key="ranged", Range="bytes=10-99", ChecksumMode="ENABLED")
    assert got["Body"].read() == body[10:100]
    assert checksum_headers(headers_of(got)) == {}
    # ...while the whole object does.
    whole = s3.get_object(Bucket=bucket, Key="ranged", ChecksumMode="ENABLED")
    assert whole["ChecksumCRC32"] == checksum_b64("CRC32", body)


def test_copy_keeps_the_checksum(s3, bucket):
    body = os.urandom(5000)
    s3.put_object(Bucket=bucket, Key="src", Body=body, ChecksumAlgorithm="SHA256")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    head = s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == checksum_b64("SHA256", body)


# -- aws-chunked, built by hand -------------------------------------------------------------


class ChunkedUpload:
    """A SigV4 aws-chunked PUT (AWS "sigv4-streaming" and "sigv4-streaming-trailers" pages):
    the seed request is signed with the streaming payload hash, then every chunk carries a
    signature chained from the previous one."""

    def __init__(self, server, path: str, content_sha256: str,
                 trailer: Optional[str] = None, extra_headers: Optional[dict] = None) -> None:
        self.server = server
        self.path = path
        self.content_sha256 = content_sha256
        self.trailer = trailer
        self.extra_headers = extra_headers or {}
        self.signed = content_sha256.startswith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")

    def _seed(self, encoded_length: int, decoded_length: int) -> dict:
        headers = {"Content-Encoding": "aws-chunked",
                   "Content-Length": str(encoded_length),
                   "x-amz-decoded-content-length": str(decoded_length)}
        if self.trailer:
            headers["x-amz-trailer"] = self.trailer
        headers.update(self.extra_headers)
        return sigv4.sign_headers(
            method="PUT", host=self.server.host, path=self.path,
            access_key=self.server.access_key, secret_key=self.server.secret_key,
            region=REGION, headers=headers, payload_hash=self.content_sha256)

    def _chunk_signature(self, key: bytes, amz_date: str, scope: str, previous: str,
                         chunk: bytes) -> str:
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous,
                             EMPTY_SHA256, hashlib.sha256(chunk).hexdigest()])
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()

    def encode(self, chunks: List[bytes], trailer_value: Optional[str] = None,
               tamper=None) -> Tuple[dict, bytes]:
        """(headers, body). `tamper(index, chunk) -> chunk` changes a chunk after signing."""
        decoded_length = sum(len(c) for c in chunks)
        # Every signature has 64 characters, so a dry run with placeholders gives the length.
        length = len(self._body(chunks, None, None, trailer_value, tamper, dry=True))
        headers = self._seed(length, decoded_length)
        auth = headers["Authorization"]
        seed = re.search(r"Signature=([0-9a-f]{64})", auth).group(1)
        scope = re.search(r"Credential=[^/]+/([^,]+),", auth).group(1)
        amz_date = headers["X-Amz-Date"]
        key = sigv4.signing_key(self.server.secret_key, amz_date[:8], REGION)
        body = self._body(chunks, (key, amz_date, scope), seed, trailer_value, tamper)
        assert len(body) == length
        return headers, body

    def _body(self, chunks, signing, seed, trailer_value, tamper, dry=False) -> bytes:
        out = bytearray()
        previous = seed
        sig_placeholder = "0" * 64
        for index, chunk in enumerate(list(chunks) + [b""]):
            if self.signed:
                if dry:
                    sig = sig_placeholder
                else:
                    sig = self._chunk_signature(*signing, previous, chunk)
                    previous = sig
                out += f"{len(chunk):x};chunk-signature={sig}\r\n".encode()
            else:
                out += f"{len(chunk):x}\r\n".encode()
            sent = tamper(index, chunk) if (tamper and chunk) else chunk
            if chunk:
                out += sent + b"\r\n"
        if self.trailer:
            line = f"{self.trailer}:{trailer_value}"
            out += line.encode() + b"\r\n"
            if self.signed:
                if dry:
                    trailer_sig = sig_placeholder
                else:
                    key, amz_date, scope = signing
                    to_sign = "\n".join([
                        "AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous,
                        hashlib.sha256((line + "\n").encode()).hexdigest()])
                    trailer_sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
                out += f"x-amz-trailer-signature:{trailer_sig}\r\n".encode()
        out += b"\r\n"
        return bytes(out)

    def send(self, chunks: List[bytes], trailer_value: Optional[str] = None,
             tamper=None) -> sigv4.RawResponse:
        headers, body = self.encode(chunks, trailer_value, tamper)
        return sigv4.send(self.server.host, "PUT", sigv4.request_target(self.path), headers, body)


def three_chunks() -> List[bytes]:
    # Every chunk but the last must be at least 8 KiB.
    return [os.urandom(64 * 1024), os.urandom(64 * 1024), os.urandom(1000)]


def test_signed_aws_chunked_upload_of_three_chunks(server, s3, bucket):
    chunks = three_chunks()
    data = b"".join(chunks)
    upload = ChunkedUpload(server, f"/{bucket}/streamed", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                           extra_headers={"Content-Type": "application/x-streamed"})
    resp = upload.send(chunks)
    assert resp.status == 200, resp.body
    assert resp.header("ETag") == quoted_etag(data)
    got = s3.get_object(Bucket=bucket, Key="streamed")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    assert got["ContentType"] == "application/x-streamed"
    # aws-chunked is a transfer detail: it is not stored as the object's Content-Encoding.
    assert "ContentEncoding" not in got


def test_signed_aws_chunked_upload_with_a_tampered_chunk_is_rejected(server, s3, bucket):
    chunks = three_chunks()
    upload = ChunkedUpload(server, f"/{bucket}/tampered", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")

    def flip_a_byte_of_chunk_2(index, chunk):
        return chunk[:100] + bytes([chunk[100] ^ 1]) + chunk[101:] if index == 1 else chunk

    resp = upload.send(chunks, tamper=flip_a_byte_of_chunk_2)
    assert_xml_error(resp, 403, "SignatureDoesNotMatch")
    assert_absent(s3, bucket, "tampered")


def test_signed_aws_chunked_upload_over_an_object_keeps_it_when_tampered(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="stable", Body=b"before")
    upload = ChunkedUpload(server, f"/{bucket}/stable", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    resp = upload.send(three_chunks(), tamper=lambda i, c: c[::-1] if i == 2 else c)
    assert_xml_error(resp, 403, "SignatureDoesNotMatch")
    assert s3.get_object(Bucket=bucket, Key="stable")["Body"].read() == b"before"


def test_signed_aws_chunked_upload_with_a_signed_trailing_checksum(server, s3, bucket):
    chunks = three_chunks()
    data = b"".join(chunks)
    upload = ChunkedUpload(server, f"/{bucket}/trailed",
                           "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                           trailer="x-amz-checksum-crc32c")
    value = checksum_b64("CRC32C", data)
    resp = upload.send(chunks, trailer_value=value)
    assert resp.status == 200, resp.body
    assert resp.header("x-amz-checksum-crc32c") == value
    head = s3.head_object(Bucket=bucket, Key="trailed", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32C"] == value
    assert s3.get_object(Bucket=bucket, Key="trailed")["Body"].read() == data


def test_signed_trailer_with_a_wrong_checksum_is_bad_digest(server, s3, bucket):
    chunks = three_chunks()
    upload = ChunkedUpload(server, f"/{bucket}/trailed-bad",
                           "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                           trailer="x-amz-checksum-crc32c")
    resp = upload.send(chunks, trailer_value=checksum_b64("CRC32C", b"other"))
    assert_xml_error(resp, 400, "BadDigest")
    assert_absent(s3, bucket, "trailed-bad")


def test_unsigned_payload_with_a_trailing_checksum(server, s3, bucket):
    # What current SDKs send by default: STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32.
    chunks = three_chunks()
    data = b"".join(chunks)
    upload = ChunkedUpload(server, f"/{bucket}/unsigned", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                           trailer="x-amz-checksum-crc32")
    value = checksum_b64("CRC32", data)
    resp = upload.send(chunks, trailer_value=value)
    assert resp.status == 200, resp.body
    assert resp.header("ETag") == quoted_etag(data)
    head = s3.head_object(Bucket=bucket, Key="unsigned", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == value
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == data


def test_unsigned_payload_with_corrupted_data_is_bad_digest(server, s3, bucket):
    chunks = three_chunks()
    data = b"".join(chunks)
    upload = ChunkedUpload(server, f"/{bucket}/corrupt", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                           trailer="x-amz-checksum-crc32")
    resp = upload.send(chunks, trailer_value=checksum_b64("CRC32", data),
                       tamper=lambda i, c: bytes(len(c)) if i == 0 else c)
    assert_xml_error(resp, 400, "BadDigest")
    assert_absent(s3, bucket, "corrupt")
