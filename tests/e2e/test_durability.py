"""What must survive: large objects byte for byte, a clean restart, a kill -9 right after an
acknowledgement; what must not appear: an upload that was never acknowledged. And the event
log that records it all (`vaultctl events ...`), the admin endpoints and the metrics.

Every test here owns its server (server_factory), since it restarts or kills it or counts
its requests exactly."""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import os
import socket
import threading

import pytest
from botocore.exceptions import ClientError

import sigv4
from harness import REGION, HarnessError, metric, poll, quoted_etag

MiB = 1024 * 1024
BIG_SIZE = 200 * MiB
# Growth of the server's anonymous memory allowed while it moves the 200 MiB object. Well below
# the object's size: the S3 layer streams bodies and never holds a whole object.
MAX_RSS_GROWTH = int(os.environ.get("VAULTAIRE_E2E_MAX_RSS_GROWTH_MIB", "100")) * MiB

DATA_EVENT_TYPES = {"container_created", "container_deleted", "artifact_committed",
                    "artifact_deleted", "artifact_read", "container_listed"}


def s3_error(call) -> tuple:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def all_keys(s3, bucket: str) -> list:
    return [o["Key"] for o in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            .build_full_result().get("Contents", [])]


def check_verify(srv) -> None:
    res = srv.vaultctl("events", "verify")
    assert res.returncode == 0, f"events verify failed:\n{res.stdout}\n{res.stderr}"


