"""Per-tenant quotas and usage: max_bytes (objects and the parts of uploads in progress),
max_objects and max_buckets, 0 meaning unlimited. Exactly at a limit is allowed, one over is
refused with 403 QuotaExceeded naming the quota; overwrites count only the difference; parts
count while an upload is in progress, an abort frees them, a completion leaves the object's
size; copies count their bytes; deletes free. Writers racing for the last bytes cannot together
exceed a quota, and usage (GET /admin/v1/tenants/T/usage) always equals a recount done with
boto3, also after a restart, with `vaultctl events verify` passing."""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Callable, List

import pytest
from botocore.exceptions import ClientError

from admin import Admin, Tenant, code_status, s3_error

MiB = 1024 * 1024


def refused(call: Callable, quota: str) -> str:
    """call must be refused with 403 QuotaExceeded whose Message names `quota` ("max_bytes=100");
    returns the message."""
    err = s3_error(call)
    assert code_status(err) == ("QuotaExceeded", 403), err.response
    message = err.response["Error"]["Message"]
    assert quota in message, f"the message should name {quota}: {message!r}"
    return message


def usage(server, tenant: Tenant) -> dict:
    return Admin(server).usage(tenant.name)


def absent(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return False


@pytest.fixture
def quota_tenant(server):
    """Makes a tenant with the given quotas (set at creation) and a bucket `quota`."""
    def make(**quotas: int) -> Tenant:
        t = Tenant.create(server, **quotas)
        assert Admin(server).tenant(t.name)["quotas"] == {
            "max_bytes": quotas.get("max_bytes", 0), "max_objects": quotas.get("max_objects", 0),
            "max_buckets": quotas.get("max_buckets", 0)}
        t.s3().create_bucket(Bucket="quota")
        return t
    return make


# -- max_bytes ------------------------------------------------------------------------------


def test_max_bytes_exactly_at_the_limit_then_one_byte_over(server, quota_tenant):
    t = quota_tenant(max_bytes=100)
    s3 = t.s3()
    s3.put_object(Bucket="quota", Key="sixty", Body=b"x" * 60)
    s3.put_object(Bucket="quota", Key="forty", Body=b"y" * 40)
    assert usage(server, t) == {"bytes": 100, "objects": 2, "buckets": 1}
    refused(lambda: s3.put_object(Bucket="quota", Key="one-more", Body=b"z"), "max_bytes=100")
    assert absent(s3, "quota", "one-more")
    assert usage(server, t) == {"bytes": 100, "objects": 2, "buckets": 1}
    # An empty object adds no bytes: still at the limit, not over it.
    s3.put_object(Bucket="quota", Key="empty", Body=b"")
    assert usage(server, t) == {"bytes": 100, "objects": 3, "buckets": 1}
    # Root raises the quota: the same write now fits; 0 means unlimited.
    Admin(server).set_quotas(t.name, max_bytes=101)
    s3.put_object(Bucket="quota", Key="one-more", Body=b"z")
    refused(lambda: s3.put_object(Bucket="quota", Key="two-more", Body=b"zz"), "max_bytes=101")
    Admin(server).set_quotas(t.name, max_bytes=0)
    s3.put_object(Bucket="quota", Key="big", Body=os.urandom(3 * MiB))
    assert usage(server, t) == {"bytes": 101 + 3 * MiB, "objects": 5, "buckets": 1}


def test_a_quota_lowered_below_usage_refuses_growth_but_allows_shrinking(server, quota_tenant):
    t = quota_tenant()
    s3 = t.s3()
    s3.put_object(Bucket="quota", Key="a", Body=b"a" * 500)
    Admin(server).set_quotas(t.name, max_bytes=100)
    refused(lambda: s3.put_object(Bucket="quota", Key="b", Body=b"b"), "max_bytes=100")
    s3.delete_object(Bucket="quota", Key="a")
    assert usage(server, t)["bytes"] == 0
    s3.put_object(Bucket="quota", Key="b", Body=b"b" * 100)
    assert usage(server, t)["bytes"] == 100


# -- overwrites -----------------------------------------------------------------------------


def test_overwrite_with_a_larger_object_counts_only_the_difference(server, quota_tenant):
    t = quota_tenant(max_bytes=100)
    s3 = t.s3()
    s3.put_object(Bucket="quota", Key="k", Body=b"1" * 50)
    # 50 -> 90: the tenant stores 90, under 100, although 50 + 90 is not.
    s3.put_object(Bucket="quota", Key="k", Body=b"2" * 90)
    assert usage(server, t) == {"bytes": 90, "objects": 1, "buckets": 1}
    # 90 -> 100: exactly at the limit.
    s3.put_object(Bucket="quota", Key="k", Body=b"3" * 100)
    assert usage(server, t) == {"bytes": 100, "objects": 1, "buckets": 1}
    assert s3.get_object(Bucket="quota", Key="k")["Body"].read() == b"3" * 100


def test_overwrite_whose_difference_does_not_fit_is_refused(server, quota_tenant):
    t = quota_tenant(max_bytes=100)
    s3 = t.s3()
    s3.put_object(Bucket="quota", Key="k", Body=b"1" * 60)
    s3.put_object(Bucket="quota", Key="j", Body=b"2" * 30)
    # k 60 -> 71 would make 101.
    refused(lambda: s3.put_object(Bucket="quota", Key="k", Body=b"3" * 71), "max_bytes=100")
    assert s3.get_object(Bucket="quota", Key="k")["Body"].read() == b"1" * 60
    assert usage(server, t) == {"bytes": 90, "objects": 2, "buckets": 1}


def test_overwrite_with_a_smaller_object_is_always_allowed(server, quota_tenant):
    t = quota_tenant(max_bytes=100)
    s3 = t.s3()
    s3.put_object(Bucket="quota", Key="k", Body=b"1" * 100)
    assert usage(server, t)["bytes"] == 100
    s3.put_object(Bucket="quota", Key="k", Body=b"2" * 40)  # at the limit, shrinking
    assert usage(server, t) == {"bytes": 40, "objects": 1, "buckets": 1}
    s3.put_object(Bucket="quota", Key="k", Body=b"")
    assert usage(server, t) == {"bytes": 0, "objects": 1, "buckets": 1}
    # Over a lowered quota too: shrinking is allowed.
    s3.put_object(Bucket="quota", Key="k", Body=b"3" * 100)
    Admin(server).set_quotas(t.name, max_bytes=10)
    s3.put_object(Bucket="quota", Key="k", Body=b"4" * 50)
    assert usage(server, t)["bytes"] == 50


def test_same_size_overwrite_at_the_limit_is_allowed(server, quota_tenant):
    t = quota_tenant(max_bytes=100)
    s3 = t.s3()
    s3.put_object(Bucket="quota", Key="k", Body=b"1" * 100)
    s3.put_object(Bucket="quota", Key="k", Body=b"2" * 100)
    assert s3.get_object(Bucket="quota", Key="k")["Body"].read() == b"2" * 100
    assert usage(server, t) == {"bytes": 100, "objects": 1, "buckets": 1}


# -- max_objects and max_buckets ------------------------------------------------------------


def test_max_objects(server, quota_tenant):
    t = quota_tenant(max_objects=3)
    s3 = t.s3()
    for i in range(3):
        s3.put_object(Bucket="quota", Key=f"o{i}", Body=b"x")
    refused(lambda: s3.put_object(Bucket="quota", Key="o3", Body=b"x"), "max_objects=3")
    assert absent(s3, "quota", "o3")
    refused(lambda: s3.copy_object(Bucket="quota", Key="o3",
                                   CopySource={"Bucket": "quota", "Key": "o0"}),
            "max_objects=3")
    up = s3.create_multipart_upload(Bucket="quota", Key="o3")["UploadId"]
    etag = s3.upload_part(Bucket="quota", Key="o3", UploadId=up, PartNumber=1, Body=b"p")["ETag"]
    refused(lambda: s3.complete_multipart_upload(
        Bucket="quota", Key="o3", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}), "max_objects=3")
    s3.abort_multipart_upload(Bucket="quota", Key="o3", UploadId=up)
    assert absent(s3, "quota", "o3")
    # Overwrites do not add objects.
    s3.put_object(Bucket="quota", Key="o0", Body=b"new")
    s3.copy_object(Bucket="quota", Key="o1", CopySource={"Bucket": "quota", "Key": "o0"})
    assert usage(server, t) == {"bytes": 7, "objects": 3, "buckets": 1}
    s3.delete_object(Bucket="quota", Key="o2")
    s3.put_object(Bucket="quota", Key="o3", Body=b"x")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="quota")["Contents"]) == \
        ["o0", "o1", "o3"]
    assert usage(server, t)["objects"] == 3


