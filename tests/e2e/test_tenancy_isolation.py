"""Tenants are isolated: an isolation matrix of every S3 operation that tenant A's keys (its
admin's and its member's) can aim at tenant B's resources, by a plain bucket name only B has,
and by the "tenantB:bucket" form. Each must be refused (AccessDenied, NoSuchBucket, NoSuchKey
or NoSuchUpload) without B's bytes, key names, ETags, tags or upload id in the answer, and must
leave B's data as it was. Same-named buckets (`backups`, `shared-name`) resolve to each
tenant's own objects. Anonymous requests read a public-read bucket through "tenant:bucket",
nothing else, and a plain bucket name means the default tenant.

Requests are raw (sigv4.py) so the tests see every byte of every answer."""

from __future__ import annotations

import dataclasses
import hashlib
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

import sigv4
from admin import Admin, Key, Tenant, code_status, s3_error, wait_for_denial
from harness import REGION, md5_b64, quoted_etag, unique_name

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
REFUSALS = {"AccessDenied", "NoSuchBucket", "NoSuchKey", "NoSuchUpload"}
SHARED_BUCKETS = ("backups", "shared-name")
SHARED_KEYS = ("report.txt", "dir/nested.bin")


@dataclasses.dataclass
class World:
    a: Tenant
    b: Tenant
    b_only: str  # a bucket only B has
    b_only_key: str
    b_pub: str  # B's public-read bucket
    b_pub_key: str
    b_hidden: Dict[str, str]  # bucket -> a key only B's bucket of that name holds
    b_mpu_key: str  # in B's `backups`
    b_upload_id: str
    b_part_etag: str
    b_tag: str
    a_bytes: Dict[Tuple[str, str], bytes]
    b_bytes: Dict[Tuple[str, str], bytes]
    d_bytes: Dict[Tuple[str, str], bytes]  # the default tenant's (root's)
    d_pub: str
    forbidden: List[str]  # strings of B's that A must never see
    b_snapshot: dict

    def key_of(self, who: str) -> Key:
        return self.a.admin if who == "admin" else self.a.member


def b_snapshot(world_b: Tenant, server, buckets: Sequence[str]) -> dict:
    """Everything of B's a leak or a stray write could change, read with B's admin key."""
    s3 = world_b.s3("admin")
    snap: dict = {"buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"])}
    for bucket in buckets:
        objects = {}
        for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            tags = s3.get_object_tagging(Bucket=bucket, Key=o["Key"])["TagSet"]
            objects[o["Key"]] = (o["ETag"], o["Size"], hashlib.sha256(body).hexdigest(),
                                 sorted((t["Key"], t["Value"]) for t in tags))
        uploads = {}
        for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            parts = s3.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
            uploads[(u["Key"], u["UploadId"])] = [(p["PartNumber"], p["ETag"], p["Size"])
                                                  for p in parts.get("Parts", [])]
        snap[bucket] = {"objects": objects, "uploads": uploads}
    snap["usage"] = Admin(server).usage(world_b.name)
    return snap


