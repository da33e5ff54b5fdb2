"""Billing end to end: usage per tenant, hour and tier from the billing actor, checked against a
recomputation from the raw event export, to the byte; invoices from the price sheet; who may
see what.

The recomputation below is written from docs/billing.md, not from the server's code: it walks
the exported events in log order, keeps each tenant's stored bytes per tier (objects, parts of
uploads in progress), and adds bytes x nanoseconds to every hour they span.

Servers run with --test-clock, so hours pass in a request (POST /admin/v1/test/clock).
"""

from __future__ import annotations

import collections
import csv
import datetime
import io
import json
import os
from typing import Dict, List, Tuple

import pytest

from admin import Admin, Tenant
from harness import Server, poll, unique_name

HOUR_NS = 3600 * 10**9
MIB = 1024 * 1024
HOTTEST = "hot"
COUNTED = ("requests_a", "requests_b", "bytes_in", "bytes_out", "bytes_retrieved", "deletes",
           "transitions_in")


def advance(srv: Server, seconds: float) -> None:
    resp = Admin(srv).call("POST", "/test/clock", {"advance_seconds": seconds})
    assert resp.status == 200, resp


def parse_iso(text: str) -> int:
    """Seconds since the epoch of "2026-11-21T10:00:00.123Z" (the fraction dropped)."""
    return int(datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp())


def current_hour(srv: Server) -> int:
    """The hour of the server's (test) clock now."""
    resp = Admin(srv).call("GET", "/test/clock")
    assert resp.status == 200, resp
    return parse_iso(resp.body["now"]) // 3600