def test_max_buckets(server, quota_tenant):
    t = quota_tenant(max_buckets=2)  # `quota` is the first
    s3 = t.s3()
    s3.create_bucket(Bucket="second")
    refused(lambda: s3.create_bucket(Bucket="third"), "max_buckets=2")
    assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["quota", "second"]
    assert code_status(s3_error(lambda: s3.head_bucket(Bucket="third")))[1] == 404
    assert usage(server, t) == {"bytes": 0, "objects": 0, "buckets": 2}
    s3.delete_bucket(Bucket="second")
    assert usage(server, t)["buckets"] == 1
    s3.create_bucket(Bucket="third")
    assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["quota", "third"]


def test_the_message_names_the_quota_that_is_exceeded(server, quota_tenant):
    t = quota_tenant(max_bytes=100, max_objects=2)
    s3 = t.s3()
    s3.put_object(Bucket="quota", Key="a", Body=b"a" * 50)
    s3.put_object(Bucket="quota", Key="b", Body=b"b" * 50)
    # Both quotas are reached. Growing `a` adds bytes, not objects; an empty new key the reverse.
    message = refused(lambda: s3.put_object(Bucket="quota", Key="a", Body=b"a" * 60),
                      "max_bytes=100")
    assert "max_objects" not in message, message
    message = refused(lambda: s3.put_object(Bucket="quota", Key="c", Body=b""), "max_objects=2")
    assert "max_bytes" not in message, message


