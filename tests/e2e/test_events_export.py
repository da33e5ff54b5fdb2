"""The log as a product (docs/event-log.md): `vaultctl events export` in its three formats and
with every filter, `vaultctl events state` (time travel), and the admin listener's
`GET /admin/v1/events` stream, against a real server.

Every expectation is computed from what the test did (the request ids boto3 saw, the sequence
numbers the log assigned), never from timing. Read and listing events are appended without the
client waiting for them, so tests that count them first poll until the log holds them.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import json
import signal
import subprocess
import urllib.parse
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

import sigv4
from admin import Tenant
from harness import REGION, Server, poll, unique_name

EVENTS_PATH = "/admin/v1/events"
CSV_COLUMNS = ["seq", "time", "tenant", "container", "path", "type", "principal", "source",
               "request_id", "user_agent", "size", "etag", "tier", "bytes_sent"]


# -- helpers ---------------------------------------------------------------------------------


def rid(response: dict) -> str:
    """The x-amz-request-id of a boto3 response: the event's request_id."""
    return response["ResponseMetadata"]["RequestId"]


def export(server: Server, *args: str) -> subprocess.CompletedProcess:
    return server.vaultctl("events", "export", *args)


def exported(server: Server, *args: str) -> List[dict]:
    """`events export --format jsonl ARGS` parsed; asserts exit 0."""
    res = export(server, "--format", "jsonl", *args)
    assert res.returncode == 0, res.stderr
    # Split on "\n" only: JSON escapes a newline in a key, not U+2028 and friends.
    return [json.loads(line) for line in res.stdout.split("\n") if line.strip()]


def seqs(events: Sequence[dict]) -> List[int]:
    return [e["sequence"] for e in events]


def by_request(events: Sequence[dict]) -> Dict[str, dict]:
    return {e["request_id"]: e for e in events}


def wait_for_requests(server: Server, bucket: str, request_ids: Sequence[str]) -> List[dict]:
    """The bucket's events once every one of `request_ids` is in the log (read and listing
    events are appended after their reply)."""
    wanted = set(request_ids)
    return poll(lambda: exported(server, "--container", bucket),
                lambda events: wanted <= {e["request_id"] for e in events},
                timeout=15.0, what=f"events of requests {sorted(wanted)} in {bucket}")


def ms_span(time_unix_nanos: int) -> Tuple[int, int]:
    """The nanoseconds an ISO time printed to the millisecond covers."""
    first = time_unix_nanos - time_unix_nanos % 1_000_000
    return first, first + 999_999


def state(server: Server, bucket: str, at: str, *args: str) -> subprocess.CompletedProcess:
    return server.vaultctl("events", "state", "--container", bucket, "--at", at, *args)


def state_json(server: Server, bucket: str, at: str, *args: str) -> dict:
    res = state(server, bucket, at, "--json", *args)
    assert res.returncode == 0, (res.returncode, res.stderr)
    return json.loads(res.stdout)


class Stream:
    """GET /admin/v1/events, SigV4-signed as tests/e2e/admin.py signs, read line by line as
    the server sends them. Every read has a deadline (the socket timeout)."""

    def __init__(self, server: Server, access_key: str, secret_key: str,
                 query: Sequence[Tuple[str, str]], timeout: float = 20.0) -> None:
        host = f"127.0.0.1:{server.admin_port}"
        headers = sigv4.sign_headers(method="GET", host=host, path=EVENTS_PATH,
                                     access_key=access_key, secret_key=secret_key, region=REGION,
                                     query=query, payload_hash=sigv4.sha256_hex(b""))
        self.conn = http.client.HTTPConnection("127.0.0.1", server.admin_port, timeout=timeout)
        self.conn.putrequest("GET", sigv4.request_target(EVENTS_PATH, query), skip_host=True,
                             skip_accept_encoding=True)
        for name, value in headers.items():
            self.conn.putheader(name, value)
        self.conn.endheaders()
        self.resp = self.conn.getresponse()

    @property
    def status(self) -> int:
        return self.resp.status

    def line(self) -> Optional[dict]:
        """The next line as JSON; None at the end of the stream."""
        raw = self.resp.readline()
        if not raw:
            return None
        assert raw.endswith(b"\n"), raw
        return json.loads(raw)

    def until(self, stop, limit: int = 100000) -> List[dict]:
        """Lines up to and including the first for which stop(line) holds."""
        out = []
        for _ in range(limit):
            item = self.line()
            assert item is not None, f"the stream ended before the line awaited; got {out[-5:]}"
            out.append(item)
            if stop(item):
                return out
        raise AssertionError(f"no awaited line in {limit} lines")

    def rest(self) -> List[dict]:
        """Every line up to the end of the stream."""
        out = []
        while (item := self.line()) is not None:
            out.append(item)
        return out

    def close(self) -> None:
        self.conn.close()


