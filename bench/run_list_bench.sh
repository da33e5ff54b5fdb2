#!/usr/bin/env bash
# A 1000-key LIST page on a bucket of OBJECTS (default 1,000,000) objects, through the S3 API:
# s3bench fills the bucket with empty objects, then lists pages with one client (latency) and
# with 16 (throughput). The reference, in the same run on the same store once the server has
# stopped: list_scan_bench reads the same page straight from its RocksDB, as a raw iterator
# prefix scan and through ViewReader::list() (no HTTP, authentication or XML). Prints a markdown
# table for docs/benchmarks.md.
#
#   bench/run_list_bench.sh [BIN_DIR] [OBJECTS] [SECONDS]
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
OBJECTS=${2:-1000000}
SECS=${3:-10}
SCRATCH=$(mktemp -d "${BENCH_DIR:-/var/tmp}/vaultaire-list-XXXXXX")
PY=/usr/bin/python3
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
S3_PORT=$(free_port); ADMIN_PORT=$(free_port)
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret
VAULTAIRE_ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID VAULTAIRE_ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY \
  "$BIN/vaultaire" serve --data-dir "$SCRATCH/server" --s3-listen 127.0.0.1:$S3_PORT \
  --admin-listen 127.0.0.1:$ADMIN_PORT --log-level warn --no-access-log 2>"$SCRATCH/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$SCRATCH"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null && break; sleep 0.1; done
E=http://127.0.0.1:$S3_PORT

start=$(date +%s)
"$BIN/s3bench" --endpoint "$E" --bucket listbench --op put --size 0 -c 64 --ops "$OBJECTS" \
  --keys "$OBJECTS" --prepare --prefix "k/" --json > /dev/null
fill=$(( $(date +%s) - start ))
# Let the store settle: RocksDB compacts what the fill wrote and the log consumers catch up,
# using both cores for a while. Wait (up to 300 s) until the server uses under 5% of a core.
ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
hz=$(getconf CLK_TCK)
settle_start=$(date +%s)
while [ $(( $(date +%s) - settle_start )) -lt 300 ]; do
  t0=$(ticks); sleep 2; t1=$(ticks)
  [ $(( (t1 - t0) * 100 )) -lt $(( 2 * hz * 5 )) ] && break
done
settle=$(( $(date +%s) - settle_start ))
"$BIN/s3bench" --endpoint "$E" --bucket listbench --op list --list-max-keys 1000 -c 1 -d "$SECS" \
  --no-create-bucket --json > "$SCRATCH/c1.json"
"$BIN/s3bench" --endpoint "$E" --bucket listbench --op list --list-max-keys 1000 -c 16 -d "$SECS" \
  --no-create-bucket --json > "$SCRATCH/c16.json"
kill $SERVER; wait $SERVER 2>/dev/null || true
"$BIN/list_scan_bench" --db "$SCRATCH/server/db" --container listbench --page 1000 \
  --seconds "$SECS" --threads 1,16 > "$SCRATCH/ref.json"
$PY - "$SCRATCH" "$OBJECTS" "$fill" "$settle" <<'PYEOF'
import json, os, sys
d, objects, fill, settle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ref = json.load(open(f"{d}/ref.json"))
print(f"bucket of {objects} objects (filled through S3 in {fill} s, then {settle} s until the "
      f"server was idle); load average at the end "
      f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
print("| path | clients | pages/s | p50 ms | p90 ms | p99 ms | max ms | pages/s: this / S3 "
      "| p50: S3 / this |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in (1, 16):
    o = json.load(open(f"{d}/c{c}.json"))["operations"]["LIST"]
    s3 = {"pages_per_second": o["ops_per_second"], "p50_ms": o["p50_ms"], "p90_ms": o["p90_ms"],
          "p99_ms": o["p99_ms"], "max_ms": o["max_ms"]}
    rows = [("S3 LIST (s3bench)", s3), ("ViewReader::list, in process", ref["views"][str(c)]),
            ("raw RocksDB prefix scan, in process", ref["raw"][str(c)])]
    for name, r in rows:
        rate = r["pages_per_second"] / s3["pages_per_second"]
        lat = s3["p50_ms"] / r["p50_ms"] if r["p50_ms"] > 0 else float("inf")
        print(f"| {name} | {c} | {r['pages_per_second']:.0f} | {r['p50_ms']:.3f} | "
              f"{r['p90_ms']:.3f} | {r['p99_ms']:.3f} | {r['max_ms']:.2f} | {rate:.1f} | "
              f"{lat:.1f} |")
PYEOF