def iso_hour(hour: int) -> str:
    return datetime.datetime.fromtimestamp(hour * 3600, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


# -- the recomputation ---------------------------------------------------------------------


class Recount:
    """Usage per (tenant, hour, tier) from events, as docs/billing.md defines it."""

    def __init__(self) -> None:
        self.objects: Dict[Tuple[str, str, str], Tuple[int, str]] = {}
        self.uploads: Dict[Tuple[str, str, str], dict] = {}
        self.level: Dict[str, Dict[str, List[int]]] = collections.defaultdict(
            lambda: collections.defaultdict(lambda: [0, 0]))  # tenant -> tier -> [bytes, objects]
        self.last: Dict[str, int] = {}
        self.byte_ns: Dict[Tuple[str, int, str], int] = collections.Counter()
        self.counts: Dict[Tuple[str, int, str], collections.Counter] = collections.defaultdict(
            collections.Counter)

    def _pass_time(self, tenant: str, until: int) -> None:
        since = self.last.get(tenant)
        if since is None or until <= since:
            self.last[tenant] = max(until, since or until)
            return
        t = since
        while t < until:
            hour = t // HOUR_NS
            end = min(until, (hour + 1) * HOUR_NS)
            for tier, (nbytes, _) in self.level[tenant].items():
                if nbytes:
                    self.byte_ns[(tenant, hour, tier)] += nbytes * (end - t)
            t = end
        self.last[tenant] = until

    def _add(self, tenant: str, tier: str, nbytes: int, nobjects: int) -> None:
        lv = self.level[tenant][tier]
        lv[0] += nbytes
        lv[1] += nobjects

    def apply(self, e: dict) -> None:
        kind = e["type"]
        p = e.get("payload", {})
        tenant = e["tenant"]
        t = int(e["time_unix_nanos"])
        if kind not in ("artifact_committed", "artifact_deleted", "artifact_read",
                        "container_listed", "upload_created", "part_uploaded", "upload_aborted",
                        "artifact_migrated"):
            return
        self._pass_time(tenant, t)
        hour = t // HOUR_NS
        okey = (tenant, e["container"], e["path"])

        def count(tier: str, what: str, n: int = 1) -> None:
            self.counts[(tenant, hour, tier)][what] += n

        if kind == "artifact_committed":
            if okey in self.objects:
                size, tier = self.objects.pop(okey)
                self._add(tenant, tier, -size, -1)
            upload = p.get("completed_upload_id")
            if upload:
                u = self.uploads.pop((tenant, e["container"], upload), None)
                if u:
                    self._add(tenant, u["tier"], -sum(u["parts"].values()), 0)
            tier = p["tier"]
            self.objects[okey] = (int(p["size"]), tier)
            self._add(tenant, tier, int(p["size"]), 1)
            count(tier, "requests_a")
            if not upload and not p.get("shares_blobs") and not p.get("copy_source"):
                count(tier, "bytes_in", int(p["size"]))
        elif kind == "artifact_deleted":
            tier = HOTTEST
            if okey in self.objects:
                size, tier = self.objects.pop(okey)
                self._add(tenant, tier, -size, -1)
            count(tier, "deletes")
        elif kind == "artifact_read":
            tier = p.get("tier") or HOTTEST
            count(tier, "requests_b")
            count(tier, "bytes_out", int(p.get("bytes_sent", 0)))
            if tier != HOTTEST:
                count(tier, "bytes_retrieved", int(p.get("bytes_sent", 0)))
        elif kind == "container_listed":
            count(HOTTEST, "requests_a")
        elif kind == "upload_created":
            tier = p.get("tier") or HOTTEST
            self.uploads[(tenant, e["container"], p["upload_id"])] = {"tier": tier, "parts": {}}
            count(tier, "requests_a")
        elif kind == "part_uploaded":
            u = self.uploads.get((tenant, e["container"], p["upload_id"]))
            tier = u["tier"] if u else HOTTEST
            if u:
                old = u["parts"].get(p["part_number"], 0)
                u["parts"][p["part_number"]] = int(p["size"])
                self._add(tenant, tier, int(p["size"]) - old, 0)
            count(tier, "requests_a")
            count(tier, "bytes_in", int(p["size"]))
        elif kind == "upload_aborted":
            u = self.uploads.pop((tenant, e["container"], p["upload_id"]), None)
            if u:
                self._add(tenant, u["tier"], -sum(u["parts"].values()), 0)
        elif kind == "artifact_migrated":
            if okey in self.objects:
                size, old = self.objects[okey]
                self._add(tenant, old, -size, -1)
                self._add(tenant, p["to_tier"], size, 1)
                self.objects[okey] = (size, p["to_tier"])
                count(p["to_tier"], "requests_a")
                count(p["to_tier"], "transitions_in")

    def rows(self, tenant: str, from_hour: int, to_hour: int) -> Dict[Tuple[int, str], dict]:
        """Complete hours [from_hour, to_hour): storage to the end of each."""
        self._pass_time(tenant, to_hour * HOUR_NS)
        out = {}
        tiers = set(self.level[tenant]) | {k[2] for k in self.counts if k[0] == tenant}
        for hour in range(from_hour, to_hour):
            for tier in tiers:
                row = {"byte_seconds": self.byte_ns.get((tenant, hour, tier), 0) // 10**9}
                row.update({k: self.counts[(tenant, hour, tier)].get(k, 0) for k in COUNTED})
                if any(row.values()):
                    out[(hour, tier)] = row
        return out


def server_rows(srv: Server, tenant: str, from_hour: int, to_hour: int
                ) -> Dict[Tuple[int, str], dict]:
    res = srv.admin_ctl("billing", "usage", "--tenant", tenant, "--from", iso_hour(from_hour),
                        "--to", iso_hour(to_hour), "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    out = {}
    for line in res.stdout.splitlines():
        r = json.loads(line)
        assert r["tenant"] == tenant
        hour = parse_iso(r["hour"]) // 3600
        row = {"byte_seconds": r["byte_seconds"]}
        row.update({k: r[k] for k in COUNTED})
        if any(row.values()):
            out[(hour, r["tier"])] = row
    return out


# -- tests ---------------------------------------------------------------------------------


def start(server_factory) -> Server:
    srv = server_factory(unique_name("bill"), start=False)
    srv.extra_args = ["--test-clock"]
    srv.start()
    return srv


def workload(s3, bucket: str, srv: Server) -> None:
    """Puts, overwrites, deletes, multipart (completed and aborted), copies, reads, heads and
    listings, on two tiers, spread over several hours."""
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=os.urandom(1000))
    s3.put_object(Bucket=bucket, Key="b", Body=os.urandom(3000), StorageClass="GLACIER_IR")
    advance(srv, 1800)
    s3.put_object(Bucket=bucket, Key="a", Body=os.urandom(2500))  # overwrite, larger
    s3.get_object(Bucket=bucket, Key="a")["Body"].read()
    s3.get_object(Bucket=bucket, Key="b", Range="bytes=0-99")["Body"].read()
    s3.head_object(Bucket=bucket, Key="b")
    s3.list_objects_v2(Bucket=bucket)
    s3.copy_object(Bucket=bucket, Key="a-copy", CopySource={"Bucket": bucket, "Key": "a"})
    up = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    p1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=up, PartNumber=1,
                        Body=os.urandom(5 * MIB))
    advance(srv, 2 * 3600 + 17)  # parts are stored while the upload is open, across hours
    p2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=up, PartNumber=2, Body=b"tail" * 100)
    s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]},
                                   {"PartNumber": 2, "ETag": p2["ETag"]}]})
    gone = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="gone", UploadId=gone, PartNumber=1, Body=b"x" * 777)
    advance(srv, 600)
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=gone)
    s3.delete_object(Bucket=bucket, Key="a")
    s3.get_object(Bucket=bucket, Key="big", PartNumber=1)["Body"].read()
    s3.delete_object(Bucket=bucket, Key="never-there")
    advance(srv, 3600 + 5)