def root_stream(server: Server, **query: str) -> Stream:
    return Stream(server, server.access_key, server.secret_key, list(query.items()))


def events_only(lines: Sequence[dict]) -> List[dict]:
    return [line for line in lines if "heartbeat" not in line]


# -- export: filters -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario(server, s3):
    """Two buckets and one of each kind of request in the first; the request ids of each."""
    a, b = unique_name("ea"), unique_name("eb")
    ids: Dict[str, str] = {}
    ids["create_a"] = rid(s3.create_bucket(Bucket=a))
    ids["create_b"] = rid(s3.create_bucket(Bucket=b))
    ids["put_k1"] = rid(s3.put_object(Bucket=a, Key="k1", Body=b"one"))
    ids["put_k2"] = rid(s3.put_object(Bucket=a, Key="k2", Body=b"two two"))
    ids["put_b1"] = rid(s3.put_object(Bucket=b, Key="b1", Body=b"bee"))
    get = s3.get_object(Bucket=a, Key="k1")
    get["Body"].read()
    ids["get_k1"] = rid(get)
    ids["head_k2"] = rid(s3.head_object(Bucket=a, Key="k2"))
    ids["copy_k3"] = rid(s3.copy_object(Bucket=a, Key="k3", CopySource={"Bucket": a, "Key": "k1"}))
    ids["list_a"] = rid(s3.list_objects_v2(Bucket=a))
    ids["delete_k2"] = rid(s3.delete_object(Bucket=a, Key="k2"))
    events_a = wait_for_requests(server, a, [ids[n] for n in ids if n not in ("create_b", "put_b1")])
    return a, b, ids, events_a


def ids_of(events: Sequence[dict]) -> List[str]:
    return [e["request_id"] for e in events]


def test_export_of_a_bucket_is_exactly_its_events(server, scenario):
    a, _, ids, events_a = scenario
    assert all(e["container"] == a for e in events_a)
    assert sorted(ids_of(events_a)) == sorted(ids[n] for n in ids if n not in ("create_b", "put_b1"))
    assert seqs(events_a) == sorted(seqs(events_a))
    got = by_request(events_a)
    assert got[ids["create_a"]]["type"] == "container_created"
    assert got[ids["get_k1"]]["type"] == "artifact_read"
    assert "head" not in got[ids["get_k1"]]["payload"]
    assert got[ids["head_k2"]]["payload"]["head"] is True
    assert got[ids["copy_k3"]]["payload"].get("shares_blobs") is True
    assert got[ids["put_k2"]]["payload"]["size"] == 7
    assert got[ids["put_k2"]]["payload"]["etag"] == hashlib.md5(b"two two").hexdigest()


@pytest.mark.parametrize("types, names", [
    ("PUT", ["put_k1", "put_k2", "copy_k3"]),
    ("COPY", ["copy_k3"]),
    ("GET", ["get_k1"]),
    ("HEAD", ["head_k2"]),
    ("DELETE", ["delete_k2"]),
    ("LIST", ["list_a"]),
    ("get,head", ["get_k1", "head_k2"]),
    ("artifact_read", ["get_k1", "head_k2"]),
    ("container_created,Delete", ["create_a", "delete_k2"]),
    ("MIGRATE,RESTORE", []),
])
def test_export_type_filter_selects_exactly(server, scenario, types, names):
    a, _, ids, _ = scenario
    got = exported(server, "--container", a, "--type", types)
    assert sorted(ids_of(got)) == sorted(ids[n] for n in names), types