class PeakAnonRss:
    """Samples /proc/PID/status RssAnon from a thread until closed; keeps the maximum (KiB
    in the file, bytes here). A sampler, not a synchronisation: it only watches."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.baseline = self.read()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def read(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
        raise HarnessError("no RssAnon in /proc/PID/status")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.peak = max(self.peak, self.read())
            except OSError:
                return

    def __enter__(self) -> "PeakAnonRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, self.read())


# -- large objects --------------------------------------------------------------------------


def test_200_mib_object_round_trips_byte_for_byte_without_buffering(server_factory, tmp_path):
    srv = server_factory()
    s3 = srv.client(read_timeout=300)
    path = tmp_path / "big.bin"
    sha, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "wb") as f:
        for _ in range(BIG_SIZE // (8 * MiB)):
            chunk = os.urandom(8 * MiB)
            f.write(chunk)
            sha.update(chunk)
            md5.update(chunk)
    s3.create_bucket(Bucket="large")

    with PeakAnonRss(srv.pid) as rss:
        with open(path, "rb") as body:  # a single PutObject streamed from disk, no multipart
            put = s3.put_object(Bucket="large", Key="blobs/big.bin", Body=body)
        assert put["ETag"] == f'"{md5.hexdigest()}"'

        head = s3.head_object(Bucket="large", Key="blobs/big.bin")
        assert head["ContentLength"] == BIG_SIZE
        assert head["ETag"] == put["ETag"]

        got = s3.get_object(Bucket="large", Key="blobs/big.bin")
        assert got["ContentLength"] == BIG_SIZE
        down, n = hashlib.sha256(), 0
        for chunk in got["Body"].iter_chunks(MiB):
            down.update(chunk)
            n += len(chunk)
        assert n == BIG_SIZE
        assert down.hexdigest() == sha.hexdigest()

    first, last = 150 * MiB + 7, 150 * MiB + 7 + 4 * MiB - 1
    ranged = s3.get_object(Bucket="large", Key="blobs/big.bin", Range=f"bytes={first}-{last}")
    assert ranged["ContentRange"] == f"bytes {first}-{last}/{BIG_SIZE}"
    with open(path, "rb") as f:
        f.seek(first)
        assert ranged["Body"].read() == f.read(last - first + 1)

    listed = s3.list_objects_v2(Bucket="large")["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [
        ("blobs/big.bin", BIG_SIZE, put["ETag"])]

    growth = rss.peak - rss.baseline
    assert growth < MAX_RSS_GROWTH, (
        f"server anonymous memory grew by {growth / MiB:.0f} MiB while moving a "
        f"{BIG_SIZE // MiB} MiB object (limit {MAX_RSS_GROWTH // MiB} MiB): is it buffering?")


# -- restart --------------------------------------------------------------------------------


def snapshot(s3) -> dict:
    """Everything a client can see: buckets with creation dates, and for every object its
    listing entry and its HEAD headers."""
    state = {}
    for b in s3.list_buckets()["Buckets"]:
        objects = {}
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=b["Name"])
        for o in pages.build_full_result().get("Contents", []):
            head = s3.head_object(Bucket=b["Name"], Key=o["Key"])
            objects[o["Key"]] = {
                "Size": o["Size"], "ETag": o["ETag"], "ListLastModified": o["LastModified"],
                "ContentLength": head["ContentLength"], "HeadETag": head["ETag"],
                "LastModified": head["LastModified"], "ContentType": head.get("ContentType"),
                "CacheControl": head.get("CacheControl"),
                "ContentEncoding": head.get("ContentEncoding"),
                "Metadata": head["Metadata"],
            }
        state[b["Name"]] = {"CreationDate": b["CreationDate"], "objects": objects}
    return state


def test_clean_restart_keeps_buckets_objects_and_metadata(server_factory):
    srv = server_factory()
    s3 = srv.client()
    for name in ("photos", "docs", "scratch"):
        s3.create_bucket(Bucket=name)
    bodies = {
        ("photos", "2024/cat.jpg"): os.urandom(300_000),
        ("photos", "2024/dog.jpg"): os.urandom(12_345),
        ("docs", "readme.md"): b"# version 1\n",
        ("docs", "old.txt"): b"to be deleted",
        ("docs", "empty"): b"",
        ("scratch", "tmp"): b"short-lived",
    }
    for (bucket, key), body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-test",
                      CacheControl="max-age=60", Metadata={"origin": f"{bucket}/{key}"})
    bodies[("docs", "readme.md")] = b"# version 2, longer than the first\n"
    s3.put_object(Bucket="docs", Key="readme.md", Body=bodies[("docs", "readme.md")],
                  ContentType="text/markdown", Metadata={"rev": "2"})
    s3.delete_object(Bucket="docs", Key="old.txt")
    del bodies[("docs", "old.txt")]
    s3.delete_object(Bucket="scratch", Key="tmp")
    del bodies[("scratch", "tmp")]
    s3.delete_bucket(Bucket="scratch")
    before = snapshot(s3)
    assert sorted(before) == ["docs", "photos"]

    rc = srv.restart()
    assert rc == 0 and not srv.forced_stop, f"SIGTERM should end the server cleanly, got {rc}"

    s3 = srv.client()
    assert snapshot(s3) == before
    for (bucket, key), body in bodies.items():
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == body, (bucket, key)
    assert s3.head_object(Bucket="docs", Key="readme.md")["Metadata"] == {"rev": "2"}
    assert s3_error(lambda: s3.get_object(Bucket="docs", Key="old.txt")) == ("NoSuchKey", 404)
    assert s3_error(lambda: s3.list_objects_v2(Bucket="scratch")) == ("NoSuchBucket", 404)

    # The restarted server carries on: new writes work and the log still replays.
    s3.put_object(Bucket="docs", Key="after-restart", Body=b"new")
    assert s3.get_object(Bucket="docs", Key="after-restart")["Body"].read() == b"new"
    s3.create_bucket(Bucket="scratch")
    assert s3.list_objects_v2(Bucket="scratch")["KeyCount"] == 0
    check_verify(srv)


# -- kill -9 --------------------------------------------------------------------------------


def test_kill9_right_after_acknowledged_puts_keeps_every_one(server_factory):
    srv = server_factory()
    s3 = srv.client()
    s3.create_bucket(Bucket="crash")
    bodies = {f"obj-{i:02d}": os.urandom(1000 * i + 1) for i in range(20)}
    for key, body in bodies.items():
        assert s3.put_object(Bucket="crash", Key=key, Body=body)["ETag"] == quoted_etag(body)
    srv.kill9()  # immediately after the 20th acknowledgement

    srv.start()
    s3 = srv.client()
    assert all_keys(s3, "crash") == sorted(bodies)
    for key, body in bodies.items():
        got = s3.get_object(Bucket="crash", Key=key)
        assert got["Body"].read() == body, key
        assert got["ETag"] == quoted_etag(body), key
    check_verify(srv)


def test_kill9_after_concurrent_puts_keeps_every_acknowledged_one(server_factory):
    srv = server_factory()
    s3 = srv.client()
    buckets = ["conc-a", "conc-b"]
    for name in buckets:
        s3.create_bucket(Bucket=name)
    bodies = {(buckets[i % 2], f"k/{i:03d}"): os.urandom(4096 + i) for i in range(48)}

    def put(item):
        (bucket, key), body = item
        return s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        etags = list(pool.map(put, bodies.items()))
    assert etags == [quoted_etag(b) for b in bodies.values()]
    srv.kill9()

    srv.start()
    s3 = srv.client()
    for name in buckets:
        assert all_keys(s3, name) == sorted(k for b, k in bodies if b == name)
    for (bucket, key), body in bodies.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body, (bucket, key)
    check_verify(srv)


def test_kill9_after_overwrite_and_deletes_keeps_them(server_factory):
    srv = server_factory()
    s3 = srv.client()
    s3.create_bucket(Bucket="mutations")
    s3.create_bucket(Bucket="short-lived")
    s3.put_object(Bucket="mutations", Key="a", Body=b"a1")
    s3.put_object(Bucket="mutations", Key="b", Body=b"b1")
    s3.put_object(Bucket="mutations", Key="a", Body=b"a2, the second version")
    s3.delete_object(Bucket="mutations", Key="b")
    s3.delete_bucket(Bucket="short-lived")
    srv.kill9()

    srv.start()
    s3 = srv.client()
    assert s3.get_object(Bucket="mutations", Key="a")["Body"].read() == b"a2, the second version"
    assert s3_error(lambda: s3.get_object(Bucket="mutations", Key="b")) == ("NoSuchKey", 404)
    assert all_keys(s3, "mutations") == ["a"]
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "mutations" in names and "short-lived" not in names
    check_verify(srv)


def start_partial_put(srv, path: str, full_body: bytes, sent: int) -> socket.socket:
    """Sends a signed PUT announcing len(full_body) bytes with Expect: 100-continue, waits for
    the server's 100 Continue (it has authenticated the request and is reading the body), then
    sends only `sent` bytes. Returns the open socket."""
    headers = sigv4.sign_headers(
        method="PUT", host=srv.host, path=path, access_key=srv.access_key,
        secret_key=srv.secret_key, region=REGION, payload_hash=sigv4.sha256_hex(full_body))
    headers.update({"Content-Length": str(len(full_body)), "Expect": "100-continue"})
    head = f"PUT {sigv4.request_target(path)} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", srv.s3_port), timeout=10)
    sock.sendall(head.encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    assert reply.startswith(b"HTTP/1.1 100"), reply[:300]
    sock.sendall(full_body[:sent])
    return sock


def test_kill9_during_an_upload_leaves_no_partial_object(server_factory):
    srv = server_factory()
    s3 = srv.client()
    s3.create_bucket(Bucket="partial")
    s3.put_object(Bucket="partial", Key="existing", Body=b"version 1")

    full = os.urandom(8 * MiB)
    sockets = [start_partial_put(srv, "/partial/new-object", full, 3 * MiB),
               start_partial_put(srv, "/partial/existing", full, 5 * MiB)]
    srv.kill9()  # neither upload was acknowledged
    for sock in sockets:
        sock.close()

    srv.start()
    s3 = srv.client()
    assert s3_error(lambda: s3.head_object(Bucket="partial", Key="new-object"))[1] == 404
    got = s3.get_object(Bucket="partial", Key="existing")
    assert got["Body"].read() == b"version 1"
    assert all_keys(s3, "partial") == ["existing"]
    check_verify(srv)


def test_sigterm_closes_an_upload_stuck_past_the_grace_period_and_exits_cleanly(server_factory):
    srv = server_factory()
    s3 = srv.client()
    s3.create_bucket(Bucket="draining")
    s3.put_object(Bucket="draining", Key="kept", Body=b"acknowledged")
    # A request in flight whose client stops sending: the server waits for it through the
    # shutdown grace period (10 s), then closes its connection and exits normally.
    stuck = start_partial_put(srv, "/draining/stuck", os.urandom(2 * MiB), 1 * MiB)
    rc = srv.stop(timeout=60)
    assert rc == 0, srv.log_tail()
    assert not srv.forced_stop
    assert "shutdown grace over, closing connections connections=1" in srv.log_tail(), \
        srv.log_tail()
    stuck.settimeout(5)
    try:
        assert stuck.recv(4096) == b""  # closed by the server, no response
    except ConnectionResetError:
        pass
    stuck.close()

    srv.start()
    s3 = srv.client()
    assert all_keys(s3, "draining") == ["kept"]
    assert s3.get_object(Bucket="draining", Key="kept")["Body"].read() == b"acknowledged"


# -- the event log --------------------------------------------------------------------------


def run_mixed_workload(s3) -> tuple:
    """Returns (the expected mutation events in order, the expected reads as a Counter)."""
    s3.create_bucket(Bucket="ev-one")
    s3.create_bucket(Bucket="ev-two")
    s3.create_bucket(Bucket="ev-gone")
    s3.put_object(Bucket="ev-one", Key="alpha.txt", Body=b"alpha 1")
    s3.put_object(Bucket="ev-one", Key="dir/beta.bin", Body=os.urandom(5000))
    s3.put_object(Bucket="ev-two", Key="gamma", Body=b"gamma")
    s3.put_object(Bucket="ev-one", Key="alpha.txt", Body=b"alpha 2")  # overwrite
    s3.delete_object(Bucket="ev-one", Key="dir/beta.bin")
    assert s3.get_object(Bucket="ev-one", Key="alpha.txt")["Body"].read() == b"alpha 2"
    assert s3.get_object(Bucket="ev-two", Key="gamma", Range="bytes=1-2")["Body"].read() == b"am"
    s3.head_object(Bucket="ev-two", Key="gamma")  # a read event with head=true
    s3.list_objects_v2(Bucket="ev-one")
    s3.put_object(Bucket="ev-gone", Key="x", Body=b"x")
    s3.delete_object(Bucket="ev-gone", Key="x")
    s3.delete_bucket(Bucket="ev-gone")
    mutations = [
        ("container_created", "ev-one", ""),
        ("container_created", "ev-two", ""),
        ("container_created", "ev-gone", ""),
        ("artifact_committed", "ev-one", "alpha.txt"),
        ("artifact_committed", "ev-one", "dir/beta.bin"),
        ("artifact_committed", "ev-two", "gamma"),
        ("artifact_committed", "ev-one", "alpha.txt"),
        ("artifact_deleted", "ev-one", "dir/beta.bin"),
        ("artifact_committed", "ev-gone", "x"),
        ("artifact_deleted", "ev-gone", "x"),
        ("container_deleted", "ev-gone", ""),
    ]
    reads = collections.Counter({("ev-one", "alpha.txt", "GET"): 1,
                                 ("ev-two", "gamma", "GET"): 1,
                                 ("ev-two", "gamma", "HEAD"): 1,
                                 ("ev-one", "", "ListObjectsV2"): 1})
    return mutations, reads


def summarize(events: list) -> tuple:
    """Mutations in log order; reads (GET, HEAD, listings) counted, their order is free."""
    accesses = ("artifact_read", "container_listed")
    mutations = [(e["type"], e["container"], e.get("path", "")) for e in events
                 if e["type"] not in accesses]
    reads = collections.Counter(
        (e["container"], e["path"],
         e["payload"].get("operation") if e["type"] == "container_listed"
         else "HEAD" if e["payload"].get("head") else "GET")
        for e in events if e["type"] in accesses)
    return mutations, reads


def test_event_log_records_a_mixed_workload_and_replays_to_the_same_views(server_factory):
    srv = server_factory()
    expected_mutations, expected_reads = run_mixed_workload(srv.client())

    # Read events are appended without waiting for durability: poll until both are there.
    events = poll(srv.events, lambda evs: summarize(evs)[1] == expected_reads, timeout=10,
                  what="the read events of both GETs, the HEAD and the LIST")
    for e in events:
        assert {"sequence", "type", "container"} <= set(e), e
    sequences = [int(e["sequence"]) for e in events]
    assert sequences == list(range(1, len(events) + 1)), "gap-free, ascending from 1"
    ours = [e for e in events if e["container"] in ("ev-one", "ev-two", "ev-gone")]
    assert {e["type"] for e in ours} == DATA_EVENT_TYPES
    mutations, reads = summarize(ours)
    assert mutations == expected_mutations
    assert reads == expected_reads

    check_verify(srv)

    tail2 = srv.events(n=2)
    assert [int(e["sequence"]) for e in tail2] == sequences[-2:]

    stats = srv.vaultctl("events", "stats")
    assert stats.returncode == 0, stats.stderr
    for event_type in DATA_EVENT_TYPES:
        assert event_type in stats.stdout, stats.stdout

    overwrite = [e for e in ours if e["type"] == "artifact_committed"
                 and e["path"] == "alpha.txt"][1]
    shown = srv.vaultctl("events", "show", str(overwrite["sequence"]))
    assert shown.returncode == 0, shown.stderr
    assert "alpha.txt" in shown.stdout and "ev-one" in shown.stdout
    assert "artifact_committed" in shown.stdout
    missing = srv.vaultctl("events", "show", str(sequences[-1] + 1000))
    assert missing.returncode != 0

    # With the server stopped, the log replays the same way.
    assert srv.stop() == 0
    check_verify(srv)
    assert [int(e["sequence"]) for e in srv.events()] == sequences


# -- admin endpoints and metrics ------------------------------------------------------------


def request_counts(srv) -> dict:
    """vaultaire_s3_requests_total by (op, status), other labels summed, zero series dropped."""
    out = collections.Counter()
    for (name, labels), value in srv.metrics().items():
        if name == "vaultaire_s3_requests_total" and value:
            d = dict(labels)
            out[(d["op"], d["status"])] += int(value)
    return dict(out)


def test_admin_endpoints_and_metrics_count_the_requests_made(server_factory):
    srv = server_factory()
    for path in ("/health", "/ready"):
        assert srv.admin_get(path).status == 200, path
    resp = srv.admin_get("/metrics")
    assert resp.status == 200
    assert (resp.header("Content-Type") or "").startswith("text/plain")
    assert request_counts(srv) == {}

    s3 = srv.client()
    s3.create_bucket(Bucket="metered")
    for i in range(3):
        s3.put_object(Bucket="metered", Key=f"k{i}", Body=b"v" * (i + 1))
    s3.get_object(Bucket="metered", Key="k0")["Body"].read()
    s3.get_object(Bucket="metered", Key="k2", Range="bytes=0-0")["Body"].read()
    s3_error(lambda: s3.get_object(Bucket="metered", Key="missing"))
    s3.head_object(Bucket="metered", Key="k1")
    s3.list_objects_v2(Bucket="metered")
    s3.delete_object(Bucket="metered", Key="k1")
    s3.list_buckets()
    expected = {
        ("CreateBucket", "200"): 1,
        ("PutObject", "200"): 3,
        ("GetObject", "200"): 1,
        ("GetObject", "206"): 1,
        ("GetObject", "404"): 1,
        ("HeadObject", "200"): 1,
        ("ListObjectsV2", "200"): 1,
        ("DeleteObject", "204"): 1,
        ("ListBuckets", "200"): 1,
    }
    # A request may be counted just after its response is sent: poll briefly.
    try:
        poll(lambda: request_counts(srv), lambda c: c == expected, timeout=5,
             what="request counters")
    except HarnessError:
        pass
    assert request_counts(srv) == expected

    text = srv.admin_get("/metrics").body.decode()
    assert "# TYPE vaultaire_s3_requests_total counter" in text

    def last_sequences():
        return (metric(srv.metrics(), "vaultaire_events_last_sequence"),
                int(srv.events(n=1)[-1]["sequence"]))

    gauge, last = poll(last_sequences, lambda p: p[0] == p[1], timeout=10,
                       what="vaultaire_events_last_sequence to match the log")
    assert gauge >= 5  # 1 bucket + 3 puts + 1 delete, plus read events

    for path in ("/health", "/ready"):
        assert srv.admin_get(path).status == 200, path
