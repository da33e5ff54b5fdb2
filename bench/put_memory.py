#!/usr/bin/env python3
"""A single large PUT (default 5 GiB) through a fresh `vaultaire serve`, watching the server's
resident memory: the body must stream through in chunks, so RSS may grow by less than 64 MiB
whatever the object size. The body is generated on the fly (it never exists in memory or on the
client's disk); the server's copy is checked by ETag (MD5).

    bench/put_memory.py [--bin build/bin] [--gib 5] [--scratch /var/tmp]
"""
import argparse
import hashlib
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
import sigv4  # noqa: E402  (the e2e suite's SigV4 signer, standard library only)

CHUNK = 1 << 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--gib", type=float, default=5.0)
    ap.add_argument("--scratch", default=os.environ.get("BENCH_DIR", "/var/tmp"))
    args = ap.parse_args()
    size = int(args.gib * (1 << 30))
    scratch = tempfile.mkdtemp(prefix="vaultaire-putmem-", dir=args.scratch)
    s3_port, admin_port = free_port(), free_port()
    env = dict(os.environ, VAULTAIRE_ROOT_ACCESS_KEY="mem", VAULTAIRE_ROOT_SECRET_KEY="mem-secret")
    server = subprocess.Popen(
        [f"{args.bin}/vaultaire", "serve", "--data-dir", f"{scratch}/data",
         "--s3-listen", f"127.0.0.1:{s3_port}", "--admin-listen", f"127.0.0.1:{admin_port}",
         "--log-level", "warn", "--no-access-log"], env=env)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        host = f"127.0.0.1:{s3_port}"

        def request(method, path, body=None, length=0):
            headers = sigv4.sign_headers(method=method, host=host, path=path, access_key="mem",
                                         secret_key="mem-secret", region="us-east-1",
                                         headers={"Content-Length": str(length)},
                                         payload_hash="UNSIGNED-PAYLOAD")
            conn = http.client.HTTPConnection("127.0.0.1", s3_port, timeout=600)
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders()
            md5 = hashlib.md5()
            if body is not None:
                for chunk in body:
                    md5.update(chunk)
                    conn.send(chunk)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            return resp, data, md5.hexdigest()

        resp, _, _ = request("PUT", "/putmem")
        assert resp.status == 200, resp.status

        def body():
            block = os.urandom(CHUNK)
            sent = 0
            i = 0
            while sent < size:
                n = min(CHUNK, size - sent)
                # Vary each chunk so the data is not one repeated block.
                yield (i.to_bytes(8, "little") + block[8:])[:n]
                sent += n
                i += 1

        baseline = rss_kib(server.pid, "VmRSS")
        peak = [baseline]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], rss_kib(server.pid, "VmRSS"))
                except (OSError, RuntimeError):
                    return
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.time()
        resp, _, md5 = request("PUT", "/putmem/big", body(), size)
        elapsed = time.time() - start
        stop.set()
        sampler.join()
        etag = resp.getheader("ETag", "").strip('"')
        ok = resp.status == 200 and etag == md5
        growth_mib = (peak[0] - baseline) / 1024
        print(f"| PUT {args.gib:g} GiB | {elapsed:.1f} s | {size / elapsed / (1 << 20):.0f} MiB/s "
              f"| RSS before {baseline / 1024:.1f} MiB | peak {peak[0] / 1024:.1f} MiB "
              f"| growth {growth_mib:.1f} MiB | ETag {'matches' if ok else 'MISMATCH'} |")
        return 0 if ok and growth_mib < 64 else 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", scratch], check=False)


if __name__ == "__main__":
    sys.exit(main())
