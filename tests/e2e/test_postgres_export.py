"""The PostgreSQL export end to end (docs/export.md): real servers with [export.postgres], a real
PostgreSQL cluster (postgres.py), boto3 traffic, and `vaultctl export postgres`.

The contract checked everywhere: the `events` table equals the log row by row (sequence, type,
tenant, container, path, and the whole event as `payload`), with no gap and no duplicate,
whatever was killed or restarted in between; `usage_hourly` holds the billing actor's numbers
for every complete hour.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from admin import Admin
import sigv4
from harness import REGION, Server, find_free_port, metric, poll, unique_name
from postgres import Database, PostgresCluster, pg_cluster, pg_db  # noqa: F401 (fixtures)

HOUR = 3600
MIB = 1024 * 1024
EXPORT_TIMEOUT = 60.0  # seconds for the exporter to catch up with the log


# -- helpers --------------------------------------------------------------------------------

def exporting_server(server_factory, db: Database, name: str = "server", *,
                     batch_events: int = 5000, poll_interval_ms: int = 50,
                     test_clock: bool = False, start: bool = True) -> Server:
    """A server whose [export.postgres] writes into `db`."""
    srv = server_factory(name, start=False)
    config = srv.data_dir.parent / f"{name}.toml"
    config.write_text("[export.postgres]\n"
                      f'dsn = "{db.dsn}"\n'
                      f"batch_events = {batch_events}\n"
                      f"poll_interval_ms = {poll_interval_ms}\n")
    srv.extra_args = (["--test-clock"] if test_clock else []) + ["--config", str(config)]
    if start:
        srv.start()
    return srv


def exported_seq(db: Database, name: str = "default") -> int:
    """export_state.last_seq, 0 before the first export (or while PostgreSQL is down)."""
    try:
        rows = db.query("SELECT last_seq FROM export_state WHERE name = %s", (name,))
    except Exception:  # noqa: BLE001 - not created yet, or the server is stopped
        return 0
    return rows[0][0] if rows else 0


def wait_exported(srv: Server, db: Database, timeout: float = EXPORT_TIMEOUT) -> List[dict]:
    """Waits until PostgreSQL holds the whole log; returns the log (event_to_json per event)."""
    def state():
        log = srv.events(1_000_000)
        return log, exported_seq(db)

    log, _ = poll(state, lambda s: s[1] == (s[0][-1]["sequence"] if s[0] else 0), timeout,
                  "the export to catch up with the log", interval=0.2)
    return log


def event_rows(db: Database) -> List[tuple]:
    return db.query("SELECT seq, type, tenant, container, path, payload FROM events ORDER BY seq")


def assert_events_equal_log(db: Database, log: List[dict]) -> None:
    """The events table is the log, row by row: no gap, no duplicate, nothing else."""
    rows = event_rows(db)
    seqs = [r[0] for r in rows]
    assert seqs == list(range(1, len(rows) + 1)), "gap or duplicate in the events table"
    assert len(rows) == len(log), f"{len(rows)} rows for {len(log)} events"
    for row, event in zip(rows, log):
        assert row[:5] == (event["sequence"], event["type"], event["tenant"], event["container"],
                           event["path"]), f"row {row[0]} differs from the log"
        assert row[5] == event, f"payload of row {row[0]} differs from the log"


def settled_log(srv: Server) -> List[dict]:
    """The log once nothing more arrives (read events ride in the next group commit)."""
    return poll(lambda: (srv.events(1_000_000), srv.events(1_000_000)),
                lambda pair: pair[0] == pair[1], 20, "the log to settle", interval=0.2)[1]


class Writer(threading.Thread):
    """Puts small objects into a bucket until stopped (or, with `until_error`, until the
    server goes away): traffic while the export runs."""

    def __init__(self, srv: Server, bucket: str, until_error: bool = False) -> None:
        super().__init__(daemon=True)
        self.s3 = srv.client(read_timeout=10)
        self.bucket = bucket
        self.until_error = until_error
        self.stopping = threading.Event()
        self.written = 0
        self.errors: List[str] = []

    def run(self) -> None:
        i = 0
        while not self.stopping.is_set():
            try:
                self.s3.put_object(Bucket=self.bucket, Key=f"w/{i:06d}", Body=b"x" * (i % 300))
                self.written += 1
            except Exception as e:  # noqa: BLE001 - counted, and ends the run when expected
                self.errors.append(repr(e))
                if self.until_error:
                    return
            i += 1

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
        assert not self.is_alive(), "the writer did not stop"


def vaultctl_export(srv: Server, *args: str):
    return srv.vaultctl("export", "postgres", *args)


# -- (a) the events table is the log ---------------------------------------------------------

def test_events_table_equals_the_log(server_factory, pg_db):
    srv = exporting_server(server_factory, pg_db)
    s3 = srv.client()
    bucket = unique_name("pg")
    s3.create_bucket(Bucket=bucket)
    keys = ["plain.txt", "dir/ünïcødé ✓.bin", "quotes \"and' \\back\\slashes", "sp ace/+plus%",
            "ctl\ttab\u0001"]
    for n, key in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=key, Body=b"v" * (100 + n), ContentType="text/plain",
                      Metadata={"owner": "emile", "n": str(n)})
    s3.put_object(Bucket=bucket, Key="plain.txt", Body=b"overwritten")
    assert s3.get_object(Bucket=bucket, Key="plain.txt")["Body"].read() == b"overwritten"
    s3.get_object(Bucket=bucket, Key=keys[1], Range="bytes=0-9")["Body"].read()
    s3.head_object(Bucket=bucket, Key=keys[2])
    s3.copy_object(Bucket=bucket, Key="copy.txt", CopySource={"Bucket": bucket, "Key": keys[0]})
    s3.list_objects_v2(Bucket=bucket, Prefix="dir/")
    s3.delete_object(Bucket=bucket, Key=keys[3])
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    parts = []
    for number, body in ((1, b"a" * (5 * MIB)), (2, b"b" * 1000)):
        etag = s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=number,
                              Body=body)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=upload,
                                 MultipartUpload={"Parts": parts})
    aborted = s3.create_multipart_upload(Bucket=bucket, Key="gone.bin")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="gone.bin", UploadId=aborted)

    log = wait_exported(srv, pg_db)
    assert_events_equal_log(pg_db, log)
    types = {e["type"] for e in log}
    assert {"container_created", "artifact_committed", "artifact_read", "artifact_deleted",
            "upload_created", "part_uploaded", "upload_aborted"} <= types

    # The columns for SQL users repeat the payload.
    rows = pg_db.query(
        "SELECT seq, time, time_unix_nanos, size, etag, tier, bytes_sent, payload FROM events "
        "ORDER BY seq")
    for seq, at, nanos, size, etag, tier, bytes_sent, event in rows:
        p = event["payload"]
        assert nanos == event["time_unix_nanos"]
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        assert at == epoch + datetime.timedelta(microseconds=nanos // 1000), seq
        assert size == p.get("size"), seq
        assert etag == (p.get("etag") or None), seq
        assert tier == (p.get("tier") or p.get("to_tier") or None), seq
        assert bytes_sent == p.get("bytes_sent"), seq
    big = pg_db.query("SELECT size, etag FROM events WHERE type = 'artifact_committed' "
                      "AND container = %s AND path = 'big.bin'", (bucket,))
    assert big == [(5 * MIB + 1000, s3.head_object(Bucket=bucket, Key="big.bin")["ETag"]
                    .strip('"'))]

    # The schema came from the embedded migrations, recorded once each.
    assert pg_db.query("SELECT version, name FROM schema_migrations ORDER BY version") == [
        (0, "000_schema_migrations.sql"), (1, "001_events.sql"), (2, "002_usage_hourly.sql"),
        (3, "003_export_state.sql")]
    assert {"events", "usage_hourly", "export_state", "schema_migrations"} <= set(
        pg_db.tables())

    # A restart applies nothing again and exports nothing twice.
    srv.restart()
    s3 = srv.client()
    s3.put_object(Bucket=bucket, Key="after-restart", Body=b"1")
    assert_events_equal_log(pg_db, wait_exported(srv, pg_db))
    assert len(pg_db.query("SELECT * FROM schema_migrations")) == 4
    assert metric(srv.metrics(), "vaultaire_export_postgres_last_sequence") > 0


# -- (b) the server killed while it exports --------------------------------------------------

def test_kill9_mid_export_leaves_no_gap_and_no_duplicate(server_factory, pg_db):
    # Small batches and a short poll: many transactions, so the kill lands among them.
    srv = exporting_server(server_factory, pg_db, batch_events=7, poll_interval_ms=10)
    bucket = unique_name("pg")
    srv.client().create_bucket(Bucket=bucket)
    writer = Writer(srv, bucket, until_error=True)
    writer.start()
    poll(lambda: exported_seq(pg_db), lambda v: v >= 60, EXPORT_TIMEOUT,
         "the export to be under way")
    srv.kill9()
    writer.stop()
    assert writer.written > 0

    srv.start()
    s3 = srv.client()
    for i in range(20):
        s3.put_object(Bucket=bucket, Key=f"after/{i}", Body=b"y" * i)
    log = wait_exported(srv, pg_db)
    assert_events_equal_log(pg_db, log)
    assert sum(1 for e in log if e["type"] == "artifact_committed") >= writer.written + 20


# -- (c) PostgreSQL stopped while the server writes ------------------------------------------

def test_exporter_catches_up_after_postgres_restart(server_factory):
    cluster = PostgresCluster()
    try:
        cluster.start()
        db = cluster.create_database()
        srv = exporting_server(server_factory, db, batch_events=25, poll_interval_ms=20)
        bucket = unique_name("pg")
        srv.client().create_bucket(Bucket=bucket)
        writer = Writer(srv, bucket)
        writer.start()
        poll(lambda: exported_seq(db), lambda v: v >= 30, EXPORT_TIMEOUT,
             "the export to be under way")
        cluster.stop("fast")
        # S3 keeps working while PostgreSQL is away; the exporter fails, backs off, retries.
        poll(lambda: metric(srv.metrics(), "vaultaire_export_postgres_failures_total"),
             lambda v: v >= 2, 30, "the exporter to notice PostgreSQL is gone", interval=0.1)
        written_while_down = writer.written
        time.sleep(1.0)
        assert writer.written > written_while_down
        cluster.start()
        time.sleep(0.5)
        writer.stop()
        assert writer.errors == []
        log = wait_exported(srv, db)
        assert_events_equal_log(db, log)
        assert "postgres export recovered" in srv.log_path.read_text(errors="replace")
    finally:
        cluster.remove()


# -- (d) vaultctl export postgres ------------------------------------------------------------

def test_vaultctl_one_shot_export(server_factory, pg_cluster):
    srv = server_factory()  # no [export.postgres]: vaultctl does it, while the server runs
    s3 = srv.client()
    bucket = unique_name("pg")
    s3.create_bucket(Bucket=bucket)
    for i in range(30):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"z" * i)
        if i % 3 == 0:
            s3.get_object(Bucket=bucket, Key=f"k{i}")["Body"].read()
    s3.delete_object(Bucket=bucket, Key="k1")
    log = settled_log(srv)

    db = pg_cluster.create_database()
    res = vaultctl_export(srv, "--dsn", db.dsn, "--batch-events", "10")
    assert res.returncode == 0, res.stderr
    assert f"exported {len(log)} events (last_seq {len(log)})" in res.stdout
    assert_events_equal_log(db, log)

    # Again: nothing new, nothing written twice.
    res = vaultctl_export(srv, "--dsn", db.dsn, "--json")
    assert res.returncode == 0, res.stderr
    assert '"events":0' in res.stdout and f'"last_seq":{len(log)}' in res.stdout
    assert_events_equal_log(db, log)

    # --from-seq replaces the rows from there on: still one row per event.
    from_seq = len(log) // 2
    res = vaultctl_export(srv, "--dsn", db.dsn, "--from-seq", str(from_seq))
    assert res.returncode == 0, res.stderr
    assert f"exported {len(log) - from_seq + 1} events" in res.stdout
    assert_events_equal_log(db, log)
    # Past the exported position it cannot leave a gap: it continues where the export stands.
    res = vaultctl_export(srv, "--dsn", db.dsn, "--from-seq", str(len(log) + 100))
    assert res.returncode == 0, res.stderr
    assert_events_equal_log(db, log)

    # New events: only those are exported.
    s3.put_object(Bucket=bucket, Key="late", Body=b"late")
    log = settled_log(srv)
    res = vaultctl_export(srv, "--dsn", db.dsn)
    assert res.returncode == 0, res.stderr
    assert "exported 1 events" in res.stdout
    assert_events_equal_log(db, log)


def test_vaultctl_export_refuses_bad_dsns(server_factory, pg_cluster):
    srv = server_factory()
    srv.client().create_bucket(Bucket=unique_name("pg"))

    res = vaultctl_export(srv, "--dsn", "this is not a dsn")
    assert res.returncode == 1
    assert "bad PostgreSQL DSN" in res.stderr

    res = vaultctl_export(srv, "--dsn", f"host=127.0.0.1 port={find_free_port()} dbname=x "
                                         "user=postgres connect_timeout=5")
    assert res.returncode == 4, res.stderr
    assert "connecting to PostgreSQL failed" in res.stderr

    res = vaultctl_export(srv, "--dsn", pg_cluster.dsn("no_such_database"))
    assert res.returncode == 4, res.stderr
    assert "no_such_database" in res.stderr

    res = srv.vaultctl("export", "postgres")  # --dsn is required
    assert res.returncode == 1
    assert "--dsn" in res.stderr


@pytest.mark.parametrize("section, complaint", [
    ('dsn = "no equals sign"', "bad PostgreSQL DSN"),
    ('dsn = "host=x"\nbatch_size = 10', "unknown key 'export.postgres.batch_size'"),
    ("batch_events = 10", "export.postgres needs a dsn"),
])
def test_server_refuses_a_bad_export_section(server_factory, section, complaint):
    srv = server_factory(start=False)
    config = srv.data_dir.parent / "bad.toml"
    config.write_text(f"[export.postgres]\n{section}\n")
    srv.extra_args = ["--config", str(config)]
    with pytest.raises(AssertionError, match=complaint):
        srv.start()


# -- (e) hourly usage --------------------------------------------------------------------------

def to_hour(value) -> int:
    """Hours since the epoch of a PostgreSQL timestamptz or an ISO 8601 string."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(value.timestamp()) // HOUR


