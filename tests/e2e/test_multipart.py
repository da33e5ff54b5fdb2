"""Multipart uploads as users drive them: boto3's low-level calls, the aws cli's automatic
multipart above 8 MiB (`aws s3 cp`, `aws s3 sync`), UploadPartCopy, part-level reads
(?partNumber=N), listing and paging of parts and uploads, the errors of CompleteMultipartUpload,
and flexible checksums on multipart objects (composite, and CRC64NVME's full-object checksum
through raw requests, which botocore 1.29 cannot express)."""

from __future__ import annotations

import hashlib
import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest
from botocore.exceptions import ClientError

import checksums
from checksums import multipart_etag
from harness import quoted_etag, unique_name

MiB = 1024 * 1024
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def s3_error(call) -> Tuple[str, int]:
    """Runs call, which must fail; returns (Code, HTTP status)."""
    with pytest.raises(ClientError) as e:
        call()
    resp = e.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def status_of(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def headers_of(resp) -> dict:
    return resp["ResponseMetadata"]["HTTPHeaders"]


def assert_absent(s3, bucket: str, key: str) -> None:
    assert s3_error(lambda: s3.head_object(Bucket=bucket, Key=key)) == ("404", 404)


def create(s3, bucket: str, key: str, **kwargs) -> str:
    resp = s3.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)
    assert resp["Bucket"] == bucket and resp["Key"] == key, resp
    assert resp["UploadId"]
    return resp["UploadId"]


def put_part(s3, bucket: str, key: str, upload_id: str, number: int, data: bytes, **kwargs):
    resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                          Body=data, **kwargs)
    assert resp["ETag"] == quoted_etag(data), (number, resp)
    return resp


def complete(s3, bucket: str, key: str, upload_id: str, parts: Sequence[dict], **kwargs):
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": list(parts)}, **kwargs)


def upload(s3, bucket: str, key: str, parts: Sequence[bytes], **create_kwargs) -> dict:
    """A whole multipart upload of `parts` (numbered from 1); returns complete's response."""
    upload_id = create(s3, bucket, key, **create_kwargs)
    listed = []
    for number, data in enumerate(parts, start=1):
        etag = put_part(s3, bucket, key, upload_id, number, data)["ETag"]
        listed.append({"PartNumber": number, "ETag": etag})
    return complete(s3, bucket, key, upload_id, listed)


def three_parts() -> List[bytes]:
    return [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1 * MiB)]


def xml_root(body: bytes) -> ET.Element:
    return ET.fromstring(body)


def xml_text(root: ET.Element, tag: str) -> Optional[str]:
    el = root.find(NS + tag)
    if el is None:
        el = root.find(tag)
    return None if el is None else (el.text or "")


# -- a whole upload -------------------------------------------------------------------------


def test_three_part_upload_reads_back_as_the_concatenation(s3, bucket):
    parts = three_parts()
    whole = b"".join(parts)
    resp = upload(s3, bucket, "big/object.bin", parts, ContentType="application/x-parts",
                  Metadata={"origin": "multipart"})
    assert status_of(resp) == 200
    assert resp["Bucket"] == bucket
    assert resp["Key"] == "big/object.bin"
    assert resp["ETag"] == multipart_etag(parts)

    got = s3.get_object(Bucket=bucket, Key="big/object.bin")
    assert got["Body"].read() == whole
    assert got["ETag"] == multipart_etag(parts)
    assert got["ContentLength"] == 11 * MiB
    assert got["ContentType"] == "application/x-parts"
    assert got["Metadata"] == {"origin": "multipart"}

    head = s3.head_object(Bucket=bucket, Key="big/object.bin")
    assert head["ContentLength"] == 11 * MiB
    assert head["ETag"] == multipart_etag(parts)

    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [
        ("big/object.bin", 11 * MiB, multipart_etag(parts))]
    # The finished upload is no longer in progress.
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_get_and_head_with_part_number_return_that_part(s3, bucket):
    parts = three_parts()
    upload(s3, bucket, "parted", parts)
    total = 11 * MiB

    got = s3.get_object(Bucket=bucket, Key="parted", PartNumber=2)
    assert status_of(got) == 206
    assert got["Body"].read() == parts[1]
    assert got["ContentLength"] == 5 * MiB
    assert got["ContentRange"] == f"bytes {5 * MiB}-{10 * MiB - 1}/{total}"
    assert got["PartsCount"] == 3
    assert got["ETag"] == multipart_etag(parts)

    last = s3.get_object(Bucket=bucket, Key="parted", PartNumber=3)
    assert status_of(last) == 206
    assert last["Body"].read() == parts[2]
    assert last["ContentRange"] == f"bytes {10 * MiB}-{total - 1}/{total}"
    assert last["PartsCount"] == 3

    head = s3.head_object(Bucket=bucket, Key="parted", PartNumber=1)
    assert status_of(head) == 206
    assert head["ContentLength"] == 5 * MiB
    assert head["PartsCount"] == 3
    assert headers_of(head)["content-range"] == f"bytes 0-{5 * MiB - 1}/{total}"


