"""`vaultctl` driving the admin API over HTTP: tenants, quotas, users, keys, grants, bucket
ACLs and the master key, their output (a line or a table, or the server's JSON with --json),
the errors and exit codes (1 usage, 2 the server refused, 3 server error, 4 unreachable), and
that what it creates works for real S3 clients."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import threading
from typing import Dict, Optional

import pytest
from botocore.exceptions import ClientError

import sigv4
from harness import CLI_TIMEOUT, Server, find_free_port, unique_name

KEY_LINE = re.compile(r"^key (VK[0-9A-Z]+) secret (\S+) \(shown once: store it now\)\n$")
ROTATED_LINE = re.compile(r"^rotated the master key: new key (\S+), (\d+) secrets re-encrypted\n$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def clean_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment without any AWS_ or VAULTAIRE_ variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VAULTAIRE_"))}
    env.update(extra or {})
    return env


def run_vaultctl(srv: Server, *args: str, env: Optional[Dict[str, str]] = None
                 ) -> subprocess.CompletedProcess:
    """`vaultctl ARGS...` with exactly the environment `env` (no keys, no endpoint unless
    given there)."""
    return subprocess.run([str(srv.bin_path / "vaultctl"), *args], capture_output=True,
                          text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL,
                          env=clean_env(env))


def ctl(srv: Server, *args: str, access_key: Optional[str] = None,
        secret_key: Optional[str] = None, endpoint: Optional[str] = None
        ) -> subprocess.CompletedProcess:
    """`vaultctl --endpoint ADMIN ARGS...` signed with the root keys (from the environment, as
    an operator would set them) unless other keys are given (as flags)."""
    flags = ["--endpoint", endpoint or srv.admin_endpoint]
    if access_key is not None:
        flags += ["--access-key", access_key]
    if secret_key is not None:
        flags += ["--secret-key", secret_key]
    return run_vaultctl(srv, *flags, *args, env={"VAULTAIRE_ROOT_ACCESS_KEY": srv.access_key,
                                                 "VAULTAIRE_ROOT_SECRET_KEY": srv.secret_key})


def ok(res: subprocess.CompletedProcess) -> str:
    """Asserts success with nothing on stderr; returns stdout."""
    assert (res.returncode, res.stderr) == (0, ""), res
    return res.stdout


def ok_json(res: subprocess.CompletedProcess):
    return json.loads(ok(res))


def failed(res: subprocess.CompletedProcess, code: int, stderr: str) -> None:
    """Asserts exit code `code`, nothing on stdout and exactly `stderr`."""
    assert (res.returncode, res.stdout, res.stderr) == (code, "", stderr), res


def new_tenant(srv: Server, *quota_flags: str) -> str:
    name = unique_name("t")
    assert ok(ctl(srv, "tenants", "create", name, *quota_flags)) == f"created tenant {name}\n"
    return name


def new_key(srv: Server, tenant: str, user: str, role: str = "admin", *flags: str):
    """A user (unless it exists) and a key of it: (access key, secret)."""
    if role:
        assert ok(ctl(srv, "users", "create", tenant, user, "--role", role)) == (
            f"created user {user} ({role}) in tenant {tenant}\n")
    m = KEY_LINE.match(ok(ctl(srv, "keys", "create", tenant, user, *flags)))
    assert m, "keys create printed no key line"
    return m.group(1), m.group(2)


def s3_code(call) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


# --- tenants ----------------------------------------------------------------------------------


def test_tenants_create_list_show_delete(server):
    name = new_tenant(server, "--max-bytes", "10MiB", "--max-buckets", "3")
    shown = ok_json(ctl(server, "--json", "tenants", "show", name))
    assert ISO_TIME.match(shown.pop("created"))
    assert shown == {"name": name,
                     "quotas": {"max_bytes": 10 * 1024 * 1024, "max_objects": 0, "max_buckets": 3},
                     "usage": {"bytes": 0, "objects": 0, "buckets": 0}}
    created = ok_json(ctl(server, "tenants", "show", name, "--json"))["created"]
    assert ok(ctl(server, "tenants", "show", name)) == (
        f"tenant {name}\n"
        f"created {created}\n"
        "RESOURCE  USED  QUOTA\n"
        "buckets   0     3\n"
        "objects   0     unlimited\n"
        "bytes     0     10485760\n")

    listed = ok_json(ctl(server, "tenants", "list", "--json"))["tenants"]
    assert listed[0]["name"] == "default"
    assert [t for t in listed if t["name"] == name] == [dict(shown, created=created)]
    table = ok(ctl(server, "tenants", "list")).splitlines()
    assert table[0].split() == ["NAME", "CREATED", "BUCKETS", "OBJECTS", "BYTES", "MAX_BUCKETS",
                                "MAX_OBJECTS", "MAX_BYTES"]
    assert table[1].split() == ["default", "-", *(["0"] * 3), *(["unlimited"] * 3)]
    assert [row.split() for row in table if row.startswith(name + " ")] == [
        [name, created, "0", "0", "0", "3", "unlimited", "10485760"]]

    assert ok(ctl(server, "tenants", "delete", name)) == f"deleted tenant {name}\n"
    failed(ctl(server, "tenants", "show", name), 2,
           f"vaultctl: no such tenant '{name}' (NotFound)\n")
    failed(ctl(server, "tenants", "delete", name), 2,
           f"vaultctl: no such tenant '{name}' (NotFound)\n")


def test_tenant_errors(server):
    name = new_tenant(server)
    failed(ctl(server, "tenants", "create", name), 2,
           f"vaultctl: tenant '{name}' already exists (AlreadyExists)\n")
    failed(ctl(server, "tenants", "create", "Not_Valid!"), 2,
           "vaultctl: not a valid name: tenant 'Not_Valid!' (InvalidName)\n")
    # A tenant with a bucket cannot go.
    access, secret = new_key(server, name, "owner")
    server.client(access, secret).create_bucket(Bucket="kept")
    failed(ctl(server, "tenants", "delete", name), 2,
           f"vaultctl: tenant '{name}' is not empty (NotEmpty)\n")
    # Checked before anything is sent.
    res = ctl(server, "tenants", "create", unique_name("t"), "--max-bytes", "-5")
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr.startswith("--max-bytes: '-5' is not a size in bytes (a whole number >= 0")
    res = ctl(server, "tenants", "create", unique_name("t"), "--max-objects", "10k")
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr.startswith("--max-objects: '10k' is not a count (a whole number >= 0; "
                                 "0 means unlimited)\n")
    res = ctl(server, "tenants", "show")
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr.startswith("name is required\n")


# --- quotas -----------------------------------------------------------------------------------


def test_quotas_set_changes_only_what_is_given_and_show_reports_usage(server):
    name = new_tenant(server, "--max-objects", "50")
    assert ok(ctl(server, "quotas", "set", name, "--max-bytes", "1GiB", "--max-buckets", "1")) == (
        f"quotas of tenant {name}: buckets 1, objects 50, bytes 1073741824\n")
    assert ok(ctl(server, "quotas", "set", name, "--max-bytes", "2GB")) == (
        f"quotas of tenant {name}: buckets 1, objects 50, bytes 2000000000\n")
    updated = ok_json(ctl(server, "--json", "quotas", "set", name, "--max-objects", "0"))
    assert updated["quotas"] == {"max_bytes": 2000000000, "max_objects": 0, "max_buckets": 1}

    access, secret = new_key(server, name, "owner")
    s3 = server.client(access, secret)
    s3.create_bucket(Bucket="only")
    s3.put_object(Bucket="only", Key="a.txt", Body=b"12345")
    assert s3_code(lambda: s3.create_bucket(Bucket="second")) == "QuotaExceeded"

    assert ok_json(ctl(server, "quotas", "show", name, "--json")) == {
        "tenant": name,
        "usage": {"bytes": 5, "objects": 1, "buckets": 1},
        "quotas": {"max_bytes": 2000000000, "max_objects": 0, "max_buckets": 1}}
    assert ok(ctl(server, "quotas", "show", name)) == (
        f"tenant {name}\n"
        "RESOURCE  USED  QUOTA\n"
        "buckets   1     1\n"
        "objects   1     unlimited\n"
        "bytes     5     2000000000\n")


def test_quota_errors(server):
    failed(ctl(server, "quotas", "set", "no-such-tenant", "--max-buckets", "1"), 2,
           "vaultctl: no such tenant 'no-such-tenant' (NotFound)\n")
    failed(ctl(server, "quotas", "show", "no-such-tenant"), 2,
           "vaultctl: no such tenant 'no-such-tenant' (NotFound)\n")
    failed(ctl(server, "quotas", "set", new_tenant(server)), 1,
           "vaultctl: nothing to set: give --max-bytes, --max-objects and/or --max-buckets "
           "(0 means unlimited)\n")


# --- users ------------------------------------------------------------------------------------


def test_users_create_list_delete(server):
    tenant = new_tenant(server)
    assert ok(ctl(server, "users", "create", tenant, "alice", "--role", "admin")) == (
        f"created user alice (admin) in tenant {tenant}\n")
    bob = ok_json(ctl(server, "--json", "users", "create", tenant, "bob"))  # member by default
    assert ISO_TIME.match(bob.pop("created"))
    assert bob == {"tenant": tenant, "name": "bob", "role": "member"}

    users = ok_json(ctl(server, "users", "list", tenant, "--json"))["users"]
    assert [(u["tenant"], u["name"], u["role"]) for u in users] == [
        (tenant, "alice", "admin"), (tenant, "bob", "member")]
    created = {u["name"]: u["created"] for u in users}
    assert ok(ctl(server, "users", "list", tenant)) == (
        "NAME   ROLE    CREATED\n"
        f"alice  admin   {created['alice']}\n"
        f"bob    member  {created['bob']}\n")

    failed(ctl(server, "users", "create", tenant, "bob"), 2,
           "vaultctl: user 'bob' already exists (AlreadyExists)\n")
    failed(ctl(server, "users", "create", "no-such-tenant", "bob"), 2,
           "vaultctl: no such tenant 'no-such-tenant' (NotFound)\n")
    res = ctl(server, "users", "create", tenant, "carol", "--role", "boss")
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr.startswith("--role: boss not in {admin,member}\n")

    assert ok(ctl(server, "users", "delete", tenant, "bob")) == (
        f"deleted user bob of tenant {tenant}\n")
    failed(ctl(server, "users", "delete", tenant, "bob"), 2,
           "vaultctl: no such user 'bob' (NotFound)\n")
    assert [u["name"] for u in ok_json(ctl(server, "--json", "users", "list", tenant))["users"]] \
        == ["alice"]


# --- keys -------------------------------------------------------------------------------------


def test_a_key_created_with_vaultctl_works_with_boto3(server):
    tenant = new_tenant(server)
    access, secret = new_key(server, tenant, "alice")
    s3 = server.client(access, secret)
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="cat.txt", Body=b"meow")
    assert s3.get_object(Bucket="photos", Key="cat.txt")["Body"].read() == b"meow"
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["photos"]
    # The tenant's bucket, not the root's (tenant default).
    assert "photos" not in [b["Name"] for b in server.client().list_buckets()["Buckets"]]


def test_keys_list_disable_enable_set_rate_delete(server):
    tenant = new_tenant(server)
    access, secret = new_key(server, tenant, "alice")
    created = ok_json(ctl(server, "--json", "keys", "create", tenant, "alice", "--rate", "5",
                          "--burst", "10"))
    second = created["access_key"]
    assert len(created.pop("secret_key")) == 40
    assert ISO_TIME.match(created.pop("created"))
    assert created == {"access_key": second, "tenant": tenant, "user": "alice", "enabled": True,
                       "rate_limit": {"requests_per_second": 5.0, "burst": 10.0}}

    keys = ok_json(ctl(server, "keys", "list", tenant, "--json"))["keys"]
    assert all("secret_key" not in k for k in keys)
    by_key = {k["access_key"]: k for k in keys}
    assert set(by_key) == {access, second}
    assert by_key[access]["rate_limit"] == {"requests_per_second": 0.0, "burst": 0.0}
    header, *rows = ok(ctl(server, "keys", "list", tenant)).splitlines()
    assert header.split() == ["ACCESS_KEY", "USER", "ENABLED", "RATE_LIMIT", "CREATED"]
    assert sorted(row.split() for row in rows) == sorted([
        [access, "alice", "yes", "unlimited", by_key[access]["created"]],
        [second, "alice", "yes", "5/s,", "burst", "10", by_key[second]["created"]]])

    def enabled() -> Dict[str, bool]:
        keys = ok_json(ctl(server, "keys", "list", tenant, "--json"))["keys"]
        return {k["access_key"]: k["enabled"] for k in keys}

    s3 = server.client(access, secret)
    s3.list_buckets()
    assert ok(ctl(server, "keys", "disable", access)) == f"disabled key {access}\n"
    assert s3_code(s3.list_buckets) == "InvalidAccessKeyId"
    assert enabled() == {access: False, second: True}
    assert ok(ctl(server, "keys", "enable", access)) == f"enabled key {access}\n"
    assert enabled() == {access: True, second: True}
    s3.list_buckets()

    assert ok(ctl(server, "keys", "set-rate", access, "--rate", "2.5")) == (
        f"key {access}: rate limit 2.5/s\n")
    assert ok(ctl(server, "keys", "set-rate", access, "--rate", "100", "--burst", "200")) == (
        f"key {access}: rate limit 100/s, burst 200\n")
    patched = ok_json(ctl(server, "--json", "keys", "set-rate", access, "--rate", "0"))
    assert (patched["access_key"], patched["enabled"], patched["rate_limit"]) == (
        access, True, {"requests_per_second": 0.0, "burst": 0.0})
    disabled = ok_json(ctl(server, "--json", "keys", "disable", second))
    assert (disabled["access_key"], disabled["enabled"]) == (second, False)
    assert ok_json(ctl(server, "keys", "enable", second, "--json"))["enabled"] is True

    assert ok(ctl(server, "keys", "delete", access)) == f"deleted key {access}\n"
    assert s3_code(s3.list_buckets) == "InvalidAccessKeyId"
    assert [k["access_key"] for k in ok_json(ctl(server, "--json", "keys", "list", tenant))[
        "keys"]] == [second]


def test_key_errors(server):
    tenant = new_tenant(server)
    for args in (["disable", "VKNOSUCHKEY"], ["enable", "VKNOSUCHKEY"], ["delete", "VKNOSUCHKEY"],
                 ["set-rate", "VKNOSUCHKEY", "--rate", "1"]):
        failed(ctl(server, "keys", *args), 2, "vaultctl: no such key 'VKNOSUCHKEY' (NotFound)\n")
    failed(ctl(server, "keys", "create", tenant, "ghost"), 2,
           "vaultctl: no such user 'ghost' (NotFound)\n")
    res = ctl(server, "keys", "set-rate", "VKNOSUCHKEY")
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr.startswith("--rate is required\n")
    res = ctl(server, "keys", "create", tenant, "alice", "--rate", "-1")
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr.startswith("--rate: '-1' is not a number >= 0 (0 means unlimited)\n")


# --- grants and ACLs --------------------------------------------------------------------------


def test_grants_set_list_and_what_a_member_may_do(server):
    tenant = new_tenant(server)
    admin = server.client(*new_key(server, tenant, "alice", "admin"))
    admin.create_bucket(Bucket="shared")
    admin.put_object(Bucket="shared", Key="doc.txt", Body=b"hello")
    member = server.client(*new_key(server, tenant, "bob", "member"))
    assert s3_code(lambda: member.get_object(Bucket="shared", Key="doc.txt")) == "AccessDenied"

    assert ok(ctl(server, "grants", "set", tenant, "bob", "shared", "--read")) == (
        f"bob may read bucket shared of tenant {tenant}\n")
    assert member.get_object(Bucket="shared", Key="doc.txt")["Body"].read() == b"hello"
    assert s3_code(lambda: member.put_object(Bucket="shared", Key="new.txt", Body=b"x")) == (
        "AccessDenied")
    assert ok(ctl(server, "grants", "list", tenant)) == (
        "USER  BUCKET  READ  WRITE\n"
        "bob   shared  yes   no\n")

    assert ok(ctl(server, "grants", "set", tenant, "bob", "shared", "--read", "--write")) == (
        f"bob may read and write bucket shared of tenant {tenant}\n")
    member.put_object(Bucket="shared", Key="new.txt", Body=b"x")
    assert ok_json(ctl(server, "grants", "list", tenant, "--json")) == {
        "grants": [{"user": "bob", "bucket": "shared", "read": True, "write": True}]}
    assert ok_json(ctl(server, "--json", "grants", "set", tenant, "bob", "shared", "--write")) == {
        "user": "bob", "bucket": "shared", "read": False, "write": True}
    assert ok(ctl(server, "grants", "set", tenant, "bob", "shared", "--write")) == (
        f"bob may write bucket shared of tenant {tenant}\n")

    assert ok(ctl(server, "grants", "set", tenant, "bob", "shared")) == (
        f"removed the grant of bob on bucket shared of tenant {tenant}\n")
    assert ok(ctl(server, "grants", "list", tenant)) == "USER  BUCKET  READ  WRITE\n"
    assert s3_code(lambda: member.get_object(Bucket="shared", Key="doc.txt")) == "AccessDenied"

    failed(ctl(server, "grants", "set", tenant, "nobody", "shared", "--read"), 2,
           "vaultctl: no such user 'nobody' or bucket 'shared' (NotFound)\n")


def test_bucket_acl_public_read_and_back(server):
    tenant = new_tenant(server)
    s3 = server.client(*new_key(server, tenant, "alice"))
    s3.create_bucket(Bucket="site")
    s3.put_object(Bucket="site", Key="index.html", Body=b"<h1>hi</h1>")
    url = f"{server.endpoint}/{tenant}:site/index.html"
    assert sigv4.fetch_url(url).status == 403

    assert ok(ctl(server, "buckets", "acl", tenant, "site", "public-read")) == (
        f"bucket site of tenant {tenant} is public-read\n")
    got = sigv4.fetch_url(url)
    assert (got.status, got.body) == (200, b"<h1>hi</h1>")
    assert ok_json(ctl(server, "--json", "buckets", "acl", tenant, "site", "private")) == {
        "bucket": "site", "acl": "private"}
    assert sigv4.fetch_url(url).status == 403

    failed(ctl(server, "buckets", "acl", tenant, "nosuchbucket", "private"), 2,
           "vaultctl: no such bucket 'nosuchbucket' (NotFound)\n")
    res = ctl(server, "buckets", "acl", tenant, "site", "public")
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr.startswith("acl: public not in {private,public-read}\n")


# --- master key -------------------------------------------------------------------------------


def test_master_key_rotate_keeps_keys_working(server):
    tenant = new_tenant(server)
    s3 = server.client(*new_key(server, tenant, "alice"))
    m = ROTATED_LINE.match(ok(ctl(server, "master-key", "rotate")))
    assert m and int(m.group(2)) >= 1
    rotated = ok_json(ctl(server, "--json", "master-key", "rotate"))
    assert set(rotated) == {"key_id", "reencrypted"}
    assert rotated["key_id"] != m.group(1) and rotated["reencrypted"] >= int(m.group(2))
    s3.list_buckets()  # its secret was re-encrypted, not lost


# --- who may call -----------------------------------------------------------------------------


def test_credentials_are_checked(server):
    failed(ctl(server, "tenants", "list", secret_key="wrong-secret"), 2,
           "vaultctl: The request signature we calculated does not match the signature you "
           "provided. Check your key and signing method. (SignatureDoesNotMatch)\n")
    failed(ctl(server, "tenants", "list", access_key="VKNOSUCHKEY", secret_key="x"), 2,
           "vaultctl: The AWS Access Key Id you provided does not exist in our records. "
           "(InvalidAccessKeyId)\n")

    tenant = new_tenant(server)
    other = new_tenant(server)
    admin_key, admin_secret = new_key(server, tenant, "alice", "admin")
    member_key, member_secret = new_key(server, tenant, "bob", "member")
    as_admin = dict(access_key=admin_key, secret_key=admin_secret)
    # A tenant admin manages its own tenant: users, keys; not the quotas, not other tenants.
    assert ok(ctl(server, "users", "create", tenant, "carol", **as_admin)) == (
        f"created user carol (member) in tenant {tenant}\n")
    assert KEY_LINE.match(ok(ctl(server, "keys", "create", tenant, "carol", **as_admin)))
    failed(ctl(server, "quotas", "set", tenant, "--max-buckets", "9", **as_admin), 2,
           "vaultctl: not allowed (AccessDenied)\n")
    failed(ctl(server, "users", "list", other, **as_admin), 2,
           "vaultctl: not allowed (AccessDenied)\n")
    failed(ctl(server, "tenants", "list", **as_admin), 2, "vaultctl: not allowed (AccessDenied)\n")
    failed(ctl(server, "master-key", "rotate", **as_admin), 2,
           "vaultctl: not allowed (AccessDenied)\n")
    # Members do not use the admin API at all.
    failed(ctl(server, "users", "list", tenant, access_key=member_key, secret_key=member_secret),
           2, "vaultctl: only root and tenant admins use the admin API (AccessDenied)\n")


def test_credentials_and_endpoint_from_the_environment(server):
    root = {"VAULTAIRE_ADMIN_ENDPOINT": server.admin_endpoint}
    listed = run_vaultctl(server, "--json", "tenants", "list",
                          env=dict(root, VAULTAIRE_ACCESS_KEY=server.access_key,
                                   VAULTAIRE_SECRET_KEY=server.secret_key))
    assert ok_json(listed)["tenants"][0]["name"] == "default"
    listed = run_vaultctl(server, "tenants", "list",
                          env=dict(root, AWS_ACCESS_KEY_ID=server.access_key,
                                   AWS_SECRET_ACCESS_KEY=server.secret_key))
    assert ok(listed).startswith("NAME ")
    # VAULTAIRE_ACCESS_KEY comes first, then VAULTAIRE_ROOT_ACCESS_KEY, then AWS_*.
    failed(run_vaultctl(server, "tenants", "list",
                        env=dict(root, VAULTAIRE_ACCESS_KEY=server.access_key,
                                 VAULTAIRE_SECRET_KEY="wrong",
                                 VAULTAIRE_ROOT_ACCESS_KEY=server.access_key,
                                 VAULTAIRE_ROOT_SECRET_KEY=server.secret_key)),
           2, "vaultctl: The request signature we calculated does not match the signature you "
              "provided. Check your key and signing method. (SignatureDoesNotMatch)\n")
    assert ok(run_vaultctl(server, "tenants", "list",
                           env=dict(root, VAULTAIRE_ROOT_ACCESS_KEY=server.access_key,
                                    VAULTAIRE_ROOT_SECRET_KEY=server.secret_key,
                                    AWS_ACCESS_KEY_ID="VKNOSUCHKEY",
                                    AWS_SECRET_ACCESS_KEY="x"))).startswith("NAME ")
    failed(run_vaultctl(server, "tenants", "list", env=root), 1,
           "vaultctl: no credentials: pass --access-key and --secret-key, or set "
           "VAULTAIRE_ACCESS_KEY and VAULTAIRE_SECRET_KEY (or VAULTAIRE_ROOT_ACCESS_KEY and "
           "VAULTAIRE_ROOT_SECRET_KEY, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)\n")


# --- reaching the server ----------------------------------------------------------------------


def test_server_down_is_exit_4(server):
    endpoint = f"http://127.0.0.1:{find_free_port()}"
    failed(ctl(server, "tenants", "list", endpoint=endpoint), 4,
           f"vaultctl: cannot reach the admin API at {endpoint}: Connection refused (is the "
           "server running, and is this its --admin-listen address?)\n")


def test_a_stopped_server_is_exit_4(server_factory):
    srv = server_factory("stopped")
    assert ok(ctl(srv, "tenants", "list")).startswith("NAME ")
    srv.stop()
    failed(ctl(srv, "tenants", "list"), 4,
           f"vaultctl: cannot reach the admin API at {srv.admin_endpoint}: Connection refused "
           "(is the server running, and is this its --admin-listen address?)\n")


def test_server_errors_are_exit_3(server):
    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            body = b'{"error": {"code": "SlowDown", "message": "slow down", "request_id": "R"}}'
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

        def log_message(self, *args):
            pass

    fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{fake.server_address[1]}"
        failed(ctl(server, "tenants", "list", endpoint=endpoint), 3,
               "vaultctl: slow down (SlowDown)\n")
        failed(ctl(server, "keys", "disable", "VKX", endpoint=endpoint), 3,
               "vaultctl: slow down (SlowDown)\n")
    finally:
        fake.shutdown()
        fake.server_close()


def test_the_s3_listener_is_not_the_admin_api(server):
    failed(ctl(server, "tenants", "list", endpoint=server.endpoint), 2,
           f"vaultctl: The specified bucket does not exist (NoSuchBucket) from "
           f"{server.endpoint}, which does not answer like the admin API: is it the admin "
           "listener (--admin-listen)?\n")
    failed(ctl(server, "tenants", "list", endpoint="https://127.0.0.1:8081"), 1,
           "vaultctl: --endpoint https://127.0.0.1:8081 is not a URL like "
           "http://127.0.0.1:8081 (plain http, no path)\n")


def test_bad_usage_is_exit_1(server):
    for args, first_line in ((["tenants"], "A subcommand is required"),
                             (["users", "create", "acme"], "name is required"),
                             (["grants", "set", "acme", "bob"], "bucket is required"),
                             (["nosuchcommand"], "The following argument was not expected: "
                                                 "nosuchcommand"),
                             (["tenant", "list"], "The following arguments were not expected: "
                                                  "tenant list")):
        res = ctl(server, *args)
        assert (res.returncode, res.stdout, res.stderr.splitlines()[0]) == (1, "", first_line)
    help_text = ok(ctl(server, "--help"))
    for command in ("tenants", "quotas", "users", "keys", "grants", "buckets", "master-key",
                    "events"):
        assert f"\n  {command} " in help_text


def test_events_commands_still_work(server):
    new_tenant(server)
    stats = server.vaultctl("events", "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["events"] >= 1
    # The global --json before the command applies to events too.
    res = subprocess.run([str(server.bin_path / "vaultctl"), "--json", "events", "stats",
                          "--data-dir", str(server.data_dir)], capture_output=True, text=True,
                         timeout=CLI_TIMEOUT, env=clean_env())
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["events"] >= 1
