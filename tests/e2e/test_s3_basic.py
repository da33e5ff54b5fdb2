"""The first slice's S3 operations through boto3, checked the way a user of AWS S3 would:
buckets, put/get/head/delete of objects, ranges, metadata, listing and awkward keys."""

from __future__ import annotations

import datetime
import gzip
import random

import pytest
from botocore.exceptions import ClientError

from harness import md5_hex, quoted_etag, unique_name

CLOCK_SLACK = datetime.timedelta(seconds=5)


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def status_of(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def headers_of(resp) -> dict:
    return resp["ResponseMetadata"]["HTTPHeaders"]


def assert_between(when: datetime.datetime, before: datetime.datetime,
                   after: datetime.datetime) -> None:
    # HTTP dates have whole seconds; listings may have milliseconds.
    assert before.replace(microsecond=0) - CLOCK_SLACK <= when <= after + CLOCK_SLACK, (
        when, before, after)


def list_all_keys(s3, bucket: str, **kwargs) -> list:
    keys = []
    token = None
    while True:
        args = dict(kwargs, Bucket=bucket)
        if token:
            args["ContinuationToken"] = token
        resp = s3.list_objects_v2(**args)
        keys += [o["Key"] for o in resp.get("Contents", [])]
        if not resp["IsTruncated"]:
            return keys
        token = resp["NextContinuationToken"]


# -- buckets --------------------------------------------------------------------------------


def test_create_bucket_then_list_buckets_shows_it_with_creation_date(s3):
    name = unique_name("created")
    before = utc_now()
    resp = s3.create_bucket(Bucket=name)
    after = utc_now()
    assert status_of(resp) == 200
    assert resp["Location"] == f"/{name}"

    listed = s3.list_buckets()
    assert status_of(listed) == 200
    mine = [b for b in listed["Buckets"] if b["Name"] == name]
    assert len(mine) == 1
    assert isinstance(mine[0]["CreationDate"], datetime.datetime)
    assert_between(mine[0]["CreationDate"], before, after)
    assert listed["Owner"]["ID"]


def test_list_buckets_is_sorted_by_name(s3):
    names = [unique_name("sort") for _ in range(3)]
    for name in reversed(names):
        s3.create_bucket(Bucket=name)
    listed = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert listed == sorted(listed)
    assert set(names) <= set(listed)


def test_head_bucket_is_200_for_existing_and_404_for_missing(s3, bucket):
    assert status_of(s3.head_bucket(Bucket=bucket)) == 200
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=unique_name("missing"))
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delete_empty_bucket_removes_it(s3):
    name = unique_name("gone")
    s3.create_bucket(Bucket=name)
    resp = s3.delete_bucket(Bucket=name)
    assert status_of(resp) == 204
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_bucket_name_can_be_reused_after_delete(s3):
    name = unique_name("reuse")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"first life")
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="k")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"


# -- put / get / head -----------------------------------------------------------------------


def test_put_object_etag_is_quoted_md5_of_body(s3, bucket):
    body = b"hello, vaultaire\n" * 1000
    resp = s3.put_object(Bucket=bucket, Key="hello.txt", Body=body)
    assert status_of(resp) == 200
    assert resp["ETag"] == quoted_etag(body)


def test_get_object_returns_exact_bytes_and_headers(s3, bucket):
    body = bytes(range(256)) * 64
    before = utc_now()
    s3.put_object(Bucket=bucket, Key="bin/all-bytes", Body=body)
    after = utc_now()
    resp = s3.get_object(Bucket=bucket, Key="bin/all-bytes")
    assert status_of(resp) == 200
    assert resp["Body"].read() == body
    assert resp["ContentLength"] == len(body)
    assert resp["ETag"] == quoted_etag(body)
    assert resp["AcceptRanges"] == "bytes"
    assert_between(resp["LastModified"], before, after)


def test_head_object_reports_length_etag_and_last_modified(s3, bucket):
    body = b"x" * 12345
    before = utc_now()
    s3.put_object(Bucket=bucket, Key="head-me", Body=body)
    after = utc_now()
    head = s3.head_object(Bucket=bucket, Key="head-me")
    assert status_of(head) == 200
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == quoted_etag(body)
    assert_between(head["LastModified"], before, after)
    get = s3.get_object(Bucket=bucket, Key="head-me")
    get["Body"].read()
    assert get["LastModified"] == head["LastModified"]


