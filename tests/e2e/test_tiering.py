"""Tiers end to end: storage classes on writes and in every answer, restores of objects on a
tier whose reads need one, moves by policy onto a remote tier (a second Vaultaire server behind
the `s3` driver) while clients read and overwrite, and a crash injected at each step of a move.

Servers run with --test-clock: POST /admin/v1/test/clock lets days pass in a request, and
POST /admin/v1/tiering/run runs a decision pass and waits for its moves and restores.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from botocore.exceptions import ClientError

from admin import Admin
from harness import ACCESS_KEY, SECRET_KEY, Server, find_free_port, four_tier_config, poll, unique_name

DAY = 86400
KIB = 1024


# -- helpers --------------------------------------------------------------------------------

def blob_files(srv: Server, driver: str) -> List[Path]:
    """The committed blobs of a local driver of `srv` (its temporary files excluded)."""
    root = srv.data_dir / "drivers" / driver / "blobs"
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file()]


def settles(fn, expected, what: str, timeout: float = 15.0):
    """Released blobs are removed a moment later ([gc] release_delay_ms, and not while a read
    holds them): polls fn() until it returns `expected`."""
    return poll(fn, lambda v: v == expected, timeout, what, interval=0.1)


def write_config(path: Path, *, policy: str = "age-rules", warm_remote: Optional[Server] = None,
                 remote_bucket: str = "", bandwidth_mib: int = 0, extra: str = "") -> Path:
    """Four tiers like the default ones; warm on `warm_remote` (an `s3` driver) when given."""
    path.write_text(four_tier_config(
        policy=policy, bandwidth_mib=bandwidth_mib,
        warm_endpoint=warm_remote.endpoint if warm_remote else "", warm_bucket=remote_bucket,
        warm_max_connections=4, extra=extra))
    return path


def start_tiered(server_factory, name: str, config: Optional[Path] = None,
                 env: Optional[Dict[str, str]] = None) -> Server:
    srv = server_factory(name, start=False)
    srv.extra_args = ["--test-clock"] + (["--config", str(config)] if config else [])
    srv.extra_env = dict(env or {})
    srv.start()
    return srv


def advance(srv: Server, days: float) -> None:
    resp = Admin(srv).call("POST", "/test/clock", {"advance_seconds": days * DAY})
    assert resp.status == 200, resp


def run_pass(srv: Server) -> dict:
    resp = Admin(srv).call("POST", "/tiering/run")
    assert resp.status == 200, resp
    return resp.body


def storage_class(s3, bucket: str, key: str) -> str:
    # S3 leaves STANDARD implicit in HEAD; listings always name it.
    return s3.head_object(Bucket=bucket, Key=key).get("StorageClass", "STANDARD")


def error_of(fn) -> tuple:
    with pytest.raises(ClientError) as e:
        fn()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def verify_log(srv: Server) -> None:
    res = srv.vaultctl("events", "verify")
    assert res.returncode == 0, f"events verify failed:\n{res.stdout}\n{res.stderr}"


def event_types(srv: Server, bucket: str, key: str) -> List[str]:
    return [e["type"] for e in srv.events() if e["container"] == bucket and e["path"] == key]


# -- storage classes --------------------------------------------------------------------------

def test_storage_class_on_put_picks_the_tier_and_is_reported(server, s3, bucket):
    classes = ["STANDARD", "STANDARD_IA", "ONEZONE_IA", "GLACIER_IR", "DEEP_ARCHIVE", "GLACIER",
               "REDUCED_REDUNDANCY", "INTELLIGENT_TIERING"]
    reported = {"STANDARD": "STANDARD", "STANDARD_IA": "STANDARD_IA", "ONEZONE_IA": "STANDARD_IA",
                "GLACIER_IR": "GLACIER_IR", "DEEP_ARCHIVE": "DEEP_ARCHIVE",
                "GLACIER": "DEEP_ARCHIVE", "REDUCED_REDUNDANCY": "STANDARD",
                "INTELLIGENT_TIERING": "STANDARD"}
    before = {d: len(blob_files(server, d)) for d in ("local", "warm", "cold", "frozen")}
    for c in classes:
        s3.put_object(Bucket=bucket, Key=f"k-{c}", Body=c.encode() * 100, StorageClass=c)
    for c in classes:
        assert storage_class(s3, bucket, f"k-{c}") == reported[c], c
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {f"k-{c}": reported[c] for c in classes}
    v1 = {o["Key"]: o["StorageClass"] for o in s3.list_objects(Bucket=bucket)["Contents"]}
    assert v1 == listed
    # The bytes are on each tier's driver.
    after = {d: len(blob_files(server, d)) for d in ("local", "warm", "cold", "frozen")}
    assert after["warm"] - before["warm"] == 2
    assert after["cold"] - before["cold"] == 1
    assert after["frozen"] - before["frozen"] == 2
    assert after["local"] - before["local"] == 3
    # Instant tiers read back as written.
    for c in ("STANDARD_IA", "GLACIER_IR", "ONEZONE_IA"):
        assert s3.get_object(Bucket=bucket, Key=f"k-{c}")["Body"].read() == c.encode() * 100


def test_an_unknown_storage_class_is_refused(s3, bucket):
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                                          StorageClass="OUTPOSTS")) == ("InvalidStorageClass", 400)
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="k"))[1] == 404
    assert error_of(lambda: s3.create_multipart_upload(
        Bucket=bucket, Key="m", StorageClass="SNOW")) == ("InvalidStorageClass", 400)


def test_a_multipart_upload_keeps_its_storage_class(server, s3, bucket):
    warm_before = len(blob_files(server, "warm"))
    up = s3.create_multipart_upload(Bucket=bucket, Key="big", StorageClass="STANDARD_IA")
    uid = up["UploadId"]
    parts = [os.urandom(5 * 1024 * KIB), os.urandom(123 * KIB)]
    etags = [s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=i + 1,
                            Body=p)["ETag"] for i, p in enumerate(parts)]
    listed = s3.list_parts(Bucket=bucket, Key="big", UploadId=uid)
    assert listed["StorageClass"] == "STANDARD_IA"
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["StorageClass"] for u in uploads if u["UploadId"] == uid] == ["STANDARD_IA"]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    assert storage_class(s3, bucket, "big") == "STANDARD_IA"
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == b"".join(parts)
    assert len(blob_files(server, "warm")) - warm_before == 2  # the parts, where they were written


def test_copy_with_a_storage_class_moves_the_bytes(server, s3, bucket):
    body = os.urandom(300 * KIB)
    etag = s3.put_object(Bucket=bucket, Key="doc", Body=body)["ETag"]
    cold_before = len(blob_files(server, "cold"))
    # Copying an object onto itself is allowed when it changes the storage class.
    s3.copy_object(Bucket=bucket, Key="doc", CopySource={"Bucket": bucket, "Key": "doc"},
                   StorageClass="GLACIER_IR")
    head = s3.head_object(Bucket=bucket, Key="doc")
    assert head["StorageClass"] == "GLACIER_IR"
    assert head["ETag"] == etag
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == body
    assert len(blob_files(server, "cold")) - cold_before == 1
    # Without a new class (or metadata) it is still the illegal self-copy.
    assert error_of(lambda: s3.copy_object(Bucket=bucket, Key="doc", CopySource={
        "Bucket": bucket, "Key": "doc"}, StorageClass="GLACIER_IR")) == ("InvalidRequest", 400)


# -- restores ---------------------------------------------------------------------------------

def test_a_frozen_object_is_read_after_a_restore_until_it_expires(server_factory):
    srv = start_tiered(server_factory, "restore")
    s3 = srv.client()
    bucket = unique_name("frz")
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(200 * KIB)
    s3.put_object(Bucket=bucket, Key="archive.tar", Body=body, StorageClass="DEEP_ARCHIVE")
    s3.put_object(Bucket=bucket, Key="hot.txt", Body=b"hot")

    head = s3.head_object(Bucket=bucket, Key="archive.tar")
    assert head["StorageClass"] == "DEEP_ARCHIVE" and "Restore" not in head
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="archive.tar")) == \
        ("InvalidObjectState", 403)
    # Neither can it be the source of a copy to another tier.
    assert error_of(lambda: s3.copy_object(
        Bucket=bucket, Key="thawed", CopySource={"Bucket": bucket, "Key": "archive.tar"},
        StorageClass="STANDARD")) == ("InvalidObjectState", 403)
    # Only objects on such a tier are restored.
    assert error_of(lambda: s3.restore_object(Bucket=bucket, Key="hot.txt",
                                              RestoreRequest={"Days": 1})) == \
        ("InvalidObjectState", 403)
    assert error_of(lambda: s3.restore_object(Bucket=bucket, Key="missing",
                                              RestoreRequest={"Days": 1}))[1] == 404
    bad = srv.signed("POST", f"/{bucket}/archive.tar", query=[("restore", "")],
                     body=b"<RestoreRequest><Days>")
    assert bad.status == 400 and b"MalformedXML" in bad.body
    zero = srv.signed("POST", f"/{bucket}/archive.tar", query=[("restore", "")],
                      body=b"<RestoreRequest><Days>0</Days></RestoreRequest>")
    assert zero.status == 400 and b"InvalidArgument" in zero.body

    r = s3.restore_object(Bucket=bucket, Key="archive.tar", RestoreRequest={"Days": 2})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    # Asked while it runs: RestoreAlreadyInProgress (unless it finished in between).
    again = srv.signed("POST", f"/{bucket}/archive.tar", query=[("restore", "")],
                       body=b"<RestoreRequest><Days>2</Days></RestoreRequest>")
    assert again.status in (409, 200), again
    if again.status == 409:
        assert b"RestoreAlreadyInProgress" in again.body
    report = run_pass(srv)
    assert report["failed"] == 0
    head = s3.head_object(Bucket=bucket, Key="archive.tar")
    assert head["Restore"].startswith('ongoing-request="false", expiry-date="'), head["Restore"]
    assert head["StorageClass"] == "DEEP_ARCHIVE"
    got = s3.get_object(Bucket=bucket, Key="archive.tar")
    assert got["Body"].read() == body
    assert s3.get_object(Bucket=bucket, Key="archive.tar", Range="bytes=100-199")["Body"].read() \
        == body[100:200]

    # Asking again extends the copy: 200, and it outlives the first expiry.
    r = s3.restore_object(Bucket=bucket, Key="archive.tar", RestoreRequest={"Days": 5})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    advance(srv, 3)
    run_pass(srv)
    assert s3.get_object(Bucket=bucket, Key="archive.tar")["Body"].read() == body
    advance(srv, 3)
    report = run_pass(srv)
    assert report["expired"] == 1
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="archive.tar")) == \
        ("InvalidObjectState", 403)
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="archive.tar")
    # The copy's blob went with it: hot.txt's is the only blob left on the hot driver.
    settles(lambda: len(blob_files(srv, "local")), 1, "the restored copy's removal")
    assert len(blob_files(srv, "frozen")) == 1
    types = event_types(srv, bucket, "archive.tar")
    assert types.count("restore_requested") == 2
    assert types.count("artifact_restored") == 1
    assert types.count("restore_expired") == 1
    verify_log(srv)


def test_deleting_a_restored_object_releases_its_copy(server_factory):
    srv = start_tiered(server_factory, "restore-delete")
    s3 = srv.client()
    bucket = unique_name("frz")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=os.urandom(10 * KIB), StorageClass="GLACIER")
    s3.restore_object(Bucket=bucket, Key="a", RestoreRequest={"Days": 1})
    run_pass(srv)
    assert len(blob_files(srv, "local")) == 1  # the restored copy
    s3.delete_object(Bucket=bucket, Key="a")
    settles(lambda: (len(blob_files(srv, "local")), len(blob_files(srv, "frozen"))), (0, 0),
            "the object's and its copy's removal")
    verify_log(srv)


# -- moves ------------------------------------------------------------------------------------

class ReadersAndWriters:
    """Readers GET random keys and check every body is one the key was ever given (never a mix,
    never another key's) and matches its ETag; a writer overwrites some keys meanwhile."""

    def __init__(self, s3, bucket: str, versions: Dict[str, List[bytes]], read: List[str],
                 overwrite: List[str]) -> None:
        self.s3, self.bucket, self.versions = s3, bucket, versions
        self.read, self.overwrite = read, overwrite
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors: List[str] = []
        self.reads = 0
        self.writes = 0
        self.threads = [threading.Thread(target=self.reader, daemon=True) for _ in range(3)]
        self.threads.append(threading.Thread(target=self.writer, daemon=True))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)
        return False

    def reader(self) -> None:
        rng = random.Random()
        keys = self.read
        while not self.stop.is_set():
            key = rng.choice(keys)
            try:
                got = self.s3.get_object(Bucket=self.bucket, Key=key)
                body = got["Body"].read()
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                self.errors.append(f"GET {key}: {e!r}")
                continue
            with self.lock:
                known = list(self.versions[key])
                self.reads += 1
            if body not in known:
                self.errors.append(f"GET {key}: {len(body)} bytes that were never written")
            elif "-" not in got["ETag"] and got["ETag"].strip('"') != hashlib.md5(body).hexdigest():
                self.errors.append(f"GET {key}: body does not match its ETag")

    def writer(self) -> None:
        rng = random.Random(7)
        while not self.stop.is_set():
            key = rng.choice(self.overwrite)
            body = os.urandom(rng.randint(150, 400) * KIB)
            with self.lock:
                self.versions[key].append(body)  # readable from the moment it may commit
            try:
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
            except Exception as e:  # noqa: BLE001
                self.errors.append(f"PUT {key}: {e!r}")
            self.writes += 1
            time.sleep(0.02)