def test_get_part_number_beyond_the_parts_is_invalid_part_number(s3, bucket):
    parts = three_parts()
    upload(s3, bucket, "three", parts)
    assert s3_error(lambda: s3.get_object(Bucket=bucket, Key="three", PartNumber=4)) == (
        "InvalidPartNumber", 416)


@pytest.mark.parametrize("first,last", [
    (5 * MiB - 10, 5 * MiB + 9),        # across the boundary of parts 1 and 2
    (10 * MiB - 1, 10 * MiB),           # the last byte of part 2 and the first of part 3
    (5 * MiB, 10 * MiB - 1),            # exactly part 2
    (5 * MiB - 1, 10 * MiB),            # part 2 and one byte on each side
    (100, 11 * MiB - 101),              # all three parts
    (0, 11 * MiB - 1),                  # the whole object as a range
])
def test_ranges_spanning_part_boundaries(s3, bucket, first, last):
    parts = three_parts()
    whole = b"".join(parts)
    upload(s3, bucket, "ranged", parts)
    got = s3.get_object(Bucket=bucket, Key="ranged", Range=f"bytes={first}-{last}")
    assert status_of(got) == 206
    body = got["Body"].read()
    assert len(body) == last - first + 1
    assert body == whole[first:last + 1]
    assert got["ContentRange"] == f"bytes {first}-{last}/{len(whole)}"


def test_open_and_suffix_ranges_of_a_multipart_object(s3, bucket):
    parts = three_parts()
    whole = b"".join(parts)
    upload(s3, bucket, "ranged", parts)
    got = s3.get_object(Bucket=bucket, Key="ranged", Range=f"bytes={10 * MiB - 7}-")
    assert got["Body"].read() == whole[10 * MiB - 7:]
    assert got["ContentRange"] == f"bytes {10 * MiB - 7}-{len(whole) - 1}/{len(whole)}"
    got = s3.get_object(Bucket=bucket, Key="ranged", Range=f"bytes=-{1 * MiB + 3}")
    assert got["Body"].read() == whole[-(1 * MiB + 3):]
    assert got["ContentRange"] == (
        f"bytes {len(whole) - MiB - 3}-{len(whole) - 1}/{len(whole)}")


# -- parts: replace, subset -----------------------------------------------------------------


def test_reuploading_a_part_number_replaces_the_part(s3, bucket):
    first_try, second_try, tail = os.urandom(5 * MiB), os.urandom(5 * MiB + 1), b"tail" * 100
    upload_id = create(s3, bucket, "replaced")
    old = put_part(s3, bucket, "replaced", upload_id, 1, first_try)["ETag"]
    put_part(s3, bucket, "replaced", upload_id, 2, tail)
    new = put_part(s3, bucket, "replaced", upload_id, 1, second_try)["ETag"]

    listed = s3.list_parts(Bucket=bucket, Key="replaced", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (1, new, 5 * MiB + 1), (2, quoted_etag(tail), len(tail))]

    # The replaced part is gone: completing with its ETag names a part that does not exist.
    stale = [{"PartNumber": 1, "ETag": old}, {"PartNumber": 2, "ETag": quoted_etag(tail)}]
    assert s3_error(lambda: complete(s3, bucket, "replaced", upload_id, stale)) == (
        "InvalidPart", 400)

    resp = complete(s3, bucket, "replaced", upload_id,
                    [{"PartNumber": 1, "ETag": new}, {"PartNumber": 2, "ETag": quoted_etag(tail)}])
    assert resp["ETag"] == multipart_etag([second_try, tail])
    assert s3.get_object(Bucket=bucket, Key="replaced")["Body"].read() == second_try + tail