# -- multipart, copies, deletes ------------------------------------------------------------


def test_multipart_parts_count_while_in_progress(server, quota_tenant):
    t = quota_tenant(max_bytes=12 * MiB)
    s3 = t.s3()
    up = s3.create_multipart_upload(Bucket="quota", Key="big")["UploadId"]
    parts = {}

    def put_part(n: int, size: int) -> None:
        parts[n] = s3.upload_part(Bucket="quota", Key="big", UploadId=up, PartNumber=n,
                                  Body=bytes([n]) * size)["ETag"]

    put_part(1, 5 * MiB)
    put_part(2, 5 * MiB)
    assert usage(server, t) == {"bytes": 10 * MiB, "objects": 0, "buckets": 1}
    refused(lambda: s3.put_object(Bucket="quota", Key="small", Body=b"s" * (2 * MiB + 1)),
            f"max_bytes={12 * MiB}")
    refused(lambda: put_part(3, 2 * MiB + 1), f"max_bytes={12 * MiB}")
    assert [p["PartNumber"] for p in s3.list_parts(Bucket="quota", Key="big",
                                                   UploadId=up)["Parts"]] == [1, 2]
    put_part(3, 2 * MiB)  # exactly at the limit
    assert usage(server, t)["bytes"] == 12 * MiB
    # A part uploaded again replaces the old one: only the new size counts.
    put_part(3, 1 * MiB)
    assert usage(server, t)["bytes"] == 11 * MiB
    # Completing with parts 1 and 3 leaves the object's size; part 2 is freed.
    s3.complete_multipart_upload(
        Bucket="quota", Key="big", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": parts[1]},
                                   {"PartNumber": 3, "ETag": parts[3]}]})
    assert s3.head_object(Bucket="quota", Key="big")["ContentLength"] == 6 * MiB
    assert usage(server, t) == {"bytes": 6 * MiB, "objects": 1, "buckets": 1}


def test_abort_frees_the_parts(server, quota_tenant):
    t = quota_tenant(max_bytes=6 * MiB)
    s3 = t.s3()
    up = s3.create_multipart_upload(Bucket="quota", Key="big")["UploadId"]
    s3.upload_part(Bucket="quota", Key="big", UploadId=up, PartNumber=1, Body=b"1" * (5 * MiB))
    s3.upload_part(Bucket="quota", Key="big", UploadId=up, PartNumber=2, Body=b"2" * MiB)
    assert usage(server, t) == {"bytes": 6 * MiB, "objects": 0, "buckets": 1}
    refused(lambda: s3.put_object(Bucket="quota", Key="one", Body=b"1"), f"max_bytes={6 * MiB}")
    s3.abort_multipart_upload(Bucket="quota", Key="big", UploadId=up)
    assert usage(server, t) == {"bytes": 0, "objects": 0, "buckets": 1}
    s3.put_object(Bucket="quota", Key="all", Body=b"a" * (6 * MiB))
    assert usage(server, t) == {"bytes": 6 * MiB, "objects": 1, "buckets": 1}