def test_age_rules_per_bucket_and_prefix_from_the_configuration(server_factory, tmp_path):
    bucket = unique_name("rules")
    rules = f"""
[[tiering.rules]]
prefix = "{bucket}/logs/"
steps = [{{tier = "hot", days = 0}}, {{tier = "cold", days = 2}}]
min_size_kib = 0
"""
    config = write_config(tmp_path / "rules.toml", policy="age-rules", extra=rules)
    srv = start_tiered(server_factory, "rules", config)
    s3 = srv.client()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="logs/app.log", Body=b"l" * 1000)
    s3.put_object(Bucket=bucket, Key="photos/cat.jpg", Body=b"p" * 200 * KIB)
    advance(srv, 3)
    run_pass(srv)
    assert storage_class(s3, bucket, "logs/app.log") == "GLACIER_IR"  # its own ladder
    assert storage_class(s3, bucket, "photos/cat.jpg") == "STANDARD"  # default: warm at 7 days
    advance(srv, 5)
    run_pass(srv)
    assert storage_class(s3, bucket, "photos/cat.jpg") == "STANDARD_IA"
    assert s3.get_object(Bucket=bucket, Key="logs/app.log")["Body"].read() == b"l" * 1000
    verify_log(srv)


BAD_RULES = """
[[tiering.rules]]
prefix = "b/"
steps = [{tier = "hot", days = 0}, {tier = "glacial", days = 2}]
"""