@pytest.fixture(scope="module")
def world(server) -> World:
    root = Admin(server)
    a = Tenant.create(server, unique_name("ta"))
    b = Tenant.create(server, unique_name("tb"))
    mark = uuid.uuid4().hex[:12]
    a_s3, b_s3, d_s3 = a.s3(), b.s3(), server.client()
    a_bytes, b_bytes, d_bytes = {}, {}, {}
    for bucket in SHARED_BUCKETS:
        a_s3.create_bucket(Bucket=bucket)
        b_s3.create_bucket(Bucket=bucket)
        d_s3.create_bucket(Bucket=bucket)
        for key in SHARED_KEYS:
            a_bytes[(bucket, key)] = f"A-PRIVATE-{mark} {bucket}/{key}".encode()
            b_bytes[(bucket, key)] = f"B-PRIVATE-{mark} {bucket}/{key} (tenant b)".encode()
            d_bytes[(bucket, key)] = f"D-DEFAULT-{mark} {bucket}/{key} (default)".encode()
            a_s3.put_object(Bucket=bucket, Key=key, Body=a_bytes[(bucket, key)],
                            Tagging="owner=a")
            b_s3.put_object(Bucket=bucket, Key=key, Body=b_bytes[(bucket, key)],
                            Tagging=f"owner=btag-{mark}")
            d_s3.put_object(Bucket=bucket, Key=key, Body=d_bytes[(bucket, key)])
    b_hidden = {}
    for bucket in SHARED_BUCKETS:
        b_hidden[bucket] = f"bsecret-{mark}/{bucket}-only-in-b.txt"
        b_bytes[(bucket, b_hidden[bucket])] = f"B-PRIVATE-{mark} hidden in {bucket}".encode()
        b_s3.put_object(Bucket=bucket, Key=b_hidden[bucket],
                        Body=b_bytes[(bucket, b_hidden[bucket])])
    b_only = f"bonly-{mark}"
    b_only_key = f"bsecret-{mark}/in-b-only.bin"
    b_s3.create_bucket(Bucket=b_only)
    b_bytes[(b_only, b_only_key)] = f"B-PRIVATE-{mark} in the bucket only b has".encode()
    b_s3.put_object(Bucket=b_only, Key=b_only_key, Body=b_bytes[(b_only, b_only_key)])
    b_pub = f"bpub-{mark}"
    b_pub_key = f"bsecret-{mark}/public.txt"
    b_s3.create_bucket(Bucket=b_pub, ACL="public-read")
    b_bytes[(b_pub, b_pub_key)] = f"B-PRIVATE-{mark} public to anonymous only".encode()
    b_s3.put_object(Bucket=b_pub, Key=b_pub_key, Body=b_bytes[(b_pub, b_pub_key)])
    b_mpu_key = f"bsecret-{mark}/upload-in-progress.bin"
    b_upload_id = b_s3.create_multipart_upload(Bucket="backups", Key=b_mpu_key)["UploadId"]
    part = f"B-PRIVATE-{mark} part one".encode()
    b_part_etag = b_s3.upload_part(Bucket="backups", Key=b_mpu_key, UploadId=b_upload_id,
                                   PartNumber=1, Body=part)["ETag"]
    # The default tenant: `backups` private, `shared-name` public, and a public bucket.
    root.set_acl("default", "shared-name", "public-read")
    d_pub = f"dpub-{mark}"
    d_s3.create_bucket(Bucket=d_pub)
    root.set_acl("default", d_pub, "public-read")
    d_bytes[(d_pub, "hello.txt")] = f"D-DEFAULT-{mark} public hello".encode()
    d_s3.put_object(Bucket=d_pub, Key="hello.txt", Body=d_bytes[(d_pub, "hello.txt")])
    # A's member may read and write A's shared-name buckets (not B's, of course).
    for bucket in SHARED_BUCKETS:
        root.grant(a.name, a.member.user, bucket, True, True)
    # B's member is granted too, so grants by bucket name cannot leak across tenants either.
    root.grant(b.name, b.member.user, "backups", True, True)

    forbidden = [f"B-PRIVATE-{mark}", f"btag-{mark}", b_only, b_pub, b_upload_id,
                 b_part_etag.strip('"'), b_mpu_key, b_only_key, b_pub_key, *b_hidden.values(),
                 hashlib.md5(part).hexdigest()]
    forbidden += [hashlib.md5(v).hexdigest() for v in b_bytes.values()]
    buckets = [*SHARED_BUCKETS, b_only, b_pub]
    world = World(a, b, b_only, b_only_key, b_pub, b_pub_key, b_hidden, b_mpu_key, b_upload_id,
                  b_part_etag, f"btag-{mark}", a_bytes, b_bytes, d_bytes, d_pub, forbidden, {})
    world.b_snapshot = b_snapshot(b, server, buckets)
    return world


def assert_b_unchanged(world: World, server) -> None:
    now = b_snapshot(world.b, server, [*SHARED_BUCKETS, world.b_only, world.b_pub])
    assert now == world.b_snapshot, "tenant B's data changed"


# -- raw requests ---------------------------------------------------------------------------


@dataclasses.dataclass
class Req:
    method: str
    path: str
    query: Sequence[Tuple[str, str]] = ()
    headers: Optional[Dict[str, str]] = None
    body: bytes = b""

    def text(self) -> str:
        parts = [self.method, self.path, *(f"{k}={v}" for k, v in self.query),
                 *(self.headers or {}).values(), self.body.decode("utf-8", "replace")]
        return "\n".join(parts)