def test_copies_count_their_bytes(server, quota_tenant):
    t = quota_tenant(max_bytes=100)
    s3 = t.s3()
    s3.create_bucket(Bucket="other")
    s3.put_object(Bucket="quota", Key="src", Body=b"s" * 40)
    s3.copy_object(Bucket="other", Key="c1", CopySource={"Bucket": "quota", "Key": "src"})
    assert usage(server, t) == {"bytes": 80, "objects": 2, "buckets": 2}
    refused(lambda: s3.copy_object(Bucket="quota", Key="c2",
                                   CopySource={"Bucket": "quota", "Key": "src"}),
            "max_bytes=100")
    assert absent(s3, "quota", "c2")
    up = s3.create_multipart_upload(Bucket="quota", Key="mpu")["UploadId"]
    refused(lambda: s3.upload_part_copy(Bucket="quota", Key="mpu", UploadId=up, PartNumber=1,
                                        CopySource={"Bucket": "quota", "Key": "src"}),
            "max_bytes=100")
    # A ranged part copy of 20 bytes fits exactly.
    s3.upload_part_copy(Bucket="quota", Key="mpu", UploadId=up, PartNumber=1,
                        CopySource={"Bucket": "quota", "Key": "src"}, CopySourceRange="bytes=0-19")
    assert usage(server, t) == {"bytes": 100, "objects": 2, "buckets": 2}
    s3.abort_multipart_upload(Bucket="quota", Key="mpu", UploadId=up)
    assert usage(server, t)["bytes"] == 80


def test_deletes_free_bytes_objects_and_buckets(server, quota_tenant):
    t = quota_tenant(max_bytes=1000, max_objects=5, max_buckets=2)
    s3 = t.s3()
    s3.create_bucket(Bucket="two")
    sizes = {"a": 100, "b": 200, "c": 300, "d": 400}
    for key, size in sizes.items():
        s3.put_object(Bucket="two" if key == "d" else "quota", Key=key, Body=b"x" * size)
    assert usage(server, t) == {"bytes": 1000, "objects": 4, "buckets": 2}
    s3.delete_object(Bucket="quota", Key="a")
    assert usage(server, t) == {"bytes": 900, "objects": 3, "buckets": 2}
    resp = s3.delete_objects(Bucket="quota", Delete={"Objects": [{"Key": "b"}, {"Key": "c"},
                                                             {"Key": "missing"}]})
    assert not resp.get("Errors"), resp
    assert usage(server, t) == {"bytes": 400, "objects": 1, "buckets": 2}
    s3.delete_object(Bucket="two", Key="d")
    s3.delete_bucket(Bucket="two")
    assert usage(server, t) == {"bytes": 0, "objects": 0, "buckets": 1}
    # Deleting what is not there frees nothing more.
    s3.delete_object(Bucket="quota", Key="a")
    assert usage(server, t) == {"bytes": 0, "objects": 0, "buckets": 1}
    s3.put_object(Bucket="quota", Key="full", Body=b"f" * 1000)
    assert usage(server, t) == {"bytes": 1000, "objects": 1, "buckets": 1}


# -- races ----------------------------------------------------------------------------------


def race(n: int, work: Callable[[int], None], watch: Callable[[], None]) -> List[object]:
    """Runs work(0..n-1) on n threads released together; returns each one's result ("ok" or
    the exception), while watch() runs repeatedly on another thread until all are done."""
    barrier = threading.Barrier(n)
    results: List[object] = [None] * n
    done = threading.Event()

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            work(i)
            results[i] = "ok"
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = e

    def watcher() -> None:
        while not done.is_set():
            watch()
            time.sleep(0.002)

    w = threading.Thread(target=watcher)
    w.start()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    done.set()
    w.join(timeout=30)
    assert not any(th.is_alive() for th in threads), "a writer hung"
    return results


def outcome(result: object) -> str:
    if result == "ok":
        return "ok"
    if isinstance(result, ClientError):
        return result.response["Error"]["Code"]
    return repr(result)