def test_export_unknown_type_is_an_error(server):
    res = export(server, "--type", "PUT,artifact_put")
    assert res.returncode == 1
    assert "artifact_put" in res.stderr
    assert res.stdout == ""


def test_export_tenant_and_container_filters(server, scenario):
    a, b, ids, events_a = scenario
    assert seqs(exported(server, "--tenant", "default", "--container", a)) == seqs(events_a)
    assert exported(server, "--tenant", "someone-else", "--container", a) == []
    got_b = exported(server, "--container", b)
    assert ids_of(got_b) == [ids["create_b"], ids["put_b1"]]
    everything = exported(server, "--tenant", "default")
    assert all(e["tenant"] == "default" for e in everything)
    assert {ids[n] for n in ids} <= set(ids_of(everything))


def test_export_sequence_range_is_inclusive_and_exact(server, scenario):
    _, _, ids, events_a = scenario
    got = by_request(events_a)
    first, last = got[ids["put_k2"]]["sequence"], got[ids["copy_k3"]]["sequence"]
    ranged = exported(server, "--from-seq", str(first), "--until-seq", str(last))
    assert seqs(ranged) == list(range(first, last + 1))
    assert exported(server, "--from-seq", str(last), "--until-seq", str(last))[0]["request_id"] \
        == ids["copy_k3"]
    assert exported(server, "--from-seq", str(last + 1), "--until-seq", str(last)) == []


def test_export_time_range_follows_the_printed_precision(server, scenario):
    a, _, ids, events_a = scenario
    # A --since after the bucket's first millisecond and an --until before its last one, so
    # that each must leave events out.
    first_ns, last_ns = events_a[0]["time_unix_nanos"], events_a[-1]["time_unix_nanos"]
    later = [e for e in events_a if ms_span(e["time_unix_nanos"])[0] > first_ns]
    earlier = [e for e in events_a if ms_span(e["time_unix_nanos"])[1] < last_ns]
    assert later and earlier, f"all of the bucket's events in one millisecond? {events_a}"
    since_event, until_event = later[0], earlier[-1]
    since_first, _ = ms_span(since_event["time_unix_nanos"])
    _, until_last = ms_span(until_event["time_unix_nanos"])

    expected = [e["sequence"] for e in events_a if e["time_unix_nanos"] >= since_first]
    assert seqs(exported(server, "--container", a, "--since", since_event["time"])) == expected
    assert 0 < len(expected) < len(events_a)

    expected = [e["sequence"] for e in events_a if e["time_unix_nanos"] <= until_last]
    assert seqs(exported(server, "--container", a, "--until", until_event["time"])) == expected
    assert 0 < len(expected) < len(events_a)

    expected = [e["sequence"] for e in events_a
                if since_first <= e["time_unix_nanos"] <= until_last]
    both = exported(server, "--container", a, "--since", since_event["time"],
                    "--until", until_event["time"])
    assert seqs(both) == expected

    # A date covers its whole day; the server's clock is today's.
    day = since_event["time"][:10]
    assert seqs(exported(server, "--container", a, "--since", day, "--until", day)) == \
        [e["sequence"] for e in events_a if e["time"][:10] == day]

    res = export(server, "--since", "last tuesday")
    assert res.returncode == 1 and "--since" in res.stderr


def test_export_to_a_file_equals_stdout(server, scenario, tmp_path):
    a, _, _, _ = scenario
    out = tmp_path / "a.jsonl"
    res = export(server, "--container", a, "--output", str(out))
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    assert out.read_text() == export(server, "--container", a).stdout


# -- export: csv and s3-event ----------------------------------------------------------------


