"""Access keys: per-key rate limits (503 SlowDown with Retry-After, then working again), keys
disabled or deleted while a client keeps its connection open (the next request fails), a
deleted user's keys, and master-key rotation: every key keeps working, also after restarts, the
key file gains a key and stays 0600, and no secret is ever stored or exported in plain text."""

from __future__ import annotations

import http.client
import json
import stat
import time
from pathlib import Path
from typing import List, Optional

from botocore.exceptions import ClientError

import sigv4
from admin import Admin, Key, Tenant, code_status, s3_error
from harness import REGION, unique_name


def invalid_key(call) -> None:
    assert code_status(s3_error(call)) == ("InvalidAccessKeyId", 403)


def slow_down(call) -> int:
    """call must be answered 503 SlowDown; returns its Retry-After (whole seconds, >= 1)."""
    err = s3_error(call)
    assert code_status(err) == ("SlowDown", 503), err.response
    headers = err.response["ResponseMetadata"]["HTTPHeaders"]
    assert "retry-after" in headers, headers
    retry_after = int(headers["retry-after"])
    assert retry_after >= 1, headers["retry-after"]
    return retry_after


def successes_until_refused(call, limit: int = 20) -> int:
    """How many calls succeed in a row before the first ClientError (at most `limit`)."""
    for i in range(limit):
        try:
            call()
        except ClientError:
            return i
    return limit


def admin_key(server, tenant: str, rate_limit: Optional[dict] = None) -> Key:
    """A fresh admin user of `tenant` with one key."""
    root = Admin(server)
    user = unique_name("u")
    root.create_user(tenant, user, "admin")
    k = root.create_key(tenant, user, rate_limit)
    return Key(k["access_key"], k["secret_key"], tenant, user)


# -- rate limits ----------------------------------------------------------------------------


def test_rate_limit_set_at_creation(server):
    t = Tenant.create(server)
    t.s3().create_bucket(Bucket="data")
    key = admin_key(server, t.name, {"requests_per_second": 1, "burst": 5})
    listed = {k["access_key"]: k for k in Admin(server).keys(t.name)}
    assert listed[key.access_key]["rate_limit"] == {"requests_per_second": 1, "burst": 5}
    s3 = server.client(key.access_key, key.secret_key)
    assert successes_until_refused(lambda: s3.list_objects_v2(Bucket="data")) == 5
    retry_after = slow_down(lambda: s3.list_objects_v2(Bucket="data"))
    # A write refused for the rate stores nothing.
    slow_down(lambda: s3.put_object(Bucket="data", Key="during", Body=b"x"))
    # Another key of the same tenant is not limited by this one's budget.
    other = t.s3()
    for _ in range(10):
        other.list_objects_v2(Bucket="data")
    assert "Contents" not in other.list_objects_v2(Bucket="data")
    assert retry_after <= 5, f"Retry-After {retry_after}s for a rate of 1/s"
    time.sleep(retry_after)
    s3.put_object(Bucket="data", Key="after", Body=b"x")
    assert [o["Key"] for o in other.list_objects_v2(Bucket="data")["Contents"]] == ["after"]


def test_rate_limit_changed_by_patch(server):
    t = Tenant.create(server)
    key = admin_key(server, t.name)
    s3 = server.client(key.access_key, key.secret_key)
    assert successes_until_refused(s3.list_buckets, limit=30) == 30  # unlimited
    root = Admin(server)
    changed = root.patch_key(key.access_key,
                             rate_limit={"requests_per_second": 0.5, "burst": 3})
    assert changed["rate_limit"] == {"requests_per_second": 0.5, "burst": 3}
    assert changed["enabled"] is True
    assert successes_until_refused(s3.list_buckets) == 3
    retry_after = slow_down(s3.list_buckets)
    assert retry_after <= 10, f"Retry-After {retry_after}s for a rate of 0.5/s"
    time.sleep(retry_after)
    s3.list_buckets()
    slow_down(s3.list_buckets)
    # Back to unlimited: at once, although the budget is spent.
    root.patch_key(key.access_key, rate_limit={"requests_per_second": 0, "burst": 0})
    assert successes_until_refused(s3.list_buckets, limit=30) == 30


def test_slow_down_answer_as_raw_http(server):
    t = Tenant.create(server)
    key = admin_key(server, t.name, {"requests_per_second": 1, "burst": 1})
    first = sigv4.signed_request(server.endpoint, "GET", "/", access_key=key.access_key,
                                 secret_key=key.secret_key, region=REGION)
    assert first.status == 200
    second = sigv4.signed_request(server.endpoint, "GET", "/", access_key=key.access_key,
                                  secret_key=key.secret_key, region=REGION)
    assert second.status == 503, second.body[:300]
    assert second.error()["Code"] == "SlowDown"
    assert int(second.header("Retry-After")) >= 1