@pytest.mark.parametrize("config, message", [
    # An unknown tier in a rule, in an otherwise valid four-tier configuration.
    (None, "invalid [[tiering.rules]]: the rule for prefix 'b/' names tier 'glacial', "
           "which [[tiers]] does not have"),
    ('[tiering]\npolicy = "age-rules"\nrules = "b/"\n',
     "'tiering.rules' must be an array of tables ([[tiering.rules]])"),
    ('[tiering]\npolicy = "age-rules"\nrules = [1, 2]\n',
     "each of 'tiering.rules' must be a table"),
    ('tiers = 3\n', "'tiers' must be an array of tables ([[tiers]])"),
    ('tiers = ["hot"]\n', "each of 'tiers' must be a table"),
])
def test_bad_age_rules_stop_the_server_with_a_clear_message(server_factory, tmp_path, config,
                                                            message):
    bad = tmp_path / "bad.toml"
    if config is None:
        write_config(bad, policy="age-rules", extra=BAD_RULES)
    else:
        bad.write_text(config)
    srv = server_factory("badrules", start=False)
    cmd = [str(srv.bin_path / "vaultaire"), "serve", "--data-dir", str(tmp_path / "data"),
           "--s3-listen", f"127.0.0.1:{find_free_port()}",
           "--admin-listen", f"127.0.0.1:{find_free_port()}", "--config", str(bad)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL, env={**os.environ,
                                                        "VAULTAIRE_ROOT_ACCESS_KEY": ACCESS_KEY,
                                                        "VAULTAIRE_ROOT_SECRET_KEY": SECRET_KEY})
    assert res.returncode != 0
    assert message in res.stderr, res.stderr