def test_csv_round_trips_an_awkward_key(server, s3, bucket, tmp_path):
    key = 'odd, "quoted"\nkey with spaces'
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"payload!")
    s3.put_object(Bucket=bucket, Key="plain.txt", Body=b"x")
    out = tmp_path / "events.csv"
    res = export(server, "--format", "csv", "--container", bucket, "--output", str(out))
    assert res.returncode == 0, res.stderr
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == CSV_COLUMNS
    records = [dict(zip(CSV_COLUMNS, row)) for row in rows[1:]]
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)
    assert [r["type"] for r in records] == ["container_created", "artifact_committed",
                                            "artifact_committed"]
    awkward = records[1]
    assert awkward["path"] == key
    assert awkward["container"] == bucket and awkward["tenant"] == "default"
    assert awkward["size"] == "8"
    assert awkward["etag"] == put["ETag"].strip('"')
    assert awkward["request_id"] == rid(put)
    assert awkward["tier"] == "hot"
    assert awkward["bytes_sent"] == ""
    assert awkward["principal"] == server.access_key
    assert records[2]["path"] == "plain.txt"
    jsonl = exported(server, "--container", bucket)
    assert [int(r["seq"]) for r in records] == seqs(jsonl)
    assert [r["time"] for r in records] == [e["time"] for e in jsonl]


def test_s3_event_records(server, s3, bucket):
    key = "dir/red flower+1,ü.txt"
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"petals")
    copy = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": key})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="multi")
    part = s3.upload_part(Bucket=bucket, Key="multi", UploadId=upload["UploadId"], PartNumber=1,
                          Body=b"part-one")
    complete = s3.complete_multipart_upload(
        Bucket=bucket, Key="multi", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    get = s3.get_object(Bucket=bucket, Key=key)
    get["Body"].read()
    delete = s3.delete_object(Bucket=bucket, Key=key)
    wait_for_requests(server, bucket, [rid(get)])

    res = export(server, "--format", "s3-event", "--container", bucket, "--region", "eu-west-3")
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.split("\n") if line.strip()]
    assert all(list(line) == ["Records"] and len(line["Records"]) == 1 for line in lines)
    records = [line["Records"][0] for line in lines]
    # No record for the bucket's creation, the upload's start and part, or the GET.
    assert [r["eventName"] for r in records] == [
        "ObjectCreated:Put", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload",
        "ObjectRemoved:Delete"]
    assert [r["responseElements"]["x-amz-request-id"] for r in records] == \
        [rid(put), rid(copy), rid(complete), rid(delete)]
    for r in records:
        assert r["eventVersion"] == "2.1"
        assert r["eventSource"] == "aws:s3"
        assert r["awsRegion"] == "eu-west-3"
        assert r["eventTime"].endswith("Z")
        assert r["userIdentity"]["principalId"] == server.access_key
        assert r["requestParameters"]["sourceIPAddress"] == "127.0.0.1"
        assert r["s3"]["s3SchemaVersion"] == "1.0"
        assert r["s3"]["configurationId"] == "vaultaire"
        assert r["s3"]["bucket"]["name"] == bucket
        assert r["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    put_obj = records[0]["s3"]["object"]
    assert put_obj["key"] == "dir/red+flower%2B1%2C%C3%BC.txt"
    assert urllib.parse.unquote_plus(put_obj["key"]) == key
    assert put_obj["size"] == 6
    assert put_obj["eTag"] == put["ETag"].strip('"')
    assert records[2]["s3"]["object"]["size"] == 8
    assert records[2]["s3"]["object"]["eTag"] == complete["ETag"].strip('"')
    assert "size" not in records[3]["s3"]["object"]
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 4
    jsonl = by_request(exported(server, "--container", bucket))
    assert [int(s, 16) for s in sequencers] == \
        [jsonl[rid(x)]["sequence"] for x in (put, copy, complete, delete)]
    # The region defaults to us-east-1.
    default = export(server, "--format", "s3-event", "--container", bucket, "--type", "DELETE")
    assert json.loads(default.stdout)["Records"][0]["awsRegion"] == "us-east-1"


def test_sigint_stops_an_export_with_whole_lines(server, s3, bucket):
    # Enough events that the export cannot fit in a pipe nobody reads.
    last = None
    for _ in range(400):
        last = s3.list_objects_v2(Bucket=bucket)
    wait_for_requests(server, bucket, [rid(last)])
    total = len(exported(server))
    cmd = [str(server.bin_path / "vaultctl"), "events", "export", "--data-dir",
           str(server.data_dir)]
    # Unbuffered, so that communicate() (which reads the pipe itself) misses nothing.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, bufsize=0)
    try:
        first = proc.stdout.readline()  # it writes: the handler is in place, the pipe fills
        assert first
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert b"interrupted" in err
    lines = (first + rest).split(b"\n")
    assert lines[-1] == b""  # ends with a whole line
    got = [json.loads(line) for line in lines[:-1]]
    assert seqs(got) == list(range(1, len(got) + 1))
    assert len(got) < total


# -- state: time travel ----------------------------------------------------------------------


def test_state_before_and_after_an_overwrite_and_a_delete(server, s3, bucket):
    v1 = s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"one")
    keep = s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"kept")
    v2 = s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"second!")
    gone = s3.delete_object(Bucket=bucket, Key="doc.txt")
    events = exported(server, "--container", bucket)
    at = {name: by_request(events)[rid(r)]["sequence"]
          for name, r in (("v1", v1), ("keep", keep), ("v2", v2), ("gone", gone))}
    created = events[0]
    assert created["type"] == "container_created"

    def objects(at_arg: str, *args: str) -> Dict[str, dict]:
        body = state_json(server, bucket, at_arg, *args)
        assert body["container"] == bucket and body["tenant"] == "default"
        return {o["key"]: o for o in body["objects"]}

    after_v1 = objects(str(at["v1"]))
    assert list(after_v1) == ["doc.txt"]
    assert after_v1["doc.txt"]["size"] == 3
    assert after_v1["doc.txt"]["etag"] == v1["ETag"].strip('"')
    assert after_v1["doc.txt"]["storage_class"] == "STANDARD"
    assert after_v1["doc.txt"]["tier"] == "hot"
    assert after_v1["doc.txt"]["sequence"] == at["v1"]

    after_v2 = objects(str(at["v2"]))
    assert sorted(after_v2) == ["doc.txt", "keep.txt"]
    assert after_v2["doc.txt"]["size"] == 7
    assert after_v2["doc.txt"]["etag"] == v2["ETag"].strip('"')
    assert after_v2["keep.txt"]["size"] == 4

    after_delete = objects(str(at["gone"]))
    assert list(after_delete) == ["keep.txt"]
    assert objects(str(at["v2"]), "--prefix", "doc").keys() == {"doc.txt"}
    assert objects(str(created["sequence"])) == {}

    # Before the bucket existed: exit 2.
    before = state(server, bucket, str(created["sequence"] - 1))
    assert before.returncode == 2, before.stderr
    assert bucket in before.stderr
    assert state(server, bucket, "2001-01-01").returncode == 2

    # By time: the last event of the whole log within the millisecond printed.
    everything = exported(server)
    v1_event = by_request(events)[rid(v1)]
    _, last_ns = ms_span(v1_event["time_unix_nanos"])
    expected = max(e["sequence"] for e in everything if e["time_unix_nanos"] <= last_ns)
    body = state_json(server, bucket, v1_event["time"])
    assert body["sequence"] == expected
    doc = {o["key"]: o for o in body["objects"]}["doc.txt"]
    assert doc["size"] == (3 if expected < at["v2"] else 7)

    text = state(server, bucket, str(at["v2"]))
    assert text.returncode == 0, text.stderr
    assert "doc.txt" in text.stdout and "keep.txt" in text.stdout

    bad = state(server, bucket, "whenever")
    assert bad.returncode == 1