# -- revocation -----------------------------------------------------------------------------


class KeptAlive:
    """One HTTP/1.1 connection reused for every signed request (fails if the server closed
    it: no silent reconnect)."""

    def __init__(self, server, key: Key) -> None:
        self.server = server
        self.key = key
        self.conn = http.client.HTTPConnection("127.0.0.1", server.s3_port, timeout=10)
        self.conn.auto_open = 0
        self.conn.connect()
        self.local_port = self.conn.sock.getsockname()[1]

    def get(self, path: str) -> sigv4.RawResponse:
        headers = sigv4.sign_headers(method="GET", host=self.server.host, path=path,
                                     access_key=self.key.access_key,
                                     secret_key=self.key.secret_key, region=REGION,
                                     payload_hash=sigv4.sha256_hex(b""))
        assert self.conn.sock is not None, "the server closed the kept-alive connection"
        assert self.conn.sock.getsockname()[1] == self.local_port
        self.conn.putrequest("GET", sigv4.request_target(path), skip_host=True,
                             skip_accept_encoding=True)
        for name, value in headers.items():
            self.conn.putheader(name, value)
        self.conn.endheaders()
        resp = self.conn.getresponse()
        return sigv4.RawResponse(resp.status, resp.reason, resp.headers, resp.read())

    def close(self) -> None:
        self.conn.close()


def test_disabling_and_deleting_a_key_takes_effect_on_an_open_connection(server):
    t = Tenant.create(server)
    t.s3().create_bucket(Bucket="data")
    key = admin_key(server, t.name)
    root = Admin(server)
    s3 = server.client(key.access_key, key.secret_key)  # boto3 keeps its connection
    raw = KeptAlive(server, key)
    url = sigv4.presign_url(method="GET", endpoint=server.endpoint, path="/data",
                            access_key=key.access_key, secret_key=key.secret_key,
                            region=REGION, expires=600)
    try:
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["data"]
        assert raw.get("/data").status == 200
        assert sigv4.fetch_url(url).status == 200
        assert Admin(server, key.access_key, key.secret_key).call(
            "GET", f"/tenants/{t.name}/users").status == 200

        assert root.patch_key(key.access_key, enabled=False)["enabled"] is False
        invalid_key(s3.list_buckets)
        invalid_key(lambda: s3.put_object(Bucket="data", Key="x", Body=b"x"))
        resp = raw.get("/data")
        assert (resp.status, resp.error()["Code"]) == (403, "InvalidAccessKeyId")
        resp = sigv4.fetch_url(url)
        assert (resp.status, resp.error()["Code"]) == (403, "InvalidAccessKeyId")
        # On the admin listener too.
        resp = Admin(server, key.access_key, key.secret_key).call(
            "GET", f"/tenants/{t.name}/users")
        assert (resp.status, resp.code) == (403, "InvalidAccessKeyId"), resp
        assert [k["enabled"] for k in root.keys(t.name)
                if k["access_key"] == key.access_key] == [False]

        root.patch_key(key.access_key, enabled=True)
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["data"]
        assert raw.get("/data").status == 200
        assert sigv4.fetch_url(url).status == 200

        root.delete_key(key.access_key)
        invalid_key(s3.list_buckets)
        resp = raw.get("/data")
        assert (resp.status, resp.error()["Code"]) == (403, "InvalidAccessKeyId")
        assert sigv4.fetch_url(url).status == 403
        assert key.access_key not in [k["access_key"] for k in root.keys(t.name)]
        assert (root.call("PATCH", f"/keys/{key.access_key}", {"enabled": True}).status) == 404
        invalid_key(s3.list_buckets)
    finally:
        raw.close()
    assert "Contents" not in t.s3().list_objects_v2(Bucket="data")