def send_as(server, key: Optional[Key], req: Req) -> sigv4.RawResponse:
    if key is None:
        return sigv4.unsigned_request(server.endpoint, req.method, req.path, query=req.query,
                                      headers=req.headers, body=req.body)
    return sigv4.signed_request(server.endpoint, req.method, req.path,
                                access_key=key.access_key, secret_key=key.secret_key,
                                region=REGION, query=req.query, headers=req.headers,
                                body=req.body)


def leaks(world: World, resp: sigv4.RawResponse, req: Req) -> List[str]:
    """B's strings in the answer (body or headers) that the request did not itself carry."""
    sent = req.text()
    seen = resp.body.decode("utf-8", "replace") + "\n" + "\n".join(
        f"{k}: {v}" for k, v in resp.headers.items())
    return [s for s in world.forbidden if s in seen and s not in sent]


def assert_refused(world: World, resp: sigv4.RawResponse, req: Req,
                   allowed=frozenset(REFUSALS)) -> Optional[str]:
    """A refusal (403/404 with one of the allowed codes), carrying nothing of B's."""
    what = f"{req.method} {req.path} {list(req.query)} {req.headers}"
    assert not leaks(world, resp, req), (what, leaks(world, resp, req), resp.body[:600])
    assert resp.status in (403, 404), (what, resp.status, resp.body[:600])
    if req.method == "HEAD":
        assert not resp.body
        return None
    code = resp.error()["Code"]
    assert code in allowed, (what, resp.status, resp.body[:600])
    assert (code == "AccessDenied") == (resp.status == 403), (what, resp.status, code)
    return code


def delete_xml(*keys: str) -> bytes:
    objs = "".join(f"<Object><Key>{k}</Key></Object>" for k in keys)
    return f"<Delete><Quiet>false</Quiet>{objs}</Delete>".encode()


TAGGING_XML = (b"<Tagging><TagSet><Tag><Key>owner</Key><Value>intruder</Value></Tag>"
               b"</TagSet></Tagging>")


def target_ops(world: World, bucket: str, key: str) -> Dict[str, List[Req]]:
    """Every operation aimed at (bucket, key) of B's, as the raw requests that try it."""
    body = b"A-INTRUDER bytes"
    complete = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
                f"<ETag>{world.b_part_etag}</ETag></Part></CompleteMultipartUpload>").encode()
    upload = [("uploadId", world.b_upload_id)]
    mpu_key = world.b_mpu_key
    return {
        "HeadBucket": [Req("HEAD", f"/{bucket}")],
        "ListObjects": [Req("GET", f"/{bucket}"),
                        Req("GET", f"/{bucket}", [("prefix", key.split("/")[0])])],
        "ListObjectsV2": [Req("GET", f"/{bucket}", [("list-type", "2")]),
                          Req("GET", f"/{bucket}", [("list-type", "2"),
                                                    ("prefix", key.split("/")[0])])],
        "GetBucketLocation": [Req("GET", f"/{bucket}", [("location", "")])],
        "ListMultipartUploads": [Req("GET", f"/{bucket}", [("uploads", "")])],
        "GetBucketAcl": [Req("GET", f"/{bucket}", [("acl", "")])],
        "PutBucketAcl": [Req("PUT", f"/{bucket}", [("acl", "")],
                             {"x-amz-acl": "public-read"})],
        "DeleteBucket": [Req("DELETE", f"/{bucket}")],
        "GetObject": [Req("GET", f"/{bucket}/{key}"),
                      Req("GET", f"/{bucket}/{key}", headers={"Range": "bytes=0-3"})],
        "HeadObject": [Req("HEAD", f"/{bucket}/{key}")],
        "GetObjectTagging": [Req("GET", f"/{bucket}/{key}", [("tagging", "")])],
        "PutObjectTagging": [Req("PUT", f"/{bucket}/{key}", [("tagging", "")],
                                 {"Content-MD5": md5_b64(TAGGING_XML)}, TAGGING_XML)],
        "DeleteObjectTagging": [Req("DELETE", f"/{bucket}/{key}", [("tagging", "")])],
        "PutObject": [Req("PUT", f"/{bucket}/{key}", body=body),
                      Req("PUT", f"/{bucket}/intruder-new.txt", body=body)],
        "DeleteObject": [Req("DELETE", f"/{bucket}/{key}")],
        "DeleteObjects": [Req("POST", f"/{bucket}", [("delete", "")],
                              {"Content-MD5": md5_b64(delete_xml(key))}, delete_xml(key))],
        "CopyObjectInto": [Req("PUT", f"/{bucket}/intruder-copy.txt",
                               headers={"x-amz-copy-source": "backups/report.txt"})],
        "CreateMultipartUpload": [Req("POST", f"/{bucket}/{key}", [("uploads", "")])],
        "UploadPart": [Req("PUT", f"/{bucket}/{mpu_key}", [("partNumber", "2"), *upload],
                           body=body),
                       Req("PUT", f"/{bucket}/{key}", [("partNumber", "1"), *upload],
                           body=body)],
        "ListParts": [Req("GET", f"/{bucket}/{mpu_key}", upload),
                      Req("GET", f"/{bucket}/{key}", upload)],
        "CompleteMultipartUpload": [Req("POST", f"/{bucket}/{mpu_key}", upload, body=complete)],
        "AbortMultipartUpload": [Req("DELETE", f"/{bucket}/{mpu_key}", upload)],
        "UploadPartCopyInto": [Req("PUT", f"/{bucket}/{mpu_key}",
                                   [("partNumber", "2"), *upload],
                                   {"x-amz-copy-source": "backups/report.txt"})],
    }


