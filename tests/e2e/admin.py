"""The admin API (docs/admin-api.md) as the tests drive it: JSON over HTTP on the admin
listener, SigV4-signed (service `s3`, the server's region) with root's or a tenant admin's key.

`Admin(server)` signs with root; `Admin(server, access_key, secret_key)` with any key.
`call()` returns whatever the server answered (for the tests of refusals); the named helpers
assert the documented success status and return the parsed JSON body. `Tenant.create()` makes a
tenant with one admin and one member, each with a key, the shape most tests start from.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any, Callable, List, Optional

import pytest
from botocore.exceptions import ClientError

import sigv4
from harness import REGION, HarnessError, Server, unique_name

PREFIX = "/admin/v1"


@dataclasses.dataclass
class AdminResponse:
    status: int
    body: Any  # parsed JSON, None for an empty body (204)
    raw: sigv4.RawResponse

    @property
    def code(self) -> Optional[str]:
        """The error code of a JSON error answer, None otherwise."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None

    def __repr__(self) -> str:
        return f"AdminResponse({self.status}, {self.raw.body[:400]!r})"


class Admin:
    def __init__(self, server: Server, access_key: Optional[str] = None,
                 secret_key: Optional[str] = None) -> None:
        self.server = server
        self.access_key = access_key or server.access_key
        self.secret_key = secret_key or server.secret_key

    def as_key(self, access_key: str, secret_key: str) -> "Admin":
        return Admin(self.server, access_key, secret_key)

    # -- raw -------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None) -> AdminResponse:
        """A signed request to /admin/v1{path}; body (if not None) is sent as JSON."""
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"} if body is not None else {}
        raw = sigv4.signed_request(self.server.admin_endpoint, method, PREFIX + path,
                                   access_key=self.access_key, secret_key=self.secret_key,
                                   region=REGION, headers=headers, body=data, timeout=30.0)
        parsed = None
        if raw.body.strip():
            try:
                parsed = json.loads(raw.body)
            except ValueError:
                raise HarnessError(f"{method} {path}: answer is not JSON: {raw.body[:300]!r}")
        return AdminResponse(raw.status, parsed, raw)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        resp = self.call(method, path, body)
        assert resp.status == status, f"{method} {PREFIX}{path} {body!r}: {resp!r}"
        return resp.body

    # -- resources -------------------------------------------------------------------------

    def create_tenant(self, name: str, **quotas: int) -> dict:
        body: dict = {"name": name}
        if quotas:
            body["quotas"] = quotas
        return self.ok("POST", "/tenants", body, 201)

    def tenant(self, name: str) -> dict:
        return self.ok("GET", f"/tenants/{name}")

    def set_quotas(self, tenant: str, max_bytes: int = 0, max_objects: int = 0,
                   max_buckets: int = 0) -> dict:
        return self.ok("PUT", f"/tenants/{tenant}/quotas",
                       {"max_bytes": max_bytes, "max_objects": max_objects,
                        "max_buckets": max_buckets})

    def usage(self, tenant: str) -> dict:
        """The "usage" object of GET /tenants/T/usage: {"bytes", "objects", "buckets"}."""
        body = self.ok("GET", f"/tenants/{tenant}/usage")
        assert body["tenant"] == tenant, body
        return body["usage"]

    def create_user(self, tenant: str, name: str, role: str) -> dict:
        return self.ok("POST", f"/tenants/{tenant}/users", {"name": name, "role": role}, 201)

    def users(self, tenant: str) -> List[dict]:
        return self.ok("GET", f"/tenants/{tenant}/users")["users"]

    def delete_user(self, tenant: str, name: str) -> None:
        self.ok("DELETE", f"/tenants/{tenant}/users/{name}", status=204)

    def create_key(self, tenant: str, user: str, rate_limit: Optional[dict] = None) -> dict:
        body = {} if rate_limit is None else {"rate_limit": rate_limit}
        key = self.ok("POST", f"/tenants/{tenant}/users/{user}/keys", body, 201)
        assert key["access_key"] and key["secret_key"], key
        return key

    def keys(self, tenant: str) -> List[dict]:
        return self.ok("GET", f"/tenants/{tenant}/keys")["keys"]

    def patch_key(self, access_key: str, **changes: Any) -> dict:
        return self.ok("PATCH", f"/keys/{access_key}", changes)

    def delete_key(self, access_key: str) -> None:
        self.ok("DELETE", f"/keys/{access_key}", status=204)

    def grant(self, tenant: str, user: str, bucket: str, read: bool, write: bool) -> dict:
        return self.ok("PUT", f"/tenants/{tenant}/grants",
                       {"user": user, "bucket": bucket, "read": read, "write": write})

    def grants(self, tenant: str) -> List[dict]:
        return self.ok("GET", f"/tenants/{tenant}/grants")["grants"]

    def set_acl(self, tenant: str, bucket: str, acl: str) -> dict:
        return self.ok("PUT", f"/tenants/{tenant}/buckets/{bucket}/acl", {"acl": acl})

    def rotate_master_key(self) -> dict:
        return self.ok("POST", "/master-key/rotate")


@dataclasses.dataclass
class Key:
    access_key: str
    secret_key: str
    tenant: str
    user: str


@dataclasses.dataclass
class Tenant:
    """A tenant with an admin user ("boss", role admin) and a member ("worker"), one key each."""
    name: str
    admin: Key
    member: Key
    server: Server

    @classmethod
    def create(cls, server: Server, name: Optional[str] = None, **quotas: int) -> "Tenant":
        root = Admin(server)
        name = name or unique_name("t")
        root.create_tenant(name, **quotas)
        keys = {}
        for user, role in (("boss", "admin"), ("worker", "member")):
            root.create_user(name, user, role)
            k = root.create_key(name, user)
            keys[role] = Key(k["access_key"], k["secret_key"], name, user)
        return cls(name, keys["admin"], keys["member"], server)

    def s3(self, who: str = "admin"):
        key = self.admin if who == "admin" else self.member
        return self.server.client(key.access_key, key.secret_key)

    def admin_api(self) -> Admin:
        return Admin(self.server, self.admin.access_key, self.admin.secret_key)

    def new_key(self, user: str, role: str, rate_limit: Optional[dict] = None) -> Key:
        root = Admin(self.server)
        root.create_user(self.name, user, role)
        k = root.create_key(self.name, user, rate_limit)
        return Key(k["access_key"], k["secret_key"], self.name, user)


# -- S3 helpers shared by the identity tests -------------------------------------------------


def s3_error(call: Callable[[], Any]) -> ClientError:
    """Runs call, which must fail with an S3 error; returns the ClientError."""
    with pytest.raises(ClientError) as e:
        call()
    return e.value


def code_status(err: ClientError):
    return err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"]


def denial_events(server: Server, principal: Optional[str] = None) -> List[dict]:
    return [e for e in server.events()
            if e["type"] == "access_denied"
            and (principal is None or e["principal"] == principal)]


def wait_for_denial(server: Server, principal: str, action: Optional[str], resource: str,
                    timeout: float = 10.0) -> dict:
    """The access_denied event of `principal` for `action` (None: any) on `resource` (polled:
    the log is read by another process)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in denial_events(server, principal)
                 if (action is None or e["payload"].get("action") == action)
                 and e["payload"].get("resource") == resource]
        if found:
            return found[-1]
        if time.monotonic() >= deadline:
            mine = [(e["payload"], e.get("tenant")) for e in denial_events(server, principal)]
            raise AssertionError(
                f"no access_denied event for principal={principal} action={action} "
                f"resource={resource}; that principal's denials: {mine}")
        time.sleep(0.1)