def test_a_deleted_users_keys_and_grants_go_with_it(server):
    t = Tenant.create(server)
    t.s3().create_bucket(Bucket="data")
    t.s3().put_object(Bucket="data", Key="f", Body=b"file")
    root = Admin(server)
    root.create_user(t.name, "dave", "member")
    keys = [root.create_key(t.name, "dave") for _ in range(2)]
    root.grant(t.name, "dave", "data", True, True)
    clients = [server.client(k["access_key"], k["secret_key"]) for k in keys]
    for c in clients:
        assert c.get_object(Bucket="data", Key="f")["Body"].read() == b"file"
    root.delete_user(t.name, "dave")
    for c in clients:
        invalid_key(lambda: c.get_object(Bucket="data", Key="f"))
    assert "dave" not in [u["name"] for u in root.users(t.name)]
    assert not [k for k in root.keys(t.name) if k["user"] == "dave"]
    assert root.grants(t.name) == []
    # A new user of the same name inherits neither the keys nor the grant.
    root.create_user(t.name, "dave", "member")
    for c in clients:
        invalid_key(c.list_buckets)
    new = root.create_key(t.name, "dave")
    fresh = server.client(new["access_key"], new["secret_key"])
    assert fresh.list_buckets()["Buckets"] == []
    assert code_status(s3_error(lambda: fresh.get_object(Bucket="data", Key="f"))) == \
        ("AccessDenied", 403)


# -- master key -----------------------------------------------------------------------------


def key_file_ids(path: Path) -> List[str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line.split(":", 1)[0] for line in lines if line and not line.startswith("#")]


def assert_key_file(path: Path, count: int, primary: Optional[str] = None) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, f"{path} has mode {mode:o}"
    ids = key_file_ids(path)
    assert len(ids) == count, ids
    assert len(set(ids)) == count, ids
    if primary is not None:
        assert ids[-1] == primary, ids


def all_work(server, keys: List[Key]) -> None:
    for k in keys:
        s3 = server.client(k.access_key, k.secret_key)
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["data"], k
        assert s3.get_object(Bucket="data", Key="f")["Body"].read() == b"file", k


def test_master_key_rotation_keeps_every_key_working_across_restarts(server_factory):
    srv = server_factory()
    key_file = srv.data_dir / "master.key"
    assert_key_file(key_file, 1)
    t = Tenant.create(srv)
    t.s3().create_bucket(Bucket="data")
    t.s3().put_object(Bucket="data", Key="f", Body=b"file")
    root = Admin(srv)
    root.grant(t.name, t.member.user, "data", True, False)
    limited = admin_key(srv, t.name, {"requests_per_second": 100, "burst": 100})
    keys = [t.admin, t.member, limited]
    all_work(srv, keys)

    rotated = root.rotate_master_key()
    assert rotated["key_id"] and rotated["reencrypted"] == 3, rotated
    assert_key_file(key_file, 2, rotated["key_id"])
    all_work(srv, keys)
    keys.append(admin_key(srv, t.name))  # sealed under the new key
    all_work(srv, keys)
    # Disabled stays disabled through a rotation.
    disabled = admin_key(srv, t.name)
    root.patch_key(disabled.access_key, enabled=False)

    srv.restart()
    all_work(srv, keys)
    invalid_key(srv.client(disabled.access_key, disabled.secret_key).list_buckets)
    assert_key_file(key_file, 2, rotated["key_id"])

    again = root.rotate_master_key()
    assert again["key_id"] != rotated["key_id"]
    assert again["reencrypted"] == 5, again
    assert_key_file(key_file, 3, again["key_id"])
    srv.restart()
    all_work(srv, keys)
    invalid_key(srv.client(disabled.access_key, disabled.secret_key).list_buckets)
    root.patch_key(disabled.access_key, enabled=True)
    all_work(srv, [disabled])

    res = srv.vaultctl("events", "verify")
    assert res.returncode == 0, f"events verify failed:\n{res.stdout}\n{res.stderr}"

    # No secret in plain text: not in RocksDB (or anything else in the data dir but the key
    # file), not in the exported events, not in the server's log.
    secrets = [k.secret_key for k in keys + [disabled]]
    files = [p for p in srv.data_dir.rglob("*") if p.is_file() and p != key_file]
    assert any(p.parent.name == "db" for p in files), sorted(map(str, files))[:20]
    for p in files:
        data = p.read_bytes()
        for s in secrets:
            assert s.encode() not in data, f"a secret in plain text in {p}"
    tail = srv.vaultctl("events", "tail", "--json", "-n", "100000")
    assert tail.returncode == 0, tail.stderr
    for s in secrets:
        assert s not in tail.stdout, "a secret in `vaultctl events tail --json`"
    log = srv.log_path.read_text(errors="replace")
    for s in secrets:
        assert s not in log, "a secret in the server log"
    events = [json.loads(line) for line in tail.stdout.splitlines() if line.strip()]
    assert {e["payload"].get("master_key_id") for e in events} >= \
        {rotated["key_id"], again["key_id"]}


def test_only_root_rotates_the_master_key(server):
    t = Tenant.create(server)
    for key in (t.admin, t.member):
        resp = Admin(server, key.access_key, key.secret_key).call("POST", "/master-key/rotate")
        assert (resp.status, resp.code) == (403, "AccessDenied"), resp