def test_usage_equals_a_recount_of_the_raw_event_export_to_the_byte(server_factory):
    srv = start(server_factory)
    tenant = Tenant.create(srv)
    workload(tenant.s3(), unique_name("bb"), srv)
    workload(srv.client(), unique_name("bd"), srv)  # the default tenant, interleaved in time
    advance(srv, 3600)  # the last active hour is complete

    events = srv.events()
    first_hour = min(int(e["time_unix_nanos"]) for e in events) // HOUR_NS
    to_hour = current_hour(srv)  # hours before the current one are complete
    for name in (tenant.name, "default"):
        recount = Recount()
        for e in events:
            if e["tenant"] == name:
                recount.apply(e)
        expected = recount.rows(name, first_hour, to_hour)
        got = server_rows(srv, name, first_hour, to_hour)
        differences = {k: (got.get(k), expected.get(k)) for k in set(got) | set(expected)
                       if got.get(k) != expected.get(k)}
        assert not differences, (name, differences)
        # The workload spans at least four hours and both tiers.
        assert len({h for h, _ in expected}) >= 4
        assert {t for _, t in expected} >= {"hot", "cold"}
        assert any(r["bytes_retrieved"] > 0 for (h, t), r in expected.items() if t == "cold")

    # What billing says is stored now is what the tenant's quota usage says.
    res = srv.admin_ctl("--json", "billing", "usage", "--tenant", tenant.name,
                        "--granularity", "total")
    assert res.returncode == 0, res.stderr
    totals = json.loads(res.stdout)["rows"]
    usage = Admin(srv).usage(tenant.name)
    assert sum(r["bytes"] for r in totals) == usage["bytes"]
    assert sum(r["objects"] for r in totals) == usage["objects"]