def test_completing_with_a_subset_of_parts_uses_only_those(s3, bucket):
    parts = three_parts()
    upload_id = create(s3, bucket, "subset")
    etags = [put_part(s3, bucket, "subset", upload_id, n, d)["ETag"]
             for n, d in enumerate(parts, start=1)]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [
        upload_id]

    resp = complete(s3, bucket, "subset", upload_id,
                    [{"PartNumber": 1, "ETag": etags[0]}, {"PartNumber": 3, "ETag": etags[2]}])
    assert resp["ETag"] == multipart_etag([parts[0], parts[2]])

    got = s3.get_object(Bucket=bucket, Key="subset")
    assert got["Body"].read() == parts[0] + parts[2]
    assert got["ContentLength"] == 6 * MiB
    assert s3.head_object(Bucket=bucket, Key="subset", PartNumber=2)["PartsCount"] == 2
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    assert s3_error(lambda: s3.list_parts(Bucket=bucket, Key="subset", UploadId=upload_id)) == (
        "NoSuchUpload", 404)


def test_abort_then_every_use_of_the_upload_is_no_such_upload(s3, bucket):
    upload_id = create(s3, bucket, "aborted")
    etag = put_part(s3, bucket, "aborted", upload_id, 1, b"part one")["ETag"]
    resp = s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=upload_id)
    assert status_of(resp) == 204

    assert s3_error(lambda: s3.upload_part(Bucket=bucket, Key="aborted", UploadId=upload_id,
                                           PartNumber=2, Body=b"late")) == ("NoSuchUpload", 404)
    assert s3_error(lambda: s3.list_parts(Bucket=bucket, Key="aborted", UploadId=upload_id)) == (
        "NoSuchUpload", 404)
    assert s3_error(lambda: complete(s3, bucket, "aborted", upload_id,
                                     [{"PartNumber": 1, "ETag": etag}])) == ("NoSuchUpload", 404)
    assert s3_error(lambda: s3.abort_multipart_upload(
        Bucket=bucket, Key="aborted", UploadId=upload_id)) == ("NoSuchUpload", 404)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    assert_absent(s3, bucket, "aborted")


def test_unknown_upload_id_is_no_such_upload(s3, bucket):
    made_up = "bm90LWFuLXVwbG9hZC1pZA"
    assert s3_error(lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId=made_up,
                                           PartNumber=1, Body=b"x")) == ("NoSuchUpload", 404)
    assert s3_error(lambda: s3.list_parts(Bucket=bucket, Key="k", UploadId=made_up)) == (
        "NoSuchUpload", 404)
    assert s3_error(lambda: complete(s3, bucket, "k", made_up,
                                     [{"PartNumber": 1, "ETag": quoted_etag(b"x")}])) == (
        "NoSuchUpload", 404)
    assert_absent(s3, bucket, "k")


def test_upload_id_of_another_key_is_no_such_upload(s3, bucket):
    upload_id = create(s3, bucket, "mine")
    etag = put_part(s3, bucket, "mine", upload_id, 1, b"data")["ETag"]
    assert s3_error(lambda: s3.upload_part(Bucket=bucket, Key="theirs", UploadId=upload_id,
                                           PartNumber=2, Body=b"x")) == ("NoSuchUpload", 404)
    assert s3_error(lambda: complete(s3, bucket, "theirs", upload_id,
                                     [{"PartNumber": 1, "ETag": etag}])) == ("NoSuchUpload", 404)
    assert_absent(s3, bucket, "theirs")
    complete(s3, bucket, "mine", upload_id, [{"PartNumber": 1, "ETag": etag}])
    assert s3.get_object(Bucket=bucket, Key="mine")["Body"].read() == b"data"


# -- listing --------------------------------------------------------------------------------