OPS = ["HeadBucket", "ListObjects", "ListObjectsV2", "GetBucketLocation", "ListMultipartUploads",
       "GetBucketAcl", "PutBucketAcl", "DeleteBucket", "GetObject", "HeadObject",
       "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging", "PutObject",
       "DeleteObject", "DeleteObjects", "CopyObjectInto", "CreateMultipartUpload", "UploadPart",
       "ListParts", "CompleteMultipartUpload", "AbortMultipartUpload", "UploadPartCopyInto",
       "PresignedGet", "CreateBucket"]

# B's resources as A's keys can name them: a plain name only B has, and "tenantB:bucket".
TARGETS = ["b-only", "tb:backups", "tb:shared-name", "tb:b-only", "tb:public"]


def resolve(world: World, target: str) -> Tuple[str, str]:
    tb = world.b.name
    return {
        "b-only": (world.b_only, world.b_only_key),
        "tb:backups": (f"{tb}:backups", "report.txt"),
        "tb:shared-name": (f"{tb}:shared-name", world.b_hidden["shared-name"]),
        "tb:b-only": (f"{tb}:{world.b_only}", world.b_only_key),
        "tb:public": (f"{tb}:{world.b_pub}", world.b_pub_key),
    }[target]


# -- the matrix: A's keys against B's resources ---------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("who", ["admin", "member"])
def test_tenant_a_keys_get_nothing_of_tenant_b(server, world, who, op, target):
    bucket, key = resolve(world, target)
    a_key = world.key_of(who)
    answers = []  # (request, answer): all are sent before any is judged
    if op == "PresignedGet":
        for path in (f"/{bucket}/{key}", f"/{bucket}"):
            url = sigv4.presign_url(method="GET", endpoint=server.endpoint, path=path,
                                    access_key=a_key.access_key, secret_key=a_key.secret_key,
                                    region=REGION, expires=300)
            answers.append((Req("GET", path, [("url", url)]), sigv4.fetch_url(url)))
    elif op == "CreateBucket" and not target.startswith("tb:"):
        # A plain name only B has is free in A's namespace: A's admin gets a bucket of its own,
        # empty, and B's is untouched. (A's member may create no bucket at all.)
        req = Req("PUT", f"/{bucket}")
        resp = send_as(server, a_key, req)
        assert not leaks(world, resp, req)
        if who == "member":
            assert_refused(world, resp, req, allowed={"AccessDenied"})
        else:
            assert resp.status == 200, resp.body[:500]
            a_s3 = world.a.s3("admin")
            try:
                assert a_s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
                assert a_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
            finally:
                a_s3.delete_bucket(Bucket=bucket)
        assert_b_unchanged(world, server)
        return
    elif op == "CreateBucket":
        for name in (bucket, f"{world.b.name}:{unique_name('fresh')}"):
            req = Req("PUT", f"/{name}")
            answers.append((req, send_as(server, a_key, req)))
    else:
        for req in target_ops(world, bucket, key)[op]:
            answers.append((req, send_as(server, a_key, req)))
    # First what matters most: B's data is as it was, and A gained no bucket.
    if op not in ("HeadBucket", "HeadObject", "GetObject", "ListObjects", "ListObjectsV2",
                  "GetBucketLocation", "ListMultipartUploads", "GetBucketAcl", "ListParts",
                  "GetObjectTagging", "PresignedGet"):
        assert_b_unchanged(world, server)
    assert sorted(b["Name"] for b in world.a.s3("admin").list_buckets()["Buckets"]) == \
        sorted(SHARED_BUCKETS)
    for req, resp in answers:
        assert_refused(world, resp, req)