def test_billing_survives_a_restart_without_counting_twice(server_factory):
    srv = start(server_factory)
    s3 = srv.client()
    bucket = unique_name("br")
    s3.create_bucket(Bucket=bucket)
    for i in range(20):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"z" * (100 + i))
    advance(srv, 3600)
    before = srv.admin_ctl("--json", "billing", "usage", "--granularity", "total",
                           "--tenant", "default")
    assert before.returncode == 0, before.stderr
    srv.kill9()
    srv.start()
    for i in range(5):
        s3.get_object(Bucket=bucket, Key=f"k{i}")["Body"].read()

    def totals():
        res = srv.admin_ctl("--json", "billing", "usage", "--granularity", "total",
                            "--tenant", "default")
        assert res.returncode == 0, res.stderr
        rows = json.loads(res.stdout)["rows"]
        return (sum(r["requests_a"] for r in rows), sum(r["requests_b"] for r in rows),
                sum(r["bytes_in"] for r in rows), sum(r["bytes"] for r in rows))

    # GET events are appended without waiting for durability: wait until they are counted.
    got = poll(totals, lambda t: t[1] == 5, timeout=10, what="the GETs counted")
    stored = sum(100 + i for i in range(20))
    assert got == (20, 5, stored, stored)


def test_invoice_prices_usage_with_the_tier_prices(server_factory):
    srv = start(server_factory)
    s3 = srv.client()
    bucket = unique_name("bi")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"q" * MIB)
    s3.get_object(Bucket=bucket, Key="k")["Body"].read()
    advance(srv, 10 * 3600)
    res = srv.admin_ctl("--json", "billing", "invoice", "--tenant", "default")
    assert res.returncode == 0, res.stderr
    inv = json.loads(res.stdout)
    lines = {line["item"]: line for line in inv["lines"]}
    assert inv["currency"] == "USD"
    # About 10 hours of 1 MiB on hot at $0.023 per GB-month (720 hours of 2^30 bytes).
    storage = lines["storage hot"]
    assert storage["unit"] == "GB-month" and storage["unit_price"] == pytest.approx(0.023)
    assert 10 / 720 / 1024 <= storage["quantity"] <= 11 / 720 / 1024
    assert lines["requests A hot"]["quantity"] == pytest.approx(1 / 1000)
    assert lines["requests B hot"]["quantity"] == pytest.approx(1 / 1000)
    assert lines["transfer out"]["quantity"] == pytest.approx(1 / 1024)
    assert lines["transfer out"]["unit_price"] == pytest.approx(0.09)
    assert inv["total"] == pytest.approx(sum(line["amount"] for line in inv["lines"]))

    table = srv.admin_ctl("billing", "invoice", "--tenant", "default")
    assert table.returncode == 0 and "storage hot" in table.stdout and "total" in table.stdout
    text = srv.admin_ctl("billing", "usage", "--tenant", "default", "--format", "csv")
    assert text.returncode == 0, text.stderr
    rows = list(csv.DictReader(io.StringIO(text.stdout)))
    assert rows and {"tenant", "hour", "tier", "byte_seconds", "requests_a"} <= set(rows[0])
    assert sum(int(r["requests_b"]) for r in rows) == 1


def test_tenant_admins_see_only_their_own_bills(server_factory):
    srv = start(server_factory)
    a = Tenant.create(srv)
    b = Tenant.create(srv)
    a.s3().create_bucket(Bucket="same-name")
    a.s3().put_object(Bucket="same-name", Key="k", Body=b"a" * 10)
    own = srv.admin_ctl("--json", "billing", "usage", access_key=a.admin.access_key,
                        secret_key=a.admin.secret_key)
    assert own.returncode == 0, own.stderr
    assert {r["tenant"] for r in json.loads(own.stdout)["rows"]} == {a.name}
    other = srv.admin_ctl("billing", "invoice", "--tenant", a.name,
                          access_key=b.admin.access_key, secret_key=b.admin.secret_key)
    assert other.returncode == 2 and "AccessDenied" in other.stderr
    member = srv.admin_ctl("billing", "usage", access_key=a.member.access_key,
                           secret_key=a.member.secret_key)
    assert member.returncode == 2 and "AccessDenied" in member.stderr
    bad = srv.admin_ctl("billing", "usage", "--from", "yesterday-ish")
    assert bad.returncode == 2 and "from and to" in bad.stderr
    no_tenant = srv.admin_ctl("billing", "invoice")
    assert no_tenant.returncode == 2 and "tenant" in no_tenant.stderr