def iso_hour(hour: int) -> str:
    return datetime.datetime.fromtimestamp(hour * HOUR, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


USAGE_COLUMNS = ["byte_seconds", "objects", "bytes", "requests_a", "requests_b", "bytes_in",
                 "bytes_out", "bytes_retrieved", "restore_requests", "restores",
                 "restored_bytes", "transitions_in", "deletes"]


def pg_usage(db: Database) -> Dict[tuple, dict]:
    rows = db.query(f"SELECT tenant, hour, tier, {', '.join(USAGE_COLUMNS)} FROM usage_hourly")
    return {(r[0], to_hour(r[1]), r[2]): {c: int(v) for c, v in zip(USAGE_COLUMNS, r[3:])}
            for r in rows}


def api_usage(srv: Server, from_hour: int, to_hour_: int) -> Dict[tuple, dict]:
    """GET /admin/v1/billing/usage for [from_hour, to_hour_): the billing actor's own rows."""
    resp = sigv4.signed_request(srv.admin_endpoint, "GET", "/admin/v1/billing/usage",
                                access_key=srv.access_key, secret_key=srv.secret_key,
                                region=REGION,
                                query=[("from", iso_hour(from_hour)), ("to", iso_hour(to_hour_))])
    assert resp.status == 200, resp.body
    return {(r["tenant"], to_hour(r["hour"]), r["tier"]): {c: r[c] for c in USAGE_COLUMNS}
            for r in json.loads(resp.body)["rows"]}


def usage_until(db: Database) -> Optional[int]:
    try:
        rows = db.query("SELECT usage_until_hour FROM export_state WHERE name = 'default'")
    except Exception:  # noqa: BLE001 - not created yet
        return None
    return to_hour(rows[0][0]) if rows and rows[0][0] is not None else None


def test_usage_hourly_holds_complete_hours(server_factory, pg_db):
    srv = exporting_server(server_factory, pg_db, test_clock=True)
    s3 = srv.client()
    bucket = unique_name("pg")
    s3.create_bucket(Bucket=bucket)
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"u{i}", Body=b"u" * 1000)
    s3.get_object(Bucket=bucket, Key="u0")["Body"].read()
    log = wait_exported(srv, pg_db)
    first_hour = log[0]["time_unix_nanos"] // (HOUR * 10**9)
    last_hour = log[-1]["time_unix_nanos"] // (HOUR * 10**9)
    # The hour of the last event is not complete: not exported (nor any later one).
    assert all(hour < last_hour for (_, hour, _) in pg_usage(pg_db))

    # Two hours pass; the next event moves the billing clock past them.
    assert Admin(srv).call("POST", "/test/clock", {"advance_seconds": 2 * HOUR}).status == 200
    s3.put_object(Bucket=bucket, Key="later", Body=b"l" * 10)
    now_hour = settled_log(srv)[-1]["time_unix_nanos"] // (HOUR * 10**9)
    assert now_hour >= first_hour + 2
    poll(lambda: usage_until(pg_db), lambda h: h == now_hour, EXPORT_TIMEOUT,
         "usage_hourly to reach the billing clock's hour")
    exported = pg_usage(pg_db)
    assert exported, "no usage rows for the complete hours"
    assert {k[1] for k in exported} <= set(range(first_hour, now_hour))
    assert exported == api_usage(srv, first_hour, now_hour)
    # The puts came before the clock moved: the hour before now_hour held them all along.
    stored = [v for (t, h, tier), v in exported.items() if h == now_hour - 1 and tier == "hot"]
    assert len(stored) == 1 and stored[0]["bytes"] == 5000 and stored[0]["objects"] == 5
    assert stored[0]["byte_seconds"] == 5000 * HOUR
    assert sum(v["bytes_in"] for v in exported.values()) == 5000
    assert sum(v["requests_b"] for v in exported.values()) >= 1

    # More time: the new complete hours are added, the old rows stay as they were.
    assert Admin(srv).call("POST", "/test/clock", {"advance_seconds": HOUR}).status == 200
    s3.put_object(Bucket=bucket, Key="even-later", Body=b"e")
    later_hour = settled_log(srv)[-1]["time_unix_nanos"] // (HOUR * 10**9)
    poll(lambda: usage_until(pg_db), lambda h: h == later_hour, EXPORT_TIMEOUT,
         "usage_hourly to follow the billing clock")
    again = pg_usage(pg_db)
    assert {k: v for k, v in again.items() if k[1] < now_hour} == exported
    assert again == api_usage(srv, first_hour, later_hour)
