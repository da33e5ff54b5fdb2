"""Roles and grants: a member uses only the buckets it is granted (read and/or write), never
creates, deletes or opens buckets to the public, and lists only its granted buckets; a grant
removed denies on the very next request. A tenant admin runs its own tenant through the admin
API (users, keys, grants, ACLs, usage) but not another tenant's, and not quotas. Every denial
is an access_denied event naming who tried what on which resource."""

from __future__ import annotations


import pytest

import sigv4
from admin import Admin, Tenant, code_status, s3_error, wait_for_denial
from harness import REGION, unique_name



@pytest.fixture
def tenant(server) -> Tenant:
    """A fresh tenant with an admin and a member, and a bucket `data` holding `seed.txt`."""
    t = Tenant.create(server)
    s3 = t.s3("admin")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="seed.txt", Body=b"seed bytes")
    return t


def denied(call) -> None:
    assert code_status(s3_error(call)) == ("AccessDenied", 403)


def denied_head(call) -> None:
    # HEAD answers carry no body: botocore reports the status only.
    assert code_status(s3_error(call)) == ("403", 403)


def bucket_names(s3) -> list:
    return sorted(b["Name"] for b in s3.list_buckets()["Buckets"])


def anonymous_get(server, tenant: str, bucket: str, key: str) -> sigv4.RawResponse:
    return sigv4.unsigned_request(server.endpoint, "GET", f"/{tenant}:{bucket}/{key}")


# -- members --------------------------------------------------------------------------------


def test_member_without_a_grant_is_denied_and_each_denial_is_an_event(server, tenant):
    m = tenant.s3("member")
    denied(lambda: m.get_object(Bucket="data", Key="seed.txt"))
    denied(lambda: m.put_object(Bucket="data", Key="new.txt", Body=b"x"))
    denied(lambda: m.list_objects_v2(Bucket="data"))
    denied(lambda: m.list_objects(Bucket="data"))
    denied_head(lambda: m.head_object(Bucket="data", Key="seed.txt"))
    denied(lambda: m.delete_object(Bucket="data", Key="seed.txt"))
    assert bucket_names(m) == []
    admin_s3 = tenant.s3("admin")
    assert [o["Key"] for o in admin_s3.list_objects_v2(Bucket="data")["Contents"]] == \
        ["seed.txt"]
    who = tenant.member.access_key
    for action, resource in (("GetObject", "/data/seed.txt"), ("PutObject", "/data/new.txt"),
                             ("ListObjectsV2", "/data"), ("ListObjects", "/data"),
                             ("HeadObject", "/data/seed.txt"),
                             ("DeleteObject", "/data/seed.txt")):
        event = wait_for_denial(server, who, action, resource)
        assert event["tenant"] == tenant.name, event
        assert event["payload"]["reason"], event


def test_read_grant_allows_reads_and_denies_writes(server, tenant):
    Admin(server).grant(tenant.name, tenant.member.user, "data", read=True, write=False)
    m = tenant.s3("member")
    assert m.get_object(Bucket="data", Key="seed.txt")["Body"].read() == b"seed bytes"
    assert m.head_object(Bucket="data", Key="seed.txt")["ContentLength"] == 10
    assert [o["Key"] for o in m.list_objects_v2(Bucket="data")["Contents"]] == ["seed.txt"]
    assert [o["Key"] for o in m.list_objects(Bucket="data")["Contents"]] == ["seed.txt"]
    assert m.get_object_tagging(Bucket="data", Key="seed.txt")["TagSet"] == []
    denied(lambda: m.put_object(Bucket="data", Key="new.txt", Body=b"x"))
    denied(lambda: m.delete_object(Bucket="data", Key="seed.txt"))
    denied(lambda: m.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "seed.txt"}]}))
    denied(lambda: m.put_object_tagging(Bucket="data", Key="seed.txt",
                                        Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}))
    denied(lambda: m.create_multipart_upload(Bucket="data", Key="big.bin"))
    denied(lambda: m.copy_object(Bucket="data", Key="copy.txt",
                                 CopySource={"Bucket": "data", "Key": "seed.txt"}))
    admin_s3 = tenant.s3("admin")
    assert [o["Key"] for o in admin_s3.list_objects_v2(Bucket="data")["Contents"]] == \
        ["seed.txt"]
    assert admin_s3.get_object_tagging(Bucket="data", Key="seed.txt")["TagSet"] == []
    wait_for_denial(server, tenant.member.access_key, "PutObject", "/data/new.txt")
    wait_for_denial(server, tenant.member.access_key, "DeleteObjects", "/data")