def test_metadata_and_content_headers_round_trip(s3, bucket):
    body = gzip.compress(b"compressible " * 500)
    put = s3.put_object(
        Bucket=bucket,
        Key="docs/report.txt.gz",
        Body=body,
        ContentType="text/plain; charset=utf-8",
        ContentEncoding="gzip",
        CacheControl="max-age=3600, must-revalidate",
        ContentDisposition='attachment; filename="report.txt"',
        ContentLanguage="en-GB",
        Metadata={"color": "blue", "Owner-Team": "Storage"},
    )
    assert put["ETag"] == quoted_etag(body)
    # S3 lower-cases user metadata names and keeps values as sent.
    expected_meta = {"color": "blue", "owner-team": "Storage"}
    for resp in (s3.head_object(Bucket=bucket, Key="docs/report.txt.gz"),
                 s3.get_object(Bucket=bucket, Key="docs/report.txt.gz")):
        assert resp["ContentType"] == "text/plain; charset=utf-8"
        assert resp["ContentEncoding"] == "gzip"
        assert resp["CacheControl"] == "max-age=3600, must-revalidate"
        assert resp["ContentDisposition"] == 'attachment; filename="report.txt"'
        assert resp["ContentLanguage"] == "en-GB"
        assert resp["Metadata"] == expected_meta
        assert resp["ContentLength"] == len(body)
        if "Body" in resp:
            assert resp["Body"].read() == body  # stored as sent, never decoded


def test_content_type_defaults_to_binary_octet_stream(s3, bucket):
    # boto3 sends no Content-Type when none is given; S3 then stores binary/octet-stream.
    s3.put_object(Bucket=bucket, Key="untyped", Body=b"?")
    assert s3.head_object(Bucket=bucket, Key="untyped")["ContentType"] == "binary/octet-stream"


def test_overwrite_replaces_content_and_metadata(s3, bucket):
    old = b"old content that is longer"
    new = b"new"
    s3.put_object(Bucket=bucket, Key="k", Body=old, ContentType="text/old",
                  Metadata={"version": "1"})
    put = s3.put_object(Bucket=bucket, Key="k", Body=new, ContentType="text/new")
    assert put["ETag"] == quoted_etag(new)
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == new
    assert got["ETag"] == quoted_etag(new)
    assert got["ContentType"] == "text/new"
    assert got["Metadata"] == {}
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == len(new)
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [("k", 3, quoted_etag(new))]


def test_zero_byte_object(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert put["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentLength"] == 0
    assert s3.head_object(Bucket=bucket, Key="empty")["ContentLength"] == 0
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("empty", 0)]


def test_delete_object_then_get_is_no_such_key(s3, bucket):
    s3.put_object(Bucket=bucket, Key="doomed", Body=b"bye")
    resp = s3.delete_object(Bucket=bucket, Key="doomed")
    assert status_of(resp) == 204
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="doomed")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="doomed")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_of_missing_key_is_204(s3, bucket):
    resp = s3.delete_object(Bucket=bucket, Key="never-existed")
    assert status_of(resp) == 204


# -- ranges ---------------------------------------------------------------------------------

RANGE_BODY = random.Random(1024).randbytes(1024)  # not periodic: a wrong offset shows


@pytest.mark.parametrize(
    "range_header, first, last",
    [
        ("bytes=0-0", 0, 0),
        ("bytes=0-9", 0, 9),
        ("bytes=100-199", 100, 199),
        ("bytes=1000-", 1000, 1023),
        ("bytes=0-", 0, 1023),
        ("bytes=-10", 1014, 1023),
        ("bytes=-1", 1023, 1023),
        ("bytes=1020-5000", 1020, 1023),  # end past the object: clipped
        ("bytes=-5000", 0, 1023),  # suffix longer than the object: all of it
        ("bytes=1023-1023", 1023, 1023),
    ],
)
def test_get_with_range_returns_206_and_exact_bytes(s3, bucket, range_header, first, last):
    s3.put_object(Bucket=bucket, Key="ranged", Body=RANGE_BODY)
    resp = s3.get_object(Bucket=bucket, Key="ranged", Range=range_header)
    assert status_of(resp) == 206
    assert resp["ContentRange"] == f"bytes {first}-{last}/{len(RANGE_BODY)}"
    assert resp["ContentLength"] == last - first + 1
    assert resp["Body"].read() == RANGE_BODY[first:last + 1]
    assert resp["ETag"] == quoted_etag(RANGE_BODY)


# -- listing --------------------------------------------------------------------------------