def test_moves_to_a_remote_tier_under_reads_and_overwrites(server_factory, tmp_path):
    remote = server_factory("remote")
    remote_bucket = unique_name("tier")
    remote.client().create_bucket(Bucket=remote_bucket)
    config = write_config(tmp_path / "a.toml", warm_remote=remote, remote_bucket=remote_bucket,
                          bandwidth_mib=24)
    srv = start_tiered(server_factory, "a", config)
    s3 = srv.client()
    bucket = unique_name("data")
    s3.create_bucket(Bucket=bucket)
    rng = random.Random(1)
    versions: Dict[str, List[bytes]] = {}
    for i in range(24):
        key = f"logs/{i:02d}.bin"
        versions[key] = [os.urandom(rng.randint(150, 600) * KIB)]
        s3.put_object(Bucket=bucket, Key=key, Body=versions[key][0])
    # A multipart object moves part by part.
    parts = [os.urandom(5 * 1024 * KIB), os.urandom(777 * KIB)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="logs/multi.bin")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="logs/multi.bin", UploadId=up, PartNumber=i + 1,
                            Body=p)["ETag"] for i, p in enumerate(parts)]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="logs/multi.bin", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    versions["logs/multi.bin"] = [b"".join(parts)]
    overwritten = [f"logs/{i:02d}.bin" for i in range(0, 24, 4)]

    advance(srv, 8)  # past the age rules' 7 days on hot
    # Readers leave the last keys alone, so that some objects stay unread.
    read = [k for k in versions if k < "logs/18"]
    with ReadersAndWriters(s3, bucket, versions, read, overwritten) as load:
        report = run_pass(srv)
    assert not load.errors, "\n".join(load.errors[:20])
    assert load.reads > 0 and load.writes > 0
    assert report["failed"] == 0, report
    assert report["moved"] + report["abandoned"] >= len(versions) - len(overwritten)

    # Every object reads as its last version; untouched ones are on the remote tier now.
    def remote_keys_now() -> List[str]:
        return [o["Key"] for o in
                remote.client().list_objects_v2(Bucket=remote_bucket).get("Contents", [])]
    on_warm = 0
    for key, bodies in versions.items():
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == bodies[-1], key
        cls = storage_class(s3, bucket, key)
        if key not in overwritten:
            assert cls == "STANDARD_IA", key
        on_warm += cls == "STANDARD_IA"
    # The remote holds exactly the warm objects' blobs (two for the multipart one): nothing lost,
    # nothing left behind by moves that were abandoned.
    settles(lambda: len(remote_keys_now()), on_warm + 1, "the remote's blobs")
    assert all(k.startswith("vaultaire-warm/") for k in remote_keys_now())
    # And the hot driver holds only the hot objects' blobs.
    settles(lambda: len(blob_files(srv, "local")), len(versions) - on_warm, "hot blobs released")

    moved = [e for e in srv.events() if e["type"] == "artifact_migrated"]
    assert len(moved) == report["moved"]
    assert all(e["payload"]["to_tier"] == "warm" and e["principal"] == "vaultaire:tiering"
               for e in moved)

    # A read promotes a warm object back to hot at the next pass (age rules). Every object was
    # just read (above, on the day of the moves): all come back to hot the next day, and go to
    # warm again a week later; then one read brings back exactly that object.
    advance(srv, 1)
    assert run_pass(srv)["moved"] == on_warm
    advance(srv, 8)
    assert run_pass(srv)["moved"] == len(versions)
    assert run_pass(srv)["moved"] == 0
    warm = sorted(k for k in versions if storage_class(s3, bucket, k) == "STANDARD_IA")
    assert warm == sorted(versions)
    remote_before = settles(lambda: len(remote_keys_now()), len(warm) + 1,
                            "every object's blobs on the remote")
    key = "logs/05.bin"
    reads_before = sum(1 for e in srv.events() if e["type"] == "artifact_read"
                       and e["path"] == key and not e["payload"].get("head"))
    s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    # A GET's event is appended without waiting for the disk: the pass sees it once it is in
    # the log.
    poll(lambda: sum(1 for e in srv.events() if e["type"] == "artifact_read"
                     and e["path"] == key and not e["payload"].get("head")),
         lambda n: n == reads_before + 1, timeout=10, what="the GET's read event")
    advance(srv, 1)
    assert run_pass(srv)["moved"] == 1
    assert storage_class(s3, bucket, key) == "STANDARD"
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == versions[key][-1]
    settles(lambda: len(remote_keys_now()),
            remote_before - (2 if key == "logs/multi.bin" else 1), "the promoted blob released")
    on_warm = len(warm) - 1

    # vaultctl shows the report and explains a decision.
    res = srv.admin_ctl("tiers", "report")
    assert res.returncode == 0, res.stderr
    warm_row = [line.split() for line in res.stdout.splitlines() if line.startswith("warm ")]
    assert warm_row and int(warm_row[0][2]) == on_warm, res.stdout
    assert "saved" in res.stdout
    res = srv.admin_ctl("tiers", "explain", f"{bucket}/{key}")
    assert res.returncode == 0, res.stderr
    assert "age-rules" in res.stdout and "decision      hot" in res.stdout, res.stdout
    res = srv.admin_ctl("tiers", "explain", f"{bucket}/nope")
    assert res.returncode == 2 and "no such" in res.stderr, res.stderr
    verify_log(srv)
    verify_log(remote)


