#!/usr/bin/env bash
# A 1000-key LIST page on a bucket of OBJECTS (default 1,000,000) objects, through the S3 API:
# s3bench fills the bucket with empty objects, then lists pages with one client (latency) and
# with 16 (throughput). Prints a markdown table for docs/benchmarks.md.
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
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$SCRATCH"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null && break; sleep 0.1; done
E=http://127.0.0.1:$S3_PORT

start=$(date +%s)
"$BIN/s3bench" --endpoint "$E" --bucket listbench --op put --size 0 -c 64 --ops "$OBJECTS" \
  --keys "$OBJECTS" --prepare --prefix "k/" --json > /dev/null
fill=$(( $(date +%s) - start ))
"$BIN/s3bench" --endpoint "$E" --bucket listbench --op list --list-max-keys 1000 -c 1 -d "$SECS" \
  --no-create-bucket --json > "$SCRATCH/c1.json"
"$BIN/s3bench" --endpoint "$E" --bucket listbench --op list --list-max-keys 1000 -c 16 -d "$SECS" \
  --no-create-bucket --json > "$SCRATCH/c16.json"
$PY - "$SCRATCH" "$OBJECTS" "$fill" <<'PYEOF'
import json, sys
d, objects, fill = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(f"bucket of {objects} objects (filled through S3 in {fill} s)\n")
print("| clients | pages/s | p50 ms | p90 ms | p99 ms | max ms |")
print("|---:|---:|---:|---:|---:|---:|")
for c in (1, 16):
    o = json.load(open(f"{d}/c{c}.json"))["operations"]["LIST"]
    print(f"| {c} | {o['ops_per_second']:.0f} | {o['p50_ms']:.2f} | {o['p90_ms']:.2f} | {o['p99_ms']:.2f} | {o['max_ms']:.2f} |")
PYEOF