@pytest.mark.parametrize("already", [0, 1000])
def test_concurrent_writers_racing_for_the_last_bytes(server, quota_tenant, already):
    quota = 4000 + already
    t = quota_tenant(max_bytes=quota)
    if already:
        t.s3().put_object(Bucket="quota", Key="base", Body=b"b" * already)
    remaining = quota - already
    clients = [t.s3() for _ in range(8)]
    seen: List[int] = []

    def work(i: int) -> None:
        clients[i].put_object(Bucket="quota", Key=f"racer-{i}",
                              Body=bytes([65 + i]) * (remaining // 4))

    results = race(8, work, lambda: seen.append(usage(server, t)["bytes"]))
    outcomes = sorted(outcome(r) for r in results)
    assert outcomes == ["QuotaExceeded"] * 4 + ["ok"] * 4, outcomes
    assert seen and max(seen) <= quota, max(seen)
    assert usage(server, t) == {"bytes": quota, "objects": 4 + (1 if already else 0),
                                "buckets": 1}
    s3 = t.s3()
    winners = [i for i, r in enumerate(results) if r == "ok"]
    for i in range(8):
        if i in winners:
            body = s3.get_object(Bucket="quota", Key=f"racer-{i}")["Body"].read()
            assert body == bytes([65 + i]) * (remaining // 4)
        else:
            assert absent(s3, "quota", f"racer-{i}")


def test_concurrent_writers_racing_for_the_last_objects_and_buckets(server, quota_tenant):
    t = quota_tenant(max_objects=4, max_buckets=4)
    clients = [t.s3() for _ in range(8)]
    seen: List[dict] = []
    results = race(8, lambda i: clients[i].put_object(Bucket="quota", Key=f"o{i}", Body=b"x"),
                   lambda: seen.append(usage(server, t)))
    assert sorted(outcome(r) for r in results) == ["QuotaExceeded"] * 4 + ["ok"] * 4
    assert max(u["objects"] for u in seen) <= 4
    results = race(8, lambda i: clients[i].create_bucket(Bucket=f"b{i}-{t.name}"[:63]),
                   lambda: seen.append(usage(server, t)))
    assert sorted(outcome(r) for r in results) == ["QuotaExceeded"] * 5 + ["ok"] * 3
    assert max(u["buckets"] for u in seen) <= 4
    assert usage(server, t) == {"bytes": 4, "objects": 4, "buckets": 4}
    assert len(t.s3().list_buckets()["Buckets"]) == 4


def test_concurrent_parts_racing_for_the_last_bytes(server, quota_tenant):
    t = quota_tenant(max_bytes=4000)
    s3 = t.s3()
    up = s3.create_multipart_upload(Bucket="quota", Key="mpu")["UploadId"]
    clients = [t.s3() for _ in range(8)]
    seen: List[int] = []
    results = race(8, lambda i: clients[i].upload_part(Bucket="quota", Key="mpu", UploadId=up,
                                                       PartNumber=i + 1, Body=b"p" * 1000),
                   lambda: seen.append(usage(server, t)["bytes"]))
    assert sorted(outcome(r) for r in results) == ["QuotaExceeded"] * 4 + ["ok"] * 4
    assert max(seen) <= 4000
    listed = s3.list_parts(Bucket="quota", Key="mpu", UploadId=up)["Parts"]
    assert sorted(p["PartNumber"] for p in listed) == \
        sorted(i + 1 for i, r in enumerate(results) if r == "ok")
    assert usage(server, t)["bytes"] == 4000
    s3.abort_multipart_upload(Bucket="quota", Key="mpu", UploadId=up)
    assert usage(server, t)["bytes"] == 0


# -- usage equals a recount -----------------------------------------------------------------


def recount(s3) -> dict:
    """Usage as a user would count it with boto3: every object of every bucket, plus the parts
    of every upload in progress."""
    total = {"bytes": 0, "objects": 0, "buckets": 0}
    for b in s3.list_buckets()["Buckets"]:
        total["buckets"] += 1
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b["Name"]):
            for o in page.get("Contents", []):
                total["bytes"] += o["Size"]
                total["objects"] += 1
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=b["Name"]):
            for u in page.get("Uploads", []):
                parts = s3.get_paginator("list_parts").paginate(
                    Bucket=b["Name"], Key=u["Key"], UploadId=u["UploadId"])
                for p in parts:
                    total["bytes"] += sum(part["Size"] for part in p.get("Parts", []))
    return total


def test_usage_equals_a_recount_after_a_mixed_workload_and_replays(server_factory):
    srv = server_factory()
    root = Admin(srv)
    tenants = [Tenant.create(srv, max_bytes=64 * MiB, max_objects=200, max_buckets=10),
               Tenant.create(srv)]
    rng = random.Random(4)
    for t in tenants:
        s3 = t.s3()
        for b in ("alpha", "beta", "gamma", "doomed"):
            s3.create_bucket(Bucket=b)
        keys = []
        for i in range(60):
            bucket = rng.choice(["alpha", "beta", "gamma"])
            key = f"k{rng.randrange(40)}"
            s3.put_object(Bucket=bucket, Key=key, Body=os.urandom(rng.randrange(0, 5000)))
            keys.append((bucket, key))
        for bucket, key in rng.sample(keys, 10):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_objects(Bucket="alpha", Delete={"Objects": [{"Key": f"k{i}"}
                                                              for i in range(0, 40, 3)]})
        for i in range(5):
            s3.put_object(Bucket="beta", Key=f"src{i}", Body=os.urandom(1000 + i))
            s3.copy_object(Bucket="gamma", Key=f"copy{i}",
                           CopySource={"Bucket": "beta", "Key": f"src{i}"})
        # A completed upload, one in progress (a part re-uploaded), one aborted.
        up = s3.create_multipart_upload(Bucket="alpha", Key="done")["UploadId"]
        e1 = s3.upload_part(Bucket="alpha", Key="done", UploadId=up, PartNumber=1,
                            Body=os.urandom(5 * MiB))["ETag"]
        e2 = s3.upload_part(Bucket="alpha", Key="done", UploadId=up, PartNumber=2,
                            Body=os.urandom(12345))["ETag"]
        s3.upload_part(Bucket="alpha", Key="done", UploadId=up, PartNumber=3, Body=b"unused")
        s3.complete_multipart_upload(Bucket="alpha", Key="done", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
        up = s3.create_multipart_upload(Bucket="beta", Key="pending")["UploadId"]
        s3.upload_part(Bucket="beta", Key="pending", UploadId=up, PartNumber=1,
                       Body=os.urandom(7000))
        s3.upload_part(Bucket="beta", Key="pending", UploadId=up, PartNumber=2,
                       Body=os.urandom(3000))
        s3.upload_part(Bucket="beta", Key="pending", UploadId=up, PartNumber=1,
                       Body=os.urandom(2000))
        s3.upload_part_copy(Bucket="beta", Key="pending", UploadId=up, PartNumber=3,
                            CopySource={"Bucket": "beta", "Key": "src0"})
        up = s3.create_multipart_upload(Bucket="gamma", Key="aborted")["UploadId"]
        s3.upload_part(Bucket="gamma", Key="aborted", UploadId=up, PartNumber=1,
                       Body=os.urandom(9000))
        s3.abort_multipart_upload(Bucket="gamma", Key="aborted", UploadId=up)
        s3.put_object(Bucket="doomed", Key="x", Body=b"x" * 10)
        s3.delete_object(Bucket="doomed", Key="x")
        s3.delete_bucket(Bucket="doomed")
        # A refused write changes nothing.
        root.set_quotas(t.name, max_bytes=recount(s3)["bytes"])
        refused(lambda: s3.put_object(Bucket="alpha", Key="over", Body=b"o"), "max_bytes=")
        root.set_quotas(t.name)
    counted = {t.name: recount(t.s3()) for t in tenants}
    for t in tenants:
        assert root.usage(t.name) == counted[t.name], t.name
        assert root.tenant(t.name)["usage"] == counted[t.name], t.name
    res = srv.vaultctl("events", "verify")
    assert res.returncode == 0, f"events verify failed:\n{res.stdout}\n{res.stderr}"
    # The views are rebuilt from the log the same way: usage survives a restart exactly.
    srv.restart()
    root = Admin(srv)
    for t in tenants:
        assert root.usage(t.name) == counted[t.name], t.name
        assert recount(t.s3()) == counted[t.name], t.name
    res = srv.vaultctl("events", "verify")
    assert res.returncode == 0, f"events verify failed:\n{res.stdout}\n{res.stderr}"