def test_list_objects_v2_returns_sorted_keys_with_sizes_and_etags(s3, bucket):
    bodies = {"b": b"bb", "a": b"a", "c/d": b"ccc"}
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    resp = s3.list_objects_v2(Bucket=bucket)
    assert status_of(resp) == 200
    assert resp["Name"] == bucket
    assert resp["IsTruncated"] is False
    assert resp["KeyCount"] == 3
    assert resp["MaxKeys"] == 1000
    assert [o["Key"] for o in resp["Contents"]] == ["a", "b", "c/d"]
    for o in resp["Contents"]:
        assert o["Size"] == len(bodies[o["Key"]])
        assert o["ETag"] == quoted_etag(bodies[o["Key"]])
        assert isinstance(o["LastModified"], datetime.datetime)


def test_list_empty_bucket(s3, bucket):
    resp = s3.list_objects_v2(Bucket=bucket)
    assert resp["KeyCount"] == 0
    assert resp["IsTruncated"] is False
    assert "Contents" not in resp
    assert "CommonPrefixes" not in resp


@pytest.fixture
def tree(s3, bucket):
    keys = ["a/1", "a/2", "a/b/3", "a/b/c/4", "a1", "b/1", "c"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_list_with_prefix(s3, tree):
    resp = s3.list_objects_v2(Bucket=tree, Prefix="a/")
    assert [o["Key"] for o in resp["Contents"]] == ["a/1", "a/2", "a/b/3", "a/b/c/4"]
    assert resp["Prefix"] == "a/"
    assert resp["KeyCount"] == 4
    resp = s3.list_objects_v2(Bucket=tree, Prefix="a")
    assert [o["Key"] for o in resp["Contents"]] == ["a/1", "a/2", "a/b/3", "a/b/c/4", "a1"]
    resp = s3.list_objects_v2(Bucket=tree, Prefix="zzz")
    assert resp["KeyCount"] == 0
    assert "Contents" not in resp


def test_list_with_delimiter_groups_common_prefixes(s3, tree):
    resp = s3.list_objects_v2(Bucket=tree, Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["a1", "c"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/", "b/"]
    assert resp["Delimiter"] == "/"
    assert resp["KeyCount"] == 4  # keys and common prefixes both count


def test_list_with_prefix_and_delimiter(s3, tree):
    resp = s3.list_objects_v2(Bucket=tree, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/b/"]
    assert resp["KeyCount"] == 3
    resp = s3.list_objects_v2(Bucket=tree, Prefix="a/b/", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["a/b/3"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/b/c/"]


def test_list_pages_with_max_keys_and_continuation_token(s3, bucket):
    keys = [f"page/{i:02d}" for i in range(25)]
    for key in reversed(keys):  # insertion order must not matter
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    collected = []
    page_sizes = []
    token = None
    for _ in range(10):  # 4 pages expected; a bound against a token that never ends
        args = {"Bucket": bucket, "MaxKeys": 7}
        if token:
            args["ContinuationToken"] = token
        resp = s3.list_objects_v2(**args)
        assert resp["MaxKeys"] == 7
        page = [o["Key"] for o in resp.get("Contents", [])]
        assert resp["KeyCount"] == len(page)
        if token:
            assert resp["ContinuationToken"] == token
        collected += page
        page_sizes.append(len(page))
        if not resp["IsTruncated"]:
            assert "NextContinuationToken" not in resp
            break
        token = resp["NextContinuationToken"]
        assert token
    assert page_sizes == [7, 7, 7, 4]
    assert collected == keys


def test_list_pages_with_delimiter_return_each_prefix_once(s3, bucket):
    keys = [f"dir{i}/file" for i in range(5)] + [f"loose{i}" for i in range(4)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b".")
    objects, prefixes, pages = [], [], 0
    token = None
    while True:
        args = {"Bucket": bucket, "Delimiter": "/", "MaxKeys": 2}
        if token:
            args["ContinuationToken"] = token
        resp = s3.list_objects_v2(**args)
        pages += 1
        assert pages <= 10
        page_objects = [o["Key"] for o in resp.get("Contents", [])]
        page_prefixes = [p["Prefix"] for p in resp.get("CommonPrefixes", [])]
        assert resp["KeyCount"] == len(page_objects) + len(page_prefixes)
        assert 1 <= resp["KeyCount"] <= 2
        objects += page_objects
        prefixes += page_prefixes
        if not resp["IsTruncated"]:
            break
        token = resp["NextContinuationToken"]
    assert prefixes == [f"dir{i}/" for i in range(5)]
    assert objects == [f"loose{i}" for i in range(4)]
    assert pages == 5


def test_list_with_start_after(s3, bucket):
    keys = [f"s/{i:02d}" for i in range(12)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="s/05")
    assert [o["Key"] for o in resp["Contents"]] == keys[6:]
    assert resp["StartAfter"] == "s/05"
    assert resp["KeyCount"] == 6
    # StartAfter need not be an existing key.
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="s/05x")
    assert [o["Key"] for o in resp["Contents"]] == keys[6:]
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="s/99")
    assert resp["KeyCount"] == 0
    # StartAfter combined with MaxKeys pages from there.
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="s/02", MaxKeys=3)
    assert [o["Key"] for o in resp["Contents"]] == keys[3:6]
    assert resp["IsTruncated"] is True
    assert list_all_keys(s3, bucket, StartAfter="s/02", MaxKeys=3) == keys[3:]


AWKWARD_KEYS = [
    "with space.txt",
    "  leading and trailing spaces  ",
    "plus+sign+",
    "percent%20literal%",
    "unicodé/ключ/日本語.txt",
    "emoji-\U0001F600",
    "deep/nested/path/to/the/object.bin",
    "trailing-slash/",
    "query?chars&=;#hash",
    "tilde~star*paren(s)'quote\"",
    "xml<escapes>&amp;",
    "dots/../and/./dots",
]


def test_awkward_keys_round_trip_through_put_get_list(s3, bucket):
    for key in AWKWARD_KEYS:
        body = key.encode("utf-8") * 3
        put = s3.put_object(Bucket=bucket, Key=key, Body=body)
        assert put["ETag"] == quoted_etag(body), key
    for key in AWKWARD_KEYS:
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == key.encode("utf-8") * 3, key
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 3 * len(key.encode())
    # S3 sorts keys by their UTF-8 bytes.
    expected = sorted(AWKWARD_KEYS, key=lambda k: k.encode("utf-8"))
    assert list_all_keys(s3, bucket) == expected
    assert list_all_keys(s3, bucket, MaxKeys=5) == expected
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="unicodé/ключ/")
    assert [o["Key"] for o in resp["Contents"]] == ["unicodé/ключ/日本語.txt"]
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="unicodé/", Delimiter="/")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["unicodé/ключ/"]
    for key in AWKWARD_KEYS:
        s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_plus_in_key_is_not_a_space(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a+b", Body=b"plus")
    s3.put_object(Bucket=bucket, Key="a b", Body=b"space")
    assert s3.get_object(Bucket=bucket, Key="a+b")["Body"].read() == b"plus"
    assert s3.get_object(Bucket=bucket, Key="a b")["Body"].read() == b"space"
    assert list_all_keys(s3, bucket) == ["a b", "a+b"]


def test_long_key_of_1024_bytes(s3, bucket):
    key = "k/" + "x" * 1022
    s3.put_object(Bucket=bucket, Key=key, Body=b"long")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"long"
    assert list_all_keys(s3, bucket) == [key]


# -- request ids ----------------------------------------------------------------------------


def test_every_response_has_a_request_id(s3):
    name = unique_name("reqid")
    responses = [
        s3.create_bucket(Bucket=name),
        s3.head_bucket(Bucket=name),
        s3.list_buckets(),
        s3.put_object(Bucket=name, Key="k", Body=b"v"),
        s3.head_object(Bucket=name, Key="k"),
        s3.get_object(Bucket=name, Key="k"),
        s3.get_object(Bucket=name, Key="k", Range="bytes=0-0"),
        s3.list_objects_v2(Bucket=name),
        s3.delete_object(Bucket=name, Key="k"),
        s3.delete_bucket(Bucket=name),
    ]
    ids = []
    for resp in responses:
        if "Body" in resp:
            resp["Body"].read()
        request_id = headers_of(resp).get("x-amz-request-id")
        assert request_id, headers_of(resp)
        ids.append(request_id)
    for call in (lambda: s3.get_object(Bucket=name, Key="k"),
                 lambda: s3.head_bucket(Bucket=name)):
        with pytest.raises(ClientError) as e:
            call()
        request_id = e.value.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id")
        assert request_id
        ids.append(request_id)
    assert len(set(ids)) == len(ids), "request ids must be unique"


def test_md5_helper_matches_known_value():
    # Guards the expectation helpers the other tests rely on.
    assert md5_hex(b"") == "d41d8cd98f00b204e9800998ecf8427e"
    assert quoted_etag(b"abc") == '"900150983cd24fb0d6963f7d28e17f72"'