def test_list_parts_pages_with_max_parts_and_part_number_marker(s3, bucket):
    upload_id = create(s3, bucket, "paged")
    data = {n: os.urandom(1000 + n) for n in range(1, 6)}
    for n in (5, 3, 1, 4, 2):  # out of order: the listing is by part number
        put_part(s3, bucket, "paged", upload_id, n, data[n])

    full = s3.list_parts(Bucket=bucket, Key="paged", UploadId=upload_id)
    assert full["Bucket"] == bucket
    assert full["Key"] == "paged"
    assert full["UploadId"] == upload_id
    assert full["IsTruncated"] is False
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in full["Parts"]] == [
        (n, quoted_etag(data[n]), len(data[n])) for n in range(1, 6)]
    assert all(p["LastModified"] for p in full["Parts"])

    page1 = s3.list_parts(Bucket=bucket, Key="paged", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page1["Parts"]] == [1, 2]
    assert page1["MaxParts"] == 2
    assert page1["IsTruncated"] is True
    assert page1["NextPartNumberMarker"] == 2

    page2 = s3.list_parts(Bucket=bucket, Key="paged", UploadId=upload_id, MaxParts=2,
                          PartNumberMarker=page1["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in page2["Parts"]] == [3, 4]
    assert page2["PartNumberMarker"] == 2
    assert page2["IsTruncated"] is True
    assert page2["NextPartNumberMarker"] == 4

    page3 = s3.list_parts(Bucket=bucket, Key="paged", UploadId=upload_id, MaxParts=2,
                          PartNumberMarker=page2["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in page3["Parts"]] == [5]
    assert page3["PartNumberMarker"] == 4
    assert page3["IsTruncated"] is False


def test_list_multipart_uploads_prefix_delimiter_and_paging(s3, bucket):
    keys = ["photos/2024/a.jpg", "photos/2024/a.jpg", "photos/2024/b.jpg",
            "photos/2025/c.jpg", "readme", "videos/d.mp4"]
    ids: Dict[str, List[str]] = {}
    for key in keys:  # the two uploads of a.jpg are made in this order
        ids.setdefault(key, []).append(create(s3, bucket, key))
    a1, a2 = ids["photos/2024/a.jpg"]
    expected = [("photos/2024/a.jpg", a1), ("photos/2024/a.jpg", a2),
                ("photos/2024/b.jpg", ids["photos/2024/b.jpg"][0]),
                ("photos/2025/c.jpg", ids["photos/2025/c.jpg"][0]),
                ("readme", ids["readme"][0]), ("videos/d.mp4", ids["videos/d.mp4"][0])]

    def pairs(resp):
        return [(u["Key"], u["UploadId"]) for u in resp.get("Uploads", [])]

    def prefixes(resp):
        return [p["Prefix"] for p in resp.get("CommonPrefixes", [])]

    full = s3.list_multipart_uploads(Bucket=bucket)
    assert full["Bucket"] == bucket
    assert full["IsTruncated"] is False
    # Sorted by key. (The order of a.jpg's two uploads is the subject of the next test;
    # here the pages are compared with the server's own full listing.)
    assert sorted(pairs(full)) == sorted(expected)
    assert [k for k, _ in pairs(full)] == [k for k, _ in expected]
    expected = pairs(full)
    a1, a2 = expected[0][1], expected[1][1]
    assert all(u["Initiated"] for u in full["Uploads"])
    assert all(u["StorageClass"] == "STANDARD" for u in full["Uploads"])

    resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="photos/")
    assert resp["Prefix"] == "photos/"
    assert pairs(resp) == expected[:4]

    resp = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert resp["Delimiter"] == "/"
    assert pairs(resp) == [expected[4]]
    assert prefixes(resp) == ["photos/", "videos/"]

    resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="photos/", Delimiter="/")
    assert pairs(resp) == []
    assert prefixes(resp) == ["photos/2024/", "photos/2025/"]

    # Pages of two, following NextKeyMarker / NextUploadIdMarker.
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert page["MaxUploads"] == 2
    assert pairs(page) == expected[0:2]
    assert page["IsTruncated"] is True
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == expected[1]
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2,
                                     KeyMarker=page["NextKeyMarker"],
                                     UploadIdMarker=page["NextUploadIdMarker"])
    assert page["KeyMarker"] == "photos/2024/a.jpg"
    assert page["UploadIdMarker"] == a2
    assert pairs(page) == expected[2:4]
    assert page["IsTruncated"] is True
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == expected[3]
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2,
                                     KeyMarker=page["NextKeyMarker"],
                                     UploadIdMarker=page["NextUploadIdMarker"])
    assert pairs(page) == expected[4:6]
    assert page["IsTruncated"] is False

    # Pages of one through the two uploads of the same key.
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1,
                                     KeyMarker="photos/2024/a.jpg", UploadIdMarker=a1)
    assert pairs(page) == [expected[1]]
    assert page["IsTruncated"] is True

    # A key marker without an upload id marker skips every upload of that key.
    resp = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="photos/2024/a.jpg")
    assert pairs(resp) == expected[2:]


def test_uploads_of_one_key_are_listed_in_initiation_order(s3, bucket):
    # AWS: "uploads are sorted in ascending order within each key by the upload initiation
    # time". Made back to back, these uploads are initiated within the same second.
    made = [create(s3, bucket, "same/key") for _ in range(8)]
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["UploadId"] for u in listed] == made
    initiated = [u["Initiated"] for u in listed]
    assert initiated == sorted(initiated)


