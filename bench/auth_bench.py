#!/usr/bin/env python3
"""The cost of authorization: 4 KiB GET ops/s through a tenant admin's key on a server with one
tenant and one key, next to the same on a server with 1,000 tenants and 10,000 keys. Both
servers run side by side and s3bench alternates between them (ROUNDS rounds, each server first in
every other round), so noise of the shared machine hits both alike; the table shows medians and
the ratio of each round. Target: within 5%.

    bench/auth_bench.py [--bin build/bin] [--tenants 1000] [--keys 10000] [--seconds 5] [--rounds 3]
"""
import argparse
import concurrent.futures
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
import sigv4  # noqa: E402  (the e2e suite's SigV4 signer, standard library only)

ROOT_KEY, ROOT_SECRET = "benchroot", "benchroot-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, bin_dir: str, scratch: str, name: str):
        self.s3_port, self.admin_port = free_port(), free_port()
        env = dict(os.environ, VAULTAIRE_ROOT_ACCESS_KEY=ROOT_KEY,
                   VAULTAIRE_ROOT_SECRET_KEY=ROOT_SECRET)
        self.proc = subprocess.Popen(
            [f"{bin_dir}/vaultaire", "serve", "--data-dir", f"{scratch}/{name}",
             "--s3-listen", f"127.0.0.1:{self.s3_port}",
             "--admin-listen", f"127.0.0.1:{self.admin_port}",
             "--log-level", "warn", "--no-access-log"], env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/ready", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server {name} did not become ready")

    def admin(self, method: str, path: str, body=None) -> dict:
        data = json.dumps(body).encode() if body is not None else b""
        r = sigv4.signed_request(f"http://127.0.0.1:{self.admin_port}", method, "/admin/v1" + path,
                                 access_key=ROOT_KEY, secret_key=ROOT_SECRET, region="us-east-1",
                                 body=data)
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: {r.status} {r.body!r}")
        return json.loads(r.body) if r.body.strip() else {}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def populate(srv: Server, tenants: int, keys: int) -> dict:
    """Creates `tenants` tenants with an admin user each, and `keys` keys spread over them;
    returns the key of the tenant in the middle."""
    per = max(1, keys // tenants)

    def make(i: int):
        name = f"t{i:05d}"
        srv.admin("POST", "/tenants", {"name": name})
        srv.admin("POST", f"/tenants/{name}/users", {"name": "admin", "role": "admin"})
        return [srv.admin("POST", f"/tenants/{name}/users/admin/keys", {}) for _ in range(per)]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        made = list(pool.map(make, range(tenants)))
    return made[tenants // 2][0]


def s3bench(bin_dir, srv, key, extra, seconds):
    cmd = [f"{bin_dir}/s3bench", "--endpoint", f"http://127.0.0.1:{srv.s3_port}",
           "--access-key", key["access_key"], "--secret-key", key["secret_key"],
           "--bucket", "authbench", "--size", "4KiB", "-c", "64", "--keys", "1000",
           "--prefix", "obj/", "--json"] + extra
    if seconds:
        cmd += ["-d", str(seconds)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600).stdout
    return json.loads(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--tenants", type=int, default=1000)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="vaultaire-authbench-",
                               dir=os.environ.get("BENCH_DIR", "/var/tmp"))
    small = Server(args.bin, scratch, "small")
    big = Server(args.bin, scratch, "big")
    try:
        small_key = populate(small, 1, 1)
        start = time.time()
        big_key = populate(big, args.tenants, args.keys)
        setup = time.time() - start
        for srv, key in ((small, small_key), (big, big_key)):
            s3bench(args.bin, srv, key, ["--op", "put", "--prepare", "-n", "1000"], 0)
        results = {"small": [], "big": []}
        order = [("small", small, small_key), ("big", big, big_key)]
        for i in range(args.rounds):
            # Alternate which server goes first, so a trend in the machine's load favours neither.
            for name, srv, key in order if i % 2 == 0 else order[::-1]:
                r = s3bench(args.bin, srv, key, ["--op", "get", "--no-create-bucket"], args.seconds)
                results[name].append(r["operations"]["GET"])
        med = {n: statistics.median(o["ops_per_second"] for o in results[n]) for n in results}
        p99 = {n: statistics.median(o["p99_ms"] for o in results[n]) for n in results}
        errors = {n: sum(o["errors"] for o in results[n]) for n in results}
        print(f"big server: {args.tenants} tenants, {args.keys} keys (created through the admin "
              f"API in {setup:.0f} s); medians of {args.rounds} interleaved rounds of "
              f"{args.seconds:g} s, 64 connections\n")
        print("| server | 4 KiB GET ops/s | p99 ms | errors |")
        print("|---|---:|---:|---:|")
        print(f"| 1 tenant, 1 key | {med['small']:.0f} | {p99['small']:.2f} | {errors['small']} |")
        print(f"| {args.tenants} tenants, {args.keys} keys | {med['big']:.0f} | {p99['big']:.2f} "
              f"| {errors['big']} |")
        rounds = [b["ops_per_second"] / s["ops_per_second"]
                  for s, b in zip(results["small"], results["big"])]
        print(f"\nratio (many / one): {med['big'] / med['small']:.3f}; per round: "
              + ", ".join(f"{r:.3f}" for r in rounds))
        return 0
    finally:
        small.stop()
        big.stop()
        subprocess.run(["rm", "-rf", scratch], check=False)


if __name__ == "__main__":
    sys.exit(main())