@pytest.mark.parametrize("step", ["copied", "verified", "committed", "released"])
def test_a_crash_at_any_step_of_a_move_leaves_one_good_copy(server_factory, tmp_path, step):
    config = write_config(tmp_path / "crash.toml")
    srv = start_tiered(server_factory, "crash", config, env={"VAULTAIRE_CRASH_AT": f"tiering.{step}"})
    s3 = srv.client()
    bucket = unique_name("crash")
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(300 * KIB)
    s3.put_object(Bucket=bucket, Key="obj", Body=body)
    advance(srv, 8)
    offset = Admin(srv).call("GET", "/test/clock").body["offset_seconds"]
    with pytest.raises(Exception):
        Admin(srv).call("POST", "/tiering/run")
    assert srv.wait_crash() == 86

    # The restarted server resumes the planned move; the test clock starts again from zero, so
    # the days pass again for the policy.
    srv.extra_env = {}
    srv.start()
    advance(srv, offset / DAY)
    run_pass(srv)
    assert storage_class(s3, bucket, "obj") == "STANDARD_IA"
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == body
    # Exactly one copy is left: the one the views point to.
    settles(lambda: (len(blob_files(srv, "local")), len(blob_files(srv, "warm"))), (0, 1),
            "one copy, on warm")
    assert [e["type"] for e in srv.events()].count("artifact_migrated") == 1
    verify_log(srv)