SOURCES = ["b-only", "tb:backups", "tb:shared-name", "tb:b-only", "tb:public", "hidden"]


def resolve_source(world: World, source: str) -> str:
    if source == "hidden":
        # B's key in the same-named bucket: A's `backups` has no such key.
        return f"backups/{world.b_hidden['backups']}"
    bucket, key = resolve(world, source)
    return f"{bucket}/{key}"


@pytest.mark.parametrize("encoded", [False, True], ids=["literal", "url-encoded"])
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("who", ["admin", "member"])
def test_copy_object_from_tenant_b_is_refused(server, world, who, source, encoded):
    a_key = world.key_of(who)
    src = resolve_source(world, source)
    header = urllib.parse.quote(src, safe="/") if encoded else src
    dest = unique_name("stolen")
    req = Req("PUT", f"/backups/{dest}", headers={"x-amz-copy-source": header})
    resp = send_as(server, a_key, req)
    assert_refused(world, resp, req)
    admin_s3 = world.a.s3("admin")
    assert code_status(s3_error(lambda: admin_s3.head_object(Bucket="backups", Key=dest))) == \
        ("404", 404)
    assert_b_unchanged(world, server)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("who", ["admin", "member"])
def test_upload_part_copy_from_tenant_b_is_refused(server, world, who, source):
    a_key = world.key_of(who)
    a_s3 = world.a.s3(who)
    dest = unique_name("stolen-mpu")
    upload_id = a_s3.create_multipart_upload(Bucket="backups", Key=dest)["UploadId"]
    try:
        for header in (resolve_source(world, source),
                       urllib.parse.quote(resolve_source(world, source), safe="/")):
            for extra in ({}, {"x-amz-copy-source-range": "bytes=0-3"}):
                req = Req("PUT", f"/backups/{dest}",
                          [("partNumber", "1"), ("uploadId", upload_id)],
                          {"x-amz-copy-source": header, **extra})
                resp = send_as(server, a_key, req)
                assert_refused(world, resp, req)
        parts = a_s3.list_parts(Bucket="backups", Key=dest, UploadId=upload_id)
        assert parts.get("Parts", []) == [], "a refused UploadPartCopy left a part"
    finally:
        a_s3.abort_multipart_upload(Bucket="backups", Key=dest, UploadId=upload_id)
    assert_b_unchanged(world, server)


@pytest.mark.parametrize("who", ["admin", "member"])
def test_list_buckets_shows_only_tenant_a_buckets(server, world, who):
    req = Req("GET", "/")
    resp = send_as(server, world.key_of(who), req)
    assert resp.status == 200, resp.body[:500]
    assert not leaks(world, resp, req), leaks(world, resp, req)
    names = sorted(e.text for e in ET.fromstring(resp.body).iter(f"{NS}Name"))
    assert names == sorted(SHARED_BUCKETS)
    assert sorted(b["Name"] for b in world.a.s3(who).list_buckets()["Buckets"]) == \
        sorted(SHARED_BUCKETS)
    assert sorted(b["Name"] for b in world.b.s3("admin").list_buckets()["Buckets"]) == \
        sorted([*SHARED_BUCKETS, world.b_only, world.b_pub])
    # B's member sees its one granted bucket; root (tenant default) sees the default's.
    assert [b["Name"] for b in world.b.s3("member").list_buckets()["Buckets"]] == ["backups"]
    root_names = [b["Name"] for b in server.client().list_buckets()["Buckets"]]
    assert world.b_only not in root_names and world.b_pub not in root_names