def test_state_of_another_tenants_bucket(server):
    t = Tenant.create(server)
    s3t = t.s3("admin")
    name = unique_name("tt")
    s3t.create_bucket(Bucket=name)
    s3t.put_object(Bucket=name, Key="theirs", Body=b"abc")
    last = exported(server, "--tenant", t.name)[-1]["sequence"]
    body = state_json(server, name, str(last), "--tenant", t.name)
    assert [o["key"] for o in body["objects"]] == ["theirs"]
    # The same name in tenant default does not exist.
    assert state(server, name, str(last)).returncode == 2


# -- the stream ------------------------------------------------------------------------------


def test_stream_resumes_after_a_disconnect_without_gap_or_duplicate(server, s3, bucket):
    before = [rid(s3.put_object(Bucket=bucket, Key=f"a{i}", Body=b"x")) for i in range(6)]
    third = before[2]

    first = root_stream(server, **{"from": "1", "follow": "true"})
    assert first.status == 200
    assert first.resp.getheader("Content-Type") == "application/x-ndjson"
    got1 = events_only(first.until(lambda l: l.get("request_id") == third))
    first.close()  # mid-stream: the later puts were on their way
    assert seqs(got1) == list(range(1, len(got1) + 1))

    resumed = root_stream(server, **{"from": str(got1[-1]["sequence"] + 1), "follow": "true"})
    got2 = events_only(resumed.until(lambda l: l.get("request_id") == before[-1]))
    # New events arrive on the open stream as they are appended.
    live = rid(s3.put_object(Bucket=bucket, Key="live", Body=b"now"))
    got2 += events_only(resumed.until(lambda l: l.get("request_id") == live))
    resumed.close()

    all_seqs = seqs(got1) + seqs(got2)
    assert all_seqs == list(range(1, len(all_seqs) + 1))  # no gap, no duplicate
    logged = exported(server, "--until-seq", str(all_seqs[-1]))
    assert got1 + got2 == logged  # the very objects `events export` prints
    assert set(before) | {live} <= set(ids_of(got1 + got2))