def test_write_grant_allows_writes(server, tenant):
    Admin(server).grant(tenant.name, tenant.member.user, "data", read=False, write=True)
    m = tenant.s3("member")
    m.put_object(Bucket="data", Key="new.txt", Body=b"member wrote this")
    m.put_object_tagging(Bucket="data", Key="new.txt",
                         Tagging={"TagSet": [{"Key": "by", "Value": "member"}]})
    up = m.create_multipart_upload(Bucket="data", Key="mpu.bin")["UploadId"]
    etag = m.upload_part(Bucket="data", Key="mpu.bin", UploadId=up, PartNumber=1,
                         Body=b"part")["ETag"]
    m.complete_multipart_upload(Bucket="data", Key="mpu.bin", UploadId=up,
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    m.delete_object(Bucket="data", Key="seed.txt")
    admin_s3 = tenant.s3("admin")
    assert admin_s3.get_object(Bucket="data", Key="new.txt")["Body"].read() == \
        b"member wrote this"
    assert admin_s3.get_object_tagging(Bucket="data", Key="new.txt")["TagSet"] == \
        [{"Key": "by", "Value": "member"}]
    assert admin_s3.get_object(Bucket="data", Key="mpu.bin")["Body"].read() == b"part"
    assert sorted(o["Key"] for o in admin_s3.list_objects_v2(Bucket="data")["Contents"]) == \
        ["mpu.bin", "new.txt"]
    # A write-only grant does not read.
    denied(lambda: m.get_object(Bucket="data", Key="new.txt"))
    denied(lambda: m.list_objects_v2(Bucket="data"))


def test_read_write_grant_and_copy_needs_read_on_the_source(server, tenant):
    root = Admin(server)
    admin_s3 = tenant.s3("admin")
    admin_s3.create_bucket(Bucket="secret")
    admin_s3.put_object(Bucket="secret", Key="plans.txt", Body=b"not for members")
    root.grant(tenant.name, tenant.member.user, "data", read=True, write=True)
    m = tenant.s3("member")
    m.copy_object(Bucket="data", Key="copy.txt", CopySource={"Bucket": "data", "Key": "seed.txt"})
    assert m.get_object(Bucket="data", Key="copy.txt")["Body"].read() == b"seed bytes"
    # Writing into `data` does not make `secret` readable through a copy.
    denied(lambda: m.copy_object(Bucket="data", Key="stolen.txt",
                                 CopySource={"Bucket": "secret", "Key": "plans.txt"}))
    up = m.create_multipart_upload(Bucket="data", Key="stolen.bin")["UploadId"]
    denied(lambda: m.upload_part_copy(Bucket="data", Key="stolen.bin", UploadId=up,
                                      PartNumber=1,
                                      CopySource={"Bucket": "secret", "Key": "plans.txt"}))
    assert m.list_parts(Bucket="data", Key="stolen.bin", UploadId=up).get("Parts", []) == []
    m.abort_multipart_upload(Bucket="data", Key="stolen.bin", UploadId=up)
    assert code_status(s3_error(lambda: admin_s3.head_object(Bucket="data",
                                                             Key="stolen.txt"))) == ("404", 404)
    # Both refusals are denials, recorded like the others, naming what was refused: the source.
    missing = []
    for action, resource in (("CopyObject", "/secret/plans.txt"),
                             ("UploadPartCopy", "/secret/plans.txt")):
        try:
            wait_for_denial(server, tenant.member.access_key, action, resource, timeout=5.0)
        except AssertionError as e:
            missing.append(str(e))
    assert not missing, "\n".join(missing)


def test_members_cannot_create_delete_or_publish_buckets(server, tenant):
    Admin(server).grant(tenant.name, tenant.member.user, "data", read=True, write=True)
    m = tenant.s3("member")
    name = unique_name("mine")
    denied(lambda: m.create_bucket(Bucket=name))
    denied(lambda: m.create_bucket(Bucket=unique_name("pub"), ACL="public-read"))
    denied(lambda: m.delete_bucket(Bucket="data"))
    denied(lambda: m.put_bucket_acl(Bucket="data", ACL="public-read"))
    admin_s3 = tenant.s3("admin")
    assert bucket_names(admin_s3) == ["data"]
    assert anonymous_get(server, tenant.name, "data", "seed.txt").status == 403
    who = tenant.member.access_key
    wait_for_denial(server, who, "CreateBucket", f"/{name}")
    wait_for_denial(server, who, "DeleteBucket", "/data")
    wait_for_denial(server, who, "PutBucketAcl", "/data")
    # Its admin may do all three.
    admin_s3.put_bucket_acl(Bucket="data", ACL="public-read")
    got = anonymous_get(server, tenant.name, "data", "seed.txt")
    assert got.status == 200 and got.body == b"seed bytes"
    admin_s3.put_bucket_acl(Bucket="data", ACL="private")
    assert anonymous_get(server, tenant.name, "data", "seed.txt").status == 403
    admin_s3.create_bucket(Bucket=name, ACL="public-read")
    admin_s3.put_object(Bucket=name, Key="hello", Body=b"hi")
    got = anonymous_get(server, tenant.name, name, "hello")
    assert got.status == 200 and got.body == b"hi"
    admin_s3.delete_object(Bucket=name, Key="hello")
    admin_s3.delete_bucket(Bucket=name)
    assert bucket_names(admin_s3) == ["data"]


def test_list_buckets_shows_a_member_only_its_granted_buckets(server, tenant):
    root = Admin(server)
    admin_s3 = tenant.s3("admin")
    for name in ("readable", "writable", "hidden"):
        admin_s3.create_bucket(Bucket=name)
    root.grant(tenant.name, tenant.member.user, "readable", read=True, write=False)
    root.grant(tenant.name, tenant.member.user, "writable", read=False, write=True)
    m = tenant.s3("member")
    assert bucket_names(m) == ["readable", "writable"]
    assert bucket_names(admin_s3) == ["data", "hidden", "readable", "writable"]
    raw = sigv4.signed_request(server.endpoint, "GET", "/", access_key=tenant.member.access_key,
                               secret_key=tenant.member.secret_key, region=REGION)
    assert b"hidden" not in raw.body and b"<Name>data</Name>" not in raw.body
    denied_head(lambda: m.head_bucket(Bucket="hidden"))
    root.grant(tenant.name, tenant.member.user, "readable", read=False, write=False)
    assert bucket_names(m) == ["writable"]
    grants = root.grants(tenant.name)
    assert [(g["user"], g["bucket"], g["read"], g["write"]) for g in grants] == \
        [(tenant.member.user, "writable", False, True)]


def test_removing_a_grant_denies_on_the_next_request(server, tenant):
    root = Admin(server)
    root.grant(tenant.name, tenant.member.user, "data", read=True, write=True)
    m = tenant.s3("member")  # one client, one kept-alive connection throughout
    assert m.get_object(Bucket="data", Key="seed.txt")["Body"].read() == b"seed bytes"
    m.put_object(Bucket="data", Key="w1", Body=b"1")
    root.grant(tenant.name, tenant.member.user, "data", read=True, write=False)
    denied(lambda: m.put_object(Bucket="data", Key="w2", Body=b"2"))
    assert m.get_object(Bucket="data", Key="w1")["Body"].read() == b"1"
    root.grant(tenant.name, tenant.member.user, "data", read=False, write=False)
    denied(lambda: m.get_object(Bucket="data", Key="seed.txt"))
    denied(lambda: m.list_objects_v2(Bucket="data"))
    assert bucket_names(m) == []
    assert root.grants(tenant.name) == []
    root.grant(tenant.name, tenant.member.user, "data", read=True, write=False)
    assert m.get_object(Bucket="data", Key="seed.txt")["Body"].read() == b"seed bytes"


def test_grants_name_buckets_of_their_own_tenant_only(server, tenant):
    other = Tenant.create(server)
    other.s3("admin").create_bucket(Bucket="data")
    other.s3("admin").put_object(Bucket="data", Key="seed.txt", Body=b"other tenant")
    Admin(server).grant(tenant.name, tenant.member.user, "data", read=True, write=True)
    m = tenant.s3("member")
    assert m.get_object(Bucket="data", Key="seed.txt")["Body"].read() == b"seed bytes"
    # The other tenant's member has no grant on its own `data` because of ours.
    denied(lambda: other.s3("member").get_object(Bucket="data", Key="seed.txt"))


# -- tenant admins on the admin API ---------------------------------------------------------


def test_tenant_admin_manages_its_own_tenant(server, tenant):
    api = tenant.admin_api()
    assert api.tenant(tenant.name)["name"] == tenant.name
    assert api.usage(tenant.name) == {"bytes": 10, "objects": 1, "buckets": 1}
    api.create_user(tenant.name, "carol", "member")
    assert sorted(u["name"] for u in api.users(tenant.name)) == ["boss", "carol", "worker"]
    key = api.create_key(tenant.name, "carol")
    assert key["tenant"] == tenant.name and key["user"] == "carol"
    assert key["access_key"] in [k["access_key"] for k in api.keys(tenant.name)]
    assert all("secret_key" not in k for k in api.keys(tenant.name))
    carol = server.client(key["access_key"], key["secret_key"])
    denied(lambda: carol.get_object(Bucket="data", Key="seed.txt"))
    assert api.grant(tenant.name, "carol", "data", True, False) == \
        {"user": "carol", "bucket": "data", "read": True, "write": False}
    assert carol.get_object(Bucket="data", Key="seed.txt")["Body"].read() == b"seed bytes"
    assert {"user": "carol", "bucket": "data", "read": True, "write": False} in \
        api.grants(tenant.name)
    assert api.set_acl(tenant.name, "data", "public-read") == \
        {"bucket": "data", "acl": "public-read"}
    assert anonymous_get(server, tenant.name, "data", "seed.txt").body == b"seed bytes"
    api.set_acl(tenant.name, "data", "private")
    assert anonymous_get(server, tenant.name, "data", "seed.txt").status == 403
    changed = api.patch_key(key["access_key"], enabled=False)
    assert changed["enabled"] is False
    assert code_status(s3_error(lambda: carol.list_buckets()))[0] == "InvalidAccessKeyId"
    api.patch_key(key["access_key"], enabled=True)
    assert bucket_names(carol) == ["data"]
    api.delete_key(key["access_key"])
    api.delete_user(tenant.name, "carol")
    assert sorted(u["name"] for u in api.users(tenant.name)) == ["boss", "worker"]


def test_members_keys_are_refused_by_the_admin_api(server, tenant):
    api = Admin(server, tenant.member.access_key, tenant.member.secret_key)
    for method, path, body in (("GET", f"/tenants/{tenant.name}", None),
                               ("GET", f"/tenants/{tenant.name}/users", None),
                               ("PUT", f"/tenants/{tenant.name}/grants",
                                {"user": tenant.member.user, "bucket": "data", "read": True,
                                 "write": True})):
        resp = api.call(method, path, body)
        assert (resp.status, resp.code) == (403, "AccessDenied"), (method, path, resp)
    assert Admin(server).grants(tenant.name) == []


def test_tenant_admin_is_refused_other_tenants_and_quotas(server, tenant):
    other = Tenant.create(server)
    root = Admin(server)
    api = tenant.admin_api()
    o = other.name
    attempts = [
        ("GET", f"/tenants/{o}", None),
        ("GET", f"/tenants/{o}/usage", None),
        ("GET", f"/tenants/{o}/users", None),
        ("POST", f"/tenants/{o}/users", {"name": "mallory", "role": "admin"}),
        ("DELETE", f"/tenants/{o}/users/{other.member.user}", None),
        ("POST", f"/tenants/{o}/users/{other.admin.user}/keys", {}),
        ("GET", f"/tenants/{o}/keys", None),
        ("GET", f"/tenants/{o}/grants", None),
        ("PUT", f"/tenants/{o}/grants", {"user": other.member.user, "bucket": "data",
                                         "read": True, "write": True}),
        ("PUT", f"/tenants/{o}/buckets/data/acl", {"acl": "public-read"}),
        ("PUT", f"/tenants/{o}/quotas", {"max_bytes": 1, "max_objects": 1, "max_buckets": 1}),
        ("DELETE", f"/tenants/{o}", None),
        ("PATCH", f"/keys/{other.admin.access_key}", {"enabled": False}),
        ("DELETE", f"/keys/{other.member.access_key}", None),
        # Its own tenant's quotas are root's to set; tenants and the master key too.
        ("PUT", f"/tenants/{tenant.name}/quotas", {"max_bytes": 0, "max_objects": 0,
                                                   "max_buckets": 0}),
        ("GET", "/tenants", None),
        ("POST", "/tenants", {"name": unique_name("t")}),
        ("DELETE", f"/tenants/{tenant.name}", None),
        ("POST", "/master-key/rotate", None),
    ]
    other.s3("admin").create_bucket(Bucket="data")
    root.set_quotas(tenant.name, max_bytes=1000)
    answers = [(m, p, api.call(m, p, b)) for m, p, b in attempts]
    # Nothing of it happened.
    assert sorted(u["name"] for u in root.users(o)) == ["boss", "worker"]
    assert sorted(k["access_key"] for k in root.keys(o)) == \
        sorted([other.admin.access_key, other.member.access_key])
    assert all(k["enabled"] for k in root.keys(o))
    assert root.grants(o) == []
    assert bucket_names(other.s3("admin")) == ["data"]
    assert bucket_names(other.s3("member")) == []
    assert root.tenant(o)["quotas"] == {"max_bytes": 0, "max_objects": 0, "max_buckets": 0}
    assert root.tenant(tenant.name)["quotas"] == \
        {"max_bytes": 1000, "max_objects": 0, "max_buckets": 0}
    assert anonymous_get(server, o, "data", "x").status == 403
    # Keys are addressed without a tenant: another tenant's key is answered as absent, so the
    # answer does not even confirm that it exists.
    def expected(path):
        return (404, "NotFound") if path.startswith("/keys/") else (403, "AccessDenied")
    bad = [(m, p, r.status, r.code) for m, p, r in answers if (r.status, r.code) != expected(p)]
    assert not bad, f"these answered otherwise than expected: {bad}"


def test_admin_api_denials_are_access_denied_events(server, tenant):
    other = Tenant.create(server)
    api = tenant.admin_api()
    for method, path, body in (("GET", f"/tenants/{other.name}/users", None),
                               ("PUT", f"/tenants/{tenant.name}/quotas",
                                {"max_bytes": 0, "max_objects": 0, "max_buckets": 0})):
        assert api.call(method, path, body).status == 403
    member_api = Admin(server, tenant.member.access_key, tenant.member.secret_key)
    assert member_api.call("GET", f"/tenants/{tenant.name}/users").status == 403
    for principal, resource in (
            (tenant.admin.access_key, f"/admin/v1/tenants/{other.name}/users"),
            (tenant.admin.access_key, f"/admin/v1/tenants/{tenant.name}/quotas"),
            (tenant.member.access_key, f"/admin/v1/tenants/{tenant.name}/users")):
        event = wait_for_denial(server, principal, None, resource, timeout=5.0)
        assert event["payload"]["action"] and event["payload"]["reason"], event