# -- same-named buckets resolve to each tenant's own ----------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
def test_same_named_buckets_resolve_to_each_tenants_own_objects(server, world, who):
    a_s3, b_s3, d_s3 = world.a.s3(who), world.b.s3("admin"), server.client()
    for bucket in SHARED_BUCKETS:
        for key in SHARED_KEYS:
            for s3, data in ((a_s3, world.a_bytes), (b_s3, world.b_bytes),
                             (d_s3, world.d_bytes)):
                got = s3.get_object(Bucket=bucket, Key=key)
                assert got["Body"].read() == data[(bucket, key)], (bucket, key)
                assert got["ETag"] == quoted_etag(data[(bucket, key)])
                assert s3.head_object(Bucket=bucket, Key=key)["ETag"] == \
                    quoted_etag(data[(bucket, key)])
            assert a_s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == \
                [{"Key": "owner", "Value": "a"}]
        listed = sorted(o["Key"] for o in a_s3.list_objects_v2(Bucket=bucket)["Contents"])
        assert listed == sorted(SHARED_KEYS), "A's listing holds only A's keys"
        listed_v1 = sorted(o["Key"] for o in a_s3.list_objects(Bucket=bucket)["Contents"])
        assert listed_v1 == sorted(SHARED_KEYS)
        hidden = world.b_hidden[bucket]
        assert "Contents" not in a_s3.list_objects_v2(Bucket=bucket, Prefix="bsecret-")
        assert "Contents" not in a_s3.list_objects(Bucket=bucket, Prefix="bsecret-")
        assert code_status(s3_error(lambda: a_s3.get_object(Bucket=bucket, Key=hidden))) == \
            ("NoSuchKey", 404)
        assert code_status(s3_error(lambda: a_s3.head_object(Bucket=bucket, Key=hidden))) == \
            ("404", 404)
        assert code_status(s3_error(
            lambda: a_s3.get_object_tagging(Bucket=bucket, Key=hidden)))[0] == "NoSuchKey"
        assert b_s3.get_object(Bucket=bucket, Key=hidden)["Body"].read() == \
            world.b_bytes[(bucket, hidden)]
    # B's upload in progress is not A's: invisible, and its id means nothing in A's `backups`.
    assert a_s3.list_multipart_uploads(Bucket="backups").get("Uploads", []) == []
    up = dict(Bucket="backups", Key=world.b_mpu_key, UploadId=world.b_upload_id)
    for call in (lambda: a_s3.list_parts(**up),
                 lambda: a_s3.upload_part(PartNumber=2, Body=b"A-INTRUDER", **up),
                 lambda: a_s3.complete_multipart_upload(
                     MultipartUpload={"Parts": [{"PartNumber": 1,
                                                 "ETag": world.b_part_etag}]}, **up),
                 lambda: a_s3.abort_multipart_upload(**up)):
        assert code_status(s3_error(call)) == ("NoSuchUpload", 404)
    assert [u["UploadId"] for u in b_s3.list_multipart_uploads(Bucket="backups")["Uploads"]] \
        == [world.b_upload_id]
    assert_b_unchanged(world, server)