def test_stream_without_follow_ends_and_heartbeats_mark_progress(server, s3, bucket):
    put = rid(s3.put_object(Bucket=bucket, Key="k", Body=b"v"))
    seq = by_request(exported(server, "--container", bucket))[put]["sequence"]
    stream = root_stream(server, **{"from": str(seq), "follow": "false"})
    lines = stream.rest()
    stream.close()
    got = events_only(lines)
    assert got[0]["request_id"] == put
    assert seqs(got) == list(range(seq, seq + len(got)))

    # Nothing to send yet: a follower first hears where the log stands.
    last = seqs(exported(server))[-1]
    follower = root_stream(server, **{"from": str(last + 1000), "follow": "true"})
    assert follower.line() == {"heartbeat": last + 999}
    follower.close()


def test_stream_rejects_bad_parameters(server):
    for query in ({"from": "abc"}, {"from": "-1"}, {"follow": "maybe"}):
        s = root_stream(server, **query)
        body = json.loads(s.resp.read())
        s.close()
        assert s.status == 400, query
        assert body["error"]["code"] == "InvalidArgument"


def test_stream_shows_a_tenant_admin_its_own_tenant_only(server, s3):
    t = Tenant.create(server)
    s3t = t.s3("admin")
    name = unique_name("ts")
    s3t.create_bucket(Bucket=name)
    theirs = rid(s3t.put_object(Bucket=name, Key="secret", Body=b"s"))
    s3.put_object(Bucket=_root_bucket(s3), Key="root", Body=b"r")
    expected = seqs(exported(server, "--tenant", t.name))

    as_admin = Stream(server, t.admin.access_key, t.admin.secret_key, [("from", "1")])
    assert as_admin.status == 200
    got = events_only(as_admin.rest())
    as_admin.close()
    assert all(e["tenant"] == t.name for e in got)
    assert seqs(got) == expected
    assert theirs in ids_of(got)

    named = Stream(server, t.admin.access_key, t.admin.secret_key,
                   [("from", "1"), ("tenant", t.name)])
    assert seqs(events_only(named.rest())) == expected
    named.close()

    root = root_stream(server, **{"from": "1", "tenant": t.name})
    assert seqs(events_only(root.rest())) == expected
    root.close()

    for key, query in ((t.admin, [("from", "1"), ("tenant", "default")]),
                       (t.member, [("from", "1")])):
        refused = Stream(server, key.access_key, key.secret_key, query)
        body = json.loads(refused.resp.read())
        refused.close()
        assert refused.status == 403, query
        assert body["error"]["code"] == "AccessDenied"


def _root_bucket(s3) -> str:
    name = unique_name("rb")
    s3.create_bucket(Bucket=name)
    return name


def test_stream_ends_when_the_server_stops(server_factory):
    srv = server_factory()
    s3 = srv.client()
    name = unique_name("st")
    s3.create_bucket(Bucket=name)
    stream = root_stream(srv, **{"from": "1", "follow": "true"})
    assert stream.line()["type"] == "container_created"
    assert srv.stop() == 0
    rest = stream.rest()  # the final chunk arrives: a clean end, not a reset
    stream.close()
    assert all("heartbeat" in line for line in rest)
