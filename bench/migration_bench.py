#!/usr/bin/env python3
"""Migration throughput: how fast the tiering actor moves objects from the hot tier (a local
driver) to the warm tier, on (a) another local folder, (b) an `s3` driver pointing at a second
Vaultaire server on another loopback port.

A server with --test-clock and the age-rules policy (hot, then warm from day 7) is filled with
SMALL objects through S3 (random bytes, distinct per object); the clock moves 8 days and
POST /admin/v1/tiering/run, which runs a decision pass and waits for every move, is timed. Then
the same with LARGE objects (the small ones, unread, stay on warm). Each move copies the blob,
hashes it, reads the copy back, commits ArtifactMigrated and releases the old blob; the
tiering actor runs 4 moves at a time, with no bandwidth limit.

The reference, measured right before and right after each timed pass, on the same bytes:
  local  a raw copy of the same blob files (the hot driver's files before the pass, the warm
         driver's after), 4 threads, each file: copy (sendfile), fsync; then the folder fsync;
  s3     s3bench PUT of the same number of objects of the same size to the remote server,
         4 connections.
The table states migration / reference (the mean of the two reference runs).

Every object is then read back and its MD5 compared with the bytes sent; every object must be on
warm, the hot driver's folder must end empty and the warm tier must hold one blob per object.
Exits 1 when any check fails.

    bench/migration_bench.py [--bin build/bin] [--targets local,s3]
                             [--small 2000x256KiB] [--large 20x64MiB]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Set

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
import sigv4  # noqa: E402  (the e2e suite's harness and SigV4 signer)
from harness import ACCESS_KEY, REGION, SECRET_KEY, Server, four_tier_config  # noqa: E402

DAY = 86400
MIB = 1 << 20
CONCURRENCY = 4  # the tiering actor's moves at a time, and the references' threads
BUCKET = "migbench"
REMOTE_BUCKET = "warmtier"


def progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# Age rules leave smaller objects where they are (src/tiering/policy.h, min_size_bytes).
MIN_MOVED_SIZE = 128 << 10


def parse_batch(text: str) -> tuple:
    """'2000x256KiB' -> (2000, 262144)."""
    count, _, size = text.partition("x")
    units = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
    for unit, factor in units.items():
        if size.endswith(unit):
            return int(count), int(float(size[: -len(unit)]) * factor)
    return int(count), int(size)


def human(size: int) -> str:
    return f"{size >> 20} MiB" if size >= MIB else f"{size >> 10} KiB"


def config_text(target: str, remote: Optional[Server]) -> str:
    return four_tier_config(pass_interval_seconds=864000, concurrency=CONCURRENCY,
                            warm_endpoint=remote.endpoint if target == "s3" else "",
                            warm_bucket=REMOTE_BUCKET)


def start_server(bin_dir: Path, root: Path, name: str, extra: List[str]) -> Server:
    srv = Server(bin_dir, root / name, root / f"{name}.log")
    srv.log_level = "warn"
    srv.extra_args = ["--no-access-log"] + extra
    return srv.start()


def admin(srv: Server, method: str, path: str, body=None, timeout: float = 60.0) -> dict:
    data = json.dumps(body).encode() if body is not None else b""
    r = sigv4.signed_request(srv.admin_endpoint, method, "/admin/v1" + path,
                             access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION,
                             body=data, timeout=timeout)
    if r.status != 200:
        raise RuntimeError(f"{method} {path}: {r.status} {r.body[:300]!r}")
    return json.loads(r.body) if r.body.strip() else {}


def cpu_seconds(*servers: Optional[Server]) -> float:
    """User + system CPU time used so far by the servers' processes."""
    total = 0.0
    for srv in servers:
        if srv is not None:
            fields = Path(f"/proc/{srv.pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def blob_files(srv: Server, driver: str) -> Set[Path]:
    root = srv.data_dir / "drivers" / driver / "blobs"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def fill(s3, keys: List[str], size: int) -> Dict[str, str]:
    """PUTs random bytes under each key (8 at a time); returns key -> MD5 of what was sent."""
    def put(key: str) -> tuple:
        body = os.urandom(size)
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return key, hashlib.md5(body).hexdigest()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return dict(pool.map(put, keys))


def copy_reference(files: List[Path], dest: Path) -> float:
    """cp + fsync of every file into dest (CONCURRENCY threads), then dest's fsync: seconds."""
    dest.mkdir(parents=True)

    def copy(i_src) -> None:
        i, src = i_src
        dst = dest / f"{i:06d}"
        shutil.copyfile(src, dst)  # sendfile on Linux, like cp
        fd = os.open(dst, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(copy, enumerate(files)))
    fd = os.open(dest, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    elapsed = time.monotonic() - start
    shutil.rmtree(dest)
    return elapsed


def s3bench_reference(bin_dir: Path, remote: Server, bucket: str, count: int, size: int) -> float:
    """s3bench PUT of `count` objects of `size` to the remote: seconds (count / its ops/s)."""
    out = subprocess.run(
        [str(bin_dir / "s3bench"), "--endpoint", remote.endpoint, "--access-key", ACCESS_KEY,
         "--secret-key", SECRET_KEY, "--bucket", bucket, "--op", "put", "--size", str(size),
         "-c", str(CONCURRENCY), "-n", str(count), "--json"],
        check=True, capture_output=True, text=True, timeout=3600).stdout
    put = json.loads(out)["operations"]["PUT"]
    if put["errors"]:
        raise RuntimeError(f"s3bench reference: {put['errors']} errors")
    return count / put["ops_per_second"]


class Scenario:
    def __init__(self, args, target: str, root: Path) -> None:
        self.args, self.target, self.root = args, target, root
        self.bin = Path(args.bin).resolve()
        self.remote: Optional[Server] = None
        root.mkdir(parents=True)
        if target == "s3":
            self.remote = start_server(self.bin, root, "remote", [])
            self.remote.client().create_bucket(Bucket=REMOTE_BUCKET)
        cfg = root / "config.toml"
        cfg.write_text(config_text(target, self.remote))
        self.srv = start_server(self.bin, root, "server", ["--test-clock", "--config", str(cfg)])
        progress(f"{target}: servers ready")
        self.s3 = self.srv.client(read_timeout=600)
        self.s3.create_bucket(Bucket=BUCKET)
        self.sent: Dict[str, str] = {}
        self.rows: List[dict] = []
        self.refs = 0

    def reference(self, count: int, size: int, files: List[Path]) -> float:
        self.refs += 1
        if self.target == "local":
            return copy_reference(files, self.root / f"refcopy-{self.refs}")
        return s3bench_reference(self.bin, self.remote, f"ref{self.refs}", count, size)

    def phase(self, name: str, count: int, size: int) -> None:
        keys = [f"{name}/{i:06d}" for i in range(count)]
        hot_before = blob_files(self.srv, "local")
        start = time.monotonic()
        self.sent.update(fill(self.s3, keys, size))
        filled = time.monotonic() - start
        progress(f"{self.target} {name}: {count} objects written in {filled:.1f} s")
        hot_files = sorted(blob_files(self.srv, "local") - hot_before)
        if len(hot_files) != count:
            raise RuntimeError(f"{name}: {len(hot_files)} new hot blobs for {count} objects")
        warm_before = blob_files(self.srv, "warm")
        load = os.getloadavg()[0]
        ref_before = self.reference(count, size, hot_files)
        admin(self.srv, "POST", "/test/clock", {"advance_seconds": 8 * DAY})
        cpu = cpu_seconds(self.srv, self.remote)
        start = time.monotonic()
        report = admin(self.srv, "POST", "/tiering/run", timeout=3600)
        took = time.monotonic() - start
        cpu = cpu_seconds(self.srv, self.remote) - cpu
        progress(f"{self.target} {name}: moved in {took:.1f} s ({report}); reference before "
                 f"{ref_before:.1f} s")
        if report["moved"] != count or report["failed"] or report["abandoned"]:
            raise RuntimeError(f"{name}: the pass did not move every object: {report}")
        warm_files = sorted(blob_files(self.srv, "warm") - warm_before)  # local warm only
        ref_after = self.reference(count, size, warm_files)
        self.rows.append({"target": self.target, "batch": name, "count": count, "size": size,
                          "fill_s": filled, "migration_s": took, "cpu_s": cpu,
                          "ref_s": [ref_before, ref_after], "load": [load, os.getloadavg()[0]]})

    def verify(self) -> List[str]:
        """Every object on warm and read back with the bytes sent; the blobs where they belong."""
        progress(f"{self.target}: verifying")
        problems: List[str] = []
        classes: Dict[str, str] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            classes.update({o["Key"]: o["StorageClass"] for o in page.get("Contents", [])})
        if set(classes) != set(self.sent):
            problems.append(f"{len(classes)} objects listed, {len(self.sent)} written")
        off = [k for k, c in classes.items() if c != "STANDARD_IA"]
        if off:
            problems.append(f"{len(off)} objects not on warm, e.g. {off[:3]}")

        def check(key: str) -> Optional[str]:
            md5 = hashlib.md5()
            body = self.s3.get_object(Bucket=BUCKET, Key=key)["Body"]
            for chunk in iter(lambda: body.read(MIB), b""):
                md5.update(chunk)
            return None if md5.hexdigest() == self.sent[key] else key

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            bad = [k for k in pool.map(check, sorted(self.sent)) if k]
        if bad:
            problems.append(f"{len(bad)} objects read back with other bytes, e.g. {bad[:3]}")
        # Released blobs go a moment later ([gc] release_delay_ms).
        deadline = time.monotonic() + 30
        while blob_files(self.srv, "local") and time.monotonic() < deadline:
            time.sleep(0.2)
        if left := len(blob_files(self.srv, "local")):
            problems.append(f"{left} blobs left on the hot driver")
        if self.target == "local":
            warm = len(blob_files(self.srv, "warm"))
        else:
            remote_s3 = self.remote.client()
            warm = sum(len(p.get("Contents", [])) for p in remote_s3.get_paginator(
                "list_objects_v2").paginate(Bucket=REMOTE_BUCKET, Prefix="vaultaire-warm/"))
        if warm != len(self.sent):
            problems.append(f"the warm tier holds {warm} blobs for {len(self.sent)} objects")
        progress(f"{self.target}: verified ({len(problems)} problems)")
        return problems

    def stop(self) -> None:
        for srv in (self.srv, self.remote):
            if srv is None:
                continue
            rc = srv.stop()
            if rc != 0 or srv.forced_stop:
                progress(f"{self.target}: {srv.data_dir.name} did not stop cleanly "
                         f"(exit code {rc}, killed: {srv.forced_stop})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--targets", default="local,s3")
    ap.add_argument("--small", default="2000x256KiB")
    ap.add_argument("--large", default="20x64MiB")
    args = ap.parse_args()
    for option, text in (("--small", args.small), ("--large", args.large)):
        try:
            count, size = parse_batch(text)
        except ValueError:
            ap.error(f"{option} {text!r}: expected COUNTxSIZE, e.g. 2000x256KiB")
        if count < 1 or size < MIN_MOVED_SIZE:
            ap.error(f"{option} {text!r}: objects under 128 KiB never leave the hot tier (the "
                     "age rules' min_size_bytes, as AWS lifecycle), so nothing would migrate")
    # boto3 must not pick up the user's profile, endpoint, region or credentials.
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                      AWS_EC2_METADATA_DISABLED="true")
    scratch = Path(tempfile.mkdtemp(prefix="vaultaire-migbench-",
                                    dir=os.environ.get("BENCH_DIR", "/var/tmp")))
    rows: List[dict] = []
    problems: List[str] = []
    try:
        for target in args.targets.split(","):
            sc = Scenario(args, target, scratch / target)
            try:
                for name, batch in (("small", args.small), ("large", args.large)):
                    sc.phase(name, *parse_batch(batch))
                problems += [f"{target}: {p}" for p in sc.verify()]
                rows += sc.rows
            finally:
                sc.stop()
                progress(f"{target}: servers stopped")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        progress("scratch removed")

    print(f"tiering concurrency {CONCURRENCY}, no bandwidth limit; references measured right "
          f"before / right after each pass, with {CONCURRENCY} threads or connections\n")
    print("| to warm on | objects | size | migration s | objects/s | MiB/s | server CPU s "
          "| reference | reference MiB/s (before / after) | migration / reference | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    names = {"local": ("local folder", "cp + fsync"), "s3": ("s3 driver (remote Vaultaire)",
                                                              "s3bench PUT")}
    for r in rows:
        mib = r["count"] * r["size"] / MIB
        ref = [mib / s for s in r["ref_s"]]
        rate = mib / r["migration_s"]
        target, ref_name = names[r["target"]]
        print(f"| {target} | {r['count']} | {human(r['size'])} | {r['migration_s']:.1f} "
              f"| {r['count'] / r['migration_s']:.0f} | {rate:.0f} | {r['cpu_s']:.1f} | {ref_name} "
              f"| {ref[0]:.0f} / {ref[1]:.0f} | {rate / statistics.mean(ref):.2f} "
              f"| {r['load'][0]:.1f} / {r['load'][1]:.1f} |")
    print()
    if problems:
        print("VERIFICATION FAILED:\n" + "\n".join(f"- {p}" for p in problems))
        return 1
    total = sum(r["count"] for r in rows)
    print(f"verified: all {total} objects on warm, read back with the MD5 of the bytes sent; "
          "nothing left on hot, one warm blob per object")
    return 0


if __name__ == "__main__":
    sys.exit(main())