@pytest.mark.parametrize("who", ["admin", "member"])
def test_writes_to_a_same_named_bucket_touch_only_the_writers_tenant(server, world, who):
    a_s3, b_s3 = world.a.s3(who), world.b.s3("admin")
    key = unique_name("both")
    b_s3.put_object(Bucket="shared-name", Key=key, Body=b"B-side object")
    a_s3.put_object(Bucket="shared-name", Key=key, Body=b"A-side object")
    assert b_s3.get_object(Bucket="shared-name", Key=key)["Body"].read() == b"B-side object"
    assert a_s3.get_object(Bucket="shared-name", Key=key)["Body"].read() == b"A-side object"
    # A copies within its own `shared-name`: the source is A's object, never B's.
    a_s3.copy_object(Bucket="shared-name", Key=key + ".copy",
                     CopySource={"Bucket": "shared-name", "Key": "report.txt"})
    assert a_s3.get_object(Bucket="shared-name", Key=key + ".copy")["Body"].read() == \
        world.a_bytes[("shared-name", "report.txt")]
    up = a_s3.create_multipart_upload(Bucket="shared-name", Key=key + ".mpu")["UploadId"]
    part = a_s3.upload_part_copy(Bucket="shared-name", Key=key + ".mpu", UploadId=up,
                                 PartNumber=1,
                                 CopySource={"Bucket": "shared-name", "Key": "report.txt"})
    a_s3.complete_multipart_upload(
        Bucket="shared-name", Key=key + ".mpu", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1,
                                    "ETag": part["CopyPartResult"]["ETag"]}]})
    assert a_s3.get_object(Bucket="shared-name", Key=key + ".mpu")["Body"].read() == \
        world.a_bytes[("shared-name", "report.txt")]
    # A's deletes remove A's objects only.
    a_s3.delete_object(Bucket="shared-name", Key=key)
    a_s3.delete_objects(Bucket="shared-name", Delete={"Objects": [{"Key": key + ".copy"},
                                                                 {"Key": key + ".mpu"}]})
    assert b_s3.get_object(Bucket="shared-name", Key=key)["Body"].read() == b"B-side object"
    assert code_status(s3_error(lambda: a_s3.head_object(Bucket="shared-name", Key=key))) == \
        ("404", 404)
    b_s3.delete_object(Bucket="shared-name", Key=key)
    assert_b_unchanged(world, server)


def test_denials_of_tenant_a_are_recorded_with_a_principal(server, world):
    req = Req("GET", f"/{world.b.name}:backups/report.txt")
    resp = send_as(server, world.a.admin, req)
    assert assert_refused(world, resp, req) == "AccessDenied"
    event = wait_for_denial(server, world.a.admin.access_key, "GetObject",
                            "/backups/report.txt")
    assert event["payload"]["reason"], event


# -- anonymous ------------------------------------------------------------------------------


def test_anonymous_reads_b_public_bucket_through_tenant_prefix(server, world):
    bucket = f"{world.b.name}:{world.b_pub}"
    data = world.b_bytes[(world.b_pub, world.b_pub_key)]
    got = sigv4.unsigned_request(server.endpoint, "GET", f"/{bucket}/{world.b_pub_key}")
    assert got.status == 200, got.body[:500]
    assert got.body == data
    assert got.header("ETag") == quoted_etag(data)
    head = sigv4.unsigned_request(server.endpoint, "HEAD", f"/{bucket}/{world.b_pub_key}")
    assert head.status == 200 and head.header("Content-Length") == str(len(data))
    for query in ([], [("list-type", "2")], [("prefix", "bsecret-")],
                  [("list-type", "2"), ("prefix", "bsecret-")]):
        listed = sigv4.unsigned_request(server.endpoint, "GET", f"/{bucket}", query=query)
        assert listed.status == 200, (query, listed.body[:500])
        keys = [e.text for e in ET.fromstring(listed.body).iter(f"{NS}Key")]
        assert keys == [world.b_pub_key], (query, keys)


@pytest.mark.parametrize("target", ["tb:backups", "tb:shared-name", "tb:b-only"])
def test_anonymous_is_denied_on_b_private_buckets(server, world, target):
    bucket, key = resolve(world, target)
    for req in (Req("GET", f"/{bucket}/{key}"), Req("HEAD", f"/{bucket}/{key}"),
                Req("GET", f"/{bucket}"), Req("GET", f"/{bucket}", [("list-type", "2")]),
                Req("HEAD", f"/{bucket}"), Req("GET", f"/{bucket}/{key}", [("tagging", "")]),
                Req("GET", f"/{bucket}", [("uploads", "")])):
        resp = send_as(server, None, req)
        assert resp.status == 403, (req, resp.status, resp.body[:500])
        assert_refused(world, resp, req, allowed={"AccessDenied"})


