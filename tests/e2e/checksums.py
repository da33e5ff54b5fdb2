"""S3's flexible checksums computed independently of the server, with the standard library:
CRC32 (zlib), CRC32C and CRC64NVME (table-driven, written out here), SHA1 and SHA256
(hashlib); the base64 forms S3 puts in x-amz-checksum-* headers; multipart composites; and
the multipart ETag. test_checksums.py checks the CRCs against their published check values.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Iterable, List

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


def _reflected_table(poly: int) -> List[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


# CRC-32C (Castagnoli): poly 0x1EDC6F41, reflected 0x82F63B78, init/xorout 0xFFFFFFFF.
_CRC32C_TABLE = _reflected_table(0x82F63B78)
# CRC-64/NVME: poly 0xAD93D23594C93659, reflected 0x9A6C9329AC4BC9B5, init/xorout all ones.
_CRC64NVME_TABLE = _reflected_table(int(f"{0xAD93D23594C93659:064b}"[::-1], 2))
_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF


def crc32c(data: bytes, crc: int = 0) -> int:
    table = _CRC32C_TABLE
    crc ^= _MASK32
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ _MASK32


def crc64nvme(data: bytes, crc: int = 0) -> int:
    table = _CRC64NVME_TABLE
    crc ^= _MASK64
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ _MASK64


def raw_checksum(algorithm: str, data: bytes) -> bytes:
    """The checksum's bytes as S3 base64-encodes them (CRCs big-endian)."""
    algorithm = algorithm.upper()
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return crc32c(data).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return crc64nvme(data).to_bytes(8, "big")
    if algorithm == "SHA1":
        return hashlib.sha1(data).digest()
    if algorithm == "SHA256":
        return hashlib.sha256(data).digest()
    raise ValueError(f"unknown checksum algorithm {algorithm}")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def checksum_b64(algorithm: str, data: bytes) -> str:
    """The value of x-amz-checksum-<algorithm> for these bytes."""
    return b64(raw_checksum(algorithm, data))


def composite_b64(algorithm: str, parts: Iterable[bytes]) -> str:
    """A multipart object's COMPOSITE checksum: the checksum of the concatenated raw part
    checksums, base64, then "-N"."""
    raws = [raw_checksum(algorithm, p) for p in parts]
    return f"{b64(raw_checksum(algorithm, b''.join(raws)))}-{len(raws)}"


def multipart_etag(parts: Iterable[bytes]) -> str:
    """The quoted ETag of a completed multipart upload: md5(concat of binary part md5s)-N."""
    digests = [hashlib.md5(p).digest() for p in parts]
    return f'"{hashlib.md5(b"".join(digests)).hexdigest()}-{len(digests)}"'