def test_list_multipart_uploads_sees_only_its_bucket(s3, bucket):
    other = unique_name("other")
    s3.create_bucket(Bucket=other)
    mine = create(s3, bucket, "same-key")
    theirs = create(s3, other, "same-key")
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [mine]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=other)["Uploads"]] == [theirs]
    assert s3_error(lambda: s3.list_parts(Bucket=other, Key="same-key", UploadId=mine)) == (
        "NoSuchUpload", 404)


# -- CompleteMultipartUpload errors -----------------------------------------------------------


def test_part_smaller_than_5_mib_that_is_not_last_is_entity_too_small(s3, bucket):
    small, tail = os.urandom(5 * MiB - 1), b"the tail"
    upload_id = create(s3, bucket, "small")
    e1 = put_part(s3, bucket, "small", upload_id, 1, small)["ETag"]
    e2 = put_part(s3, bucket, "small", upload_id, 2, tail)["ETag"]
    call = lambda: complete(s3, bucket, "small", upload_id,
                            [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}])
    assert s3_error(call) == ("EntityTooSmall", 400)
    assert_absent(s3, bucket, "small")

    # The upload survives the failed completion; the small part alone is a valid last part.
    listed = s3.list_parts(Bucket=bucket, Key="small", UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in listed] == [1, 2]
    resp = complete(s3, bucket, "small", upload_id, [{"PartNumber": 2, "ETag": e2}])
    assert resp["ETag"] == multipart_etag([tail])
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == tail


def test_wrong_etag_or_missing_part_is_invalid_part(s3, bucket):
    first, tail = os.urandom(5 * MiB), b"tail"
    upload_id = create(s3, bucket, "invalid-part")
    e1 = put_part(s3, bucket, "invalid-part", upload_id, 1, first)["ETag"]
    e2 = put_part(s3, bucket, "invalid-part", upload_id, 2, tail)["ETag"]

    wrong_etag = [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": quoted_etag(b"other")}]
    assert s3_error(lambda: complete(s3, bucket, "invalid-part", upload_id, wrong_etag)) == (
        "InvalidPart", 400)
    missing = [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 3, "ETag": e2}]
    assert s3_error(lambda: complete(s3, bucket, "invalid-part", upload_id, missing)) == (
        "InvalidPart", 400)
    assert_absent(s3, bucket, "invalid-part")

    resp = complete(s3, bucket, "invalid-part", upload_id,
                    [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}])
    assert resp["ETag"] == multipart_etag([first, tail])


def test_parts_out_of_order_is_invalid_part_order(s3, bucket):
    # Both parts are big enough to be in either position: the order is the only fault.
    first, tail = os.urandom(5 * MiB), os.urandom(5 * MiB)
    upload_id = create(s3, bucket, "order")
    e1 = put_part(s3, bucket, "order", upload_id, 1, first)["ETag"]
    e2 = put_part(s3, bucket, "order", upload_id, 2, tail)["ETag"]
    call = lambda: complete(s3, bucket, "order", upload_id,
                            [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}])
    assert s3_error(call) == ("InvalidPartOrder", 400)
    assert_absent(s3, bucket, "order")


def test_empty_part_list_is_malformed_xml(s3, bucket):
    upload_id = create(s3, bucket, "empty-list")
    put_part(s3, bucket, "empty-list", upload_id, 1, b"data")
    assert s3_error(lambda: complete(s3, bucket, "empty-list", upload_id, [])) == (
        "MalformedXML", 400)
    assert_absent(s3, bucket, "empty-list")


def test_complete_with_a_body_that_is_not_xml_is_malformed_xml(server, s3, bucket):
    upload_id = create(s3, bucket, "junk")
    put_part(s3, bucket, "junk", upload_id, 1, b"data")
    resp = server.signed("POST", f"/{bucket}/junk", query=[("uploadId", upload_id)],
                         body=b"this is not <xml")
    assert resp.status == 400, resp.body
    assert resp.error()["Code"] == "MalformedXML"
    assert_absent(s3, bucket, "junk")


@pytest.mark.parametrize("number", [0, 10001])
def test_part_number_out_of_range_is_invalid_argument(server_factory, number):
    # A server of its own: if this request hurts the server, other tests do not see it.
    srv = server_factory()
    s3 = srv.client()
    bucket = unique_name("numbers")
    s3.create_bucket(Bucket=bucket)
    upload_id = create(s3, bucket, "numbers")
    assert s3_error(lambda: s3.upload_part(Bucket=bucket, Key="numbers", UploadId=upload_id,
                                           PartNumber=number, Body=b"x")) == (
        "InvalidArgument", 400)
    # The server is still there and the upload still usable.
    etag = put_part(s3, bucket, "numbers", upload_id, 1, b"x")["ETag"]
    complete(s3, bucket, "numbers", upload_id, [{"PartNumber": 1, "ETag": etag}])
    assert s3.get_object(Bucket=bucket, Key="numbers")["Body"].read() == b"x"