@pytest.mark.parametrize("bucket_of", ["b-public", "default-public"])
def test_anonymous_writes_are_denied_everywhere(server, world, bucket_of):
    if bucket_of == "b-public":
        bucket, key = f"{world.b.name}:{world.b_pub}", world.b_pub_key
    else:
        bucket, key = world.d_pub, "hello.txt"
    reqs = [op for name, ops in target_ops(world, bucket, key).items()
            if name not in ("HeadBucket", "ListObjects", "ListObjectsV2", "GetObject",
                            "HeadObject")
            for op in ops]
    reqs.append(Req("PUT", f"/{world.b.name}:{unique_name('anon')}"))
    reqs.append(Req("PUT", f"/{unique_name('anon')}"))
    for req in reqs:
        resp = send_as(server, None, req)
        assert resp.status == 403, (req, resp.status, resp.body[:500])
        assert_refused(world, resp, req, allowed={"AccessDenied"})
    assert_b_unchanged(world, server)
    d_s3 = server.client()
    assert d_s3.get_object(Bucket=world.d_pub, Key="hello.txt")["Body"].read() == \
        world.d_bytes[(world.d_pub, "hello.txt")]
    assert [o["Key"] for o in d_s3.list_objects_v2(Bucket=world.d_pub)["Contents"]] == \
        ["hello.txt"]
    assert sorted(b["Name"] for b in world.b.s3().list_buckets()["Buckets"]) == \
        sorted([*SHARED_BUCKETS, world.b_only, world.b_pub])


def test_anonymous_plain_names_mean_the_default_tenant(server, world):
    # The default tenant's public buckets, by plain name and by "default:".
    for bucket in (world.d_pub, f"default:{world.d_pub}"):
        got = sigv4.unsigned_request(server.endpoint, "GET", f"/{bucket}/hello.txt")
        assert got.status == 200, (bucket, got.body[:500])
        assert got.body == world.d_bytes[(world.d_pub, "hello.txt")]
    # `shared-name` is public in the default tenant: its objects, never A's or B's.
    got = sigv4.unsigned_request(server.endpoint, "GET", "/shared-name/report.txt")
    assert got.status == 200, got.body[:500]
    assert got.body == world.d_bytes[("shared-name", "report.txt")]
    listed = sigv4.unsigned_request(server.endpoint, "GET", "/shared-name",
                                    query=[("list-type", "2")])
    assert listed.status == 200
    assert sorted(e.text for e in ET.fromstring(listed.body).iter(f"{NS}Key")) == \
        sorted(SHARED_KEYS)
    assert not leaks(world, listed, Req("GET", "/shared-name"))
    # `backups` is private in the default tenant (public nowhere): denied, whoever else has one.
    for path in ("/backups/report.txt", "/backups", f"/{world.a.name}:backups/report.txt",
                 f"/{world.a.name}:shared-name/report.txt"):
        req = Req("GET", path)
        resp = send_as(server, None, req)
        assert resp.status == 403, (path, resp.status, resp.body[:500])
        assert_refused(world, resp, req, allowed={"AccessDenied"})
        for data in (*world.a_bytes.values(), *world.d_bytes.values()):
            assert data not in resp.body
    # B's public bucket by its plain name is a (missing) bucket of the default tenant.
    for req in (Req("GET", f"/{world.b_pub}/{world.b_pub_key}"), Req("GET", f"/{world.b_pub}"),
                Req("HEAD", f"/{world.b_pub}/{world.b_pub_key}")):
        resp = send_as(server, None, req)
        assert_refused(world, resp, req, allowed={"AccessDenied", "NoSuchBucket"})
    # After B makes its bucket private, anonymous reads through "tb:" stop.
    root = Admin(server)
    tb_pub = f"{world.b.name}:{world.b_pub}"
    try:
        root.set_acl(world.b.name, world.b_pub, "private")
        resp = sigv4.unsigned_request(server.endpoint, "GET", f"/{tb_pub}/{world.b_pub_key}")
        assert resp.status == 403 and resp.error()["Code"] == "AccessDenied", resp.body[:300]
    finally:
        root.set_acl(world.b.name, world.b_pub, "public-read")
    resp = sigv4.unsigned_request(server.endpoint, "GET", f"/{tb_pub}/{world.b_pub_key}")
    assert resp.status == 200 and resp.body == world.b_bytes[(world.b_pub, world.b_pub_key)]