# -- UploadPartCopy -------------------------------------------------------------------------


def test_upload_part_copy_of_ranges_then_complete(s3, bucket):
    source_bucket = unique_name("src")
    s3.create_bucket(Bucket=source_bucket)
    source = os.urandom(6 * MiB)
    s3.put_object(Bucket=source_bucket, Key="source/data.bin", Body=source)
    copy_source = {"Bucket": source_bucket, "Key": "source/data.bin"}

    upload_id = create(s3, bucket, "assembled")
    r1 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
                             CopySource=copy_source,
                             CopySourceRange=f"bytes=1000-{1000 + 5 * MiB - 1}")
    piece1 = source[1000:1000 + 5 * MiB]
    assert r1["CopyPartResult"]["ETag"] == quoted_etag(piece1)
    assert r1["CopyPartResult"]["LastModified"]
    piece2 = os.urandom(5 * MiB)  # a regular part between two copied ones
    e2 = put_part(s3, bucket, "assembled", upload_id, 2, piece2)["ETag"]
    r3 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=3,
                             CopySource=copy_source, CopySourceRange="bytes=0-999")
    piece3 = source[:1000]
    assert r3["CopyPartResult"]["ETag"] == quoted_etag(piece3)

    listed = s3.list_parts(Bucket=bucket, Key="assembled", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (1, quoted_etag(piece1), 5 * MiB), (2, e2, 5 * MiB), (3, quoted_etag(piece3), 1000)]

    resp = complete(s3, bucket, "assembled", upload_id, [
        {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": e2},
        {"PartNumber": 3, "ETag": r3["CopyPartResult"]["ETag"]}])
    assert resp["ETag"] == multipart_etag([piece1, piece2, piece3])
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == (
        piece1 + piece2 + piece3)
    # The source is untouched and can be deleted without harming the new object.
    s3.delete_object(Bucket=source_bucket, Key="source/data.bin")
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == (
        piece1 + piece2 + piece3)


def test_upload_part_copy_without_range_copies_the_whole_source(s3, bucket):
    source = os.urandom(5 * MiB + 17)
    s3.put_object(Bucket=bucket, Key="whole-source", Body=source)
    upload_id = create(s3, bucket, "copied-whole")
    r1 = s3.upload_part_copy(Bucket=bucket, Key="copied-whole", UploadId=upload_id,
                             PartNumber=1, CopySource={"Bucket": bucket, "Key": "whole-source"})
    assert r1["CopyPartResult"]["ETag"] == quoted_etag(source)
    e2 = put_part(s3, bucket, "copied-whole", upload_id, 2, b"!")["ETag"]
    complete(s3, bucket, "copied-whole", upload_id, [
        {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": e2}])
    assert s3.get_object(Bucket=bucket, Key="copied-whole")["Body"].read() == source + b"!"


def test_upload_part_copy_of_a_missing_source_is_no_such_key(s3, bucket):
    upload_id = create(s3, bucket, "from-nothing")
    call = lambda: s3.upload_part_copy(Bucket=bucket, Key="from-nothing", UploadId=upload_id,
                                       PartNumber=1,
                                       CopySource={"Bucket": bucket, "Key": "not-there"})
    assert s3_error(call) == ("NoSuchKey", 404)


# -- the aws cli ----------------------------------------------------------------------------


def ok(res) -> str:
    assert res.returncode == 0, f"exit {res.returncode}\nstdout: {res.stdout}\nstderr: {res.stderr}"
    return res.stdout


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


def cli_etag(data: bytes, chunk: int = 8 * MiB) -> str:
    """The ETag the aws cli's multipart upload produces (8 MiB parts by default)."""
    return multipart_etag([data[i:i + chunk] for i in range(0, len(data), chunk)])


def test_aws_s3_cp_of_100_mib_up_and_down(aws, tmp_path):
    name = unique_name("cli-big")
    ok(aws("s3", "mb", f"s3://{name}"))
    data = os.urandom(100 * MiB)
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "big.bin").write_bytes(data)
    expected_sha = hashlib.sha256(data).hexdigest()

    out = ok(aws("s3", "cp", "--no-progress", "up/big.bin", f"s3://{name}/big.bin",
                 cwd=tmp_path, timeout=300))
    assert out.strip() == f"upload: up/big.bin to s3://{name}/big.bin"
    head = aws.json("s3api", "head-object", "--bucket", name, "--key", "big.bin")
    assert head["ContentLength"] == 100 * MiB
    assert head["ETag"] == cli_etag(data)  # 13 parts: the cli really used multipart
    assert head["ETag"].endswith('-13"')
    # No upload is left in progress (the cli prints nothing for an empty listing).
    assert "UploadId" not in ok(aws("s3api", "list-multipart-uploads", "--bucket", name))

    (tmp_path / "down").mkdir()
    out = ok(aws("s3", "cp", "--no-progress", f"s3://{name}/big.bin", "down/big.bin",
                 cwd=tmp_path, timeout=300))
    assert out.strip() == f"download: s3://{name}/big.bin to down/big.bin"
    assert sha256_file(tmp_path / "down" / "big.bin") == expected_sha


def test_aws_s3_sync_both_ways_then_a_changed_file_syncs_again(aws, tmp_path):
    name = unique_name("cli-sync")
    ok(aws("s3", "mb", f"s3://{name}"))
    files = {
        "notes.txt": b"some notes\n" * 50,
        "data/big.bin": os.urandom(9 * MiB + 123),  # above 8 MiB: uploaded in two parts
        "data/small.bin": os.urandom(4096),
        "data/deeper/x.json": b'{"x": 1}',
    }
    up, down = tmp_path / "up", tmp_path / "down"
    day_ago = time.time() - 86400
    for rel, data in files.items():
        (up / rel).parent.mkdir(parents=True, exist_ok=True)
        (up / rel).write_bytes(data)
        os.utime(up / rel, (day_ago, day_ago))

    out = ok(aws("s3", "sync", "--no-progress", "up", f"s3://{name}/tree", cwd=tmp_path,
                 timeout=300))
    assert sorted(out.splitlines()) == sorted(
        f"upload: up/{rel} to s3://{name}/tree/{rel}" for rel in files)
    head = aws.json("s3api", "head-object", "--bucket", name, "--key", "tree/data/big.bin")
    assert head["ETag"] == cli_etag(files["data/big.bin"])
    assert head["ETag"].endswith('-2"')

    out = ok(aws("s3", "sync", "--no-progress", f"s3://{name}/tree", "down", cwd=tmp_path,
                 timeout=300))
    assert sorted(out.splitlines()) == sorted(
        f"download: s3://{name}/tree/{rel} to down/{rel}" for rel in files)
    got = {str(p.relative_to(down)): p.read_bytes() for p in down.rglob("*") if p.is_file()}
    assert got == files

    # Nothing changed: both directions transfer nothing.
    assert ok(aws("s3", "sync", "--no-progress", "up", f"s3://{name}/tree", cwd=tmp_path)) == ""
    assert ok(aws("s3", "sync", "--no-progress", f"s3://{name}/tree", "down", cwd=tmp_path)) == ""

    # A changed (and resized) file is uploaded again, alone, and then downloaded again, alone.
    files["data/big.bin"] = os.urandom(10 * MiB + 7)
    (up / "data/big.bin").write_bytes(files["data/big.bin"])
    out = ok(aws("s3", "sync", "--no-progress", "up", f"s3://{name}/tree", cwd=tmp_path,
                 timeout=300))
    assert out.splitlines() == [f"upload: up/data/big.bin to s3://{name}/tree/data/big.bin"]
    out = ok(aws("s3", "sync", "--no-progress", f"s3://{name}/tree", "down", cwd=tmp_path,
                 timeout=300))
    assert out.splitlines() == [f"download: s3://{name}/tree/data/big.bin to down/data/big.bin"]
    got = {str(p.relative_to(down)): p.read_bytes() for p in down.rglob("*") if p.is_file()}
    assert got == files


# -- checksums ------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["SHA256", "CRC32", "CRC32C", "SHA1"])
def test_multipart_with_checksum_algorithm_has_a_composite_checksum(s3, bucket, algorithm):
    field = f"Checksum{algorithm}"
    parts = three_parts()
    key = f"sum-{algorithm.lower()}"
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm)
    assert created["ChecksumAlgorithm"] == algorithm
    upload_id = created["UploadId"]

    listed = []
    for number, data in enumerate(parts, start=1):
        resp = put_part(s3, bucket, key, upload_id, number, data, ChecksumAlgorithm=algorithm)
        assert resp[field] == checksums.checksum_b64(algorithm, data)
        listed.append({"PartNumber": number, "ETag": resp["ETag"], field: resp[field]})

    lp = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    assert [p[field] for p in lp["Parts"]] == [
        checksums.checksum_b64(algorithm, d) for d in parts]

    expected = checksums.composite_b64(algorithm, parts)
    assert expected.endswith("-3")
    done = complete(s3, bucket, key, upload_id, listed)
    assert done["ETag"] == multipart_etag(parts)
    assert done[field] == expected

    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head[field] == expected
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got[field] == expected
    assert got["Body"].read() == b"".join(parts)
    assert headers_of(head).get("x-amz-checksum-type") == "COMPOSITE"


def test_list_parts_reports_the_checksum_algorithm(s3, bucket):
    upload_id = create(s3, bucket, "listed-sums", ChecksumAlgorithm="CRC32")
    put_part(s3, bucket, "listed-sums", upload_id, 1, b"part", ChecksumAlgorithm="CRC32")
    lp = s3.list_parts(Bucket=bucket, Key="listed-sums", UploadId=upload_id)
    assert lp["Parts"][0]["ChecksumCRC32"] == checksums.checksum_b64("CRC32", b"part")
    assert lp["ChecksumAlgorithm"] == "CRC32"  # <ChecksumAlgorithm> of ListPartsResult


def test_upload_part_with_a_wrong_checksum_is_bad_digest(s3, bucket):
    upload_id = create(s3, bucket, "bad-part", ChecksumAlgorithm="SHA256")
    call = lambda: s3.upload_part(Bucket=bucket, Key="bad-part", UploadId=upload_id,
                                  PartNumber=1, Body=b"the real part",
                                  ChecksumSHA256=checksums.checksum_b64("SHA256", b"another"))
    assert s3_error(call) == ("BadDigest", 400)
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="bad-part", UploadId=upload_id)


def test_multipart_crc64nvme_has_a_full_object_checksum(server, s3, bucket):
    """botocore 1.29 knows neither CRC64NVME nor x-amz-checksum-type: raw signed requests."""
    parts = [os.urandom(5 * MiB), os.urandom(300 * 1024)]
    whole = b"".join(parts)
    path = f"/{bucket}/full-object"

    resp = server.signed("POST", path, query=[("uploads", "")],
                         headers={"x-amz-checksum-algorithm": "CRC64NVME"})
    assert resp.status == 200, resp.body
    upload_id = xml_text(xml_root(resp.body), "UploadId")
    assert upload_id
    assert resp.header("x-amz-checksum-algorithm") == "CRC64NVME"
    assert resp.header("x-amz-checksum-type") == "FULL_OBJECT"  # CRC64NVME's only type

    xml_parts = []
    for number, data in enumerate(parts, start=1):
        value = checksums.checksum_b64("CRC64NVME", data)
        resp = server.signed("PUT", path,
                             query=[("partNumber", str(number)), ("uploadId", upload_id)],
                             headers={"x-amz-checksum-crc64nvme": value}, body=data)
        assert resp.status == 200, resp.body
        assert resp.header("ETag") == quoted_etag(data)
        assert resp.header("x-amz-checksum-crc64nvme") == value
        xml_parts.append(f"<Part><PartNumber>{number}</PartNumber>"
                         f"<ETag>{quoted_etag(data)}</ETag>"
                         f"<ChecksumCRC64NVME>{value}</ChecksumCRC64NVME></Part>")

    body = ("<CompleteMultipartUpload>" + "".join(xml_parts) +
            "</CompleteMultipartUpload>").encode()
    resp = server.signed("POST", path, query=[("uploadId", upload_id)], body=body)
    assert resp.status == 200, resp.body
    root = xml_root(resp.body)
    full = checksums.checksum_b64("CRC64NVME", whole)
    assert xml_text(root, "ETag") == multipart_etag(parts)
    assert xml_text(root, "ChecksumCRC64NVME") == full  # no "-N": a full-object checksum
    assert xml_text(root, "ChecksumType") == "FULL_OBJECT"

    head = server.signed("HEAD", path, headers={"x-amz-checksum-mode": "ENABLED"})
    assert head.status == 200
    assert head.header("x-amz-checksum-crc64nvme") == full
    assert head.header("x-amz-checksum-type") == "FULL_OBJECT"
    assert s3.get_object(Bucket=bucket, Key="full-object")["Body"].read() == whole
