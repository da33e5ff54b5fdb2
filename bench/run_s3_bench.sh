#!/usr/bin/env bash
# PUT and GET of 4 KiB and 16 MiB objects through the S3 API (s3bench against a fresh
# `vaultaire serve`), each next to the same operation on the raw filesystem (fsbench) at the
# same concurrency, in one run. Prints a markdown table for docs/benchmarks.md.
#
#   bench/run_s3_bench.sh [BIN_DIR] [SECONDS]
#
# Scratch data goes under $BENCH_DIR (default /var/tmp), on the disk being measured.
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
SECS=${2:-10}
SCRATCH=$(mktemp -d "${BENCH_DIR:-/var/tmp}/vaultaire-bench-XXXXXX")
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

ENDPOINT=http://127.0.0.1:$S3_PORT
run() {  # name size concurrency
  local size=$2 c=$3 keys=$4
  "$BIN/s3bench" --endpoint "$ENDPOINT" --bucket "b-$1" --op put --size "$size" -c "$c" \
    -d "$SECS" --json > "$SCRATCH/$1-s3-put.json"
  "$BIN/s3bench" --endpoint "$ENDPOINT" --bucket "b-$1" --op get --size "$size" -c "$c" \
    -d "$SECS" --keys "$keys" --prepare --prefix get/ --json > "$SCRATCH/$1-s3-get.json"
  "$BIN/fsbench" --dir "$SCRATCH/fs" --op put --size "$size" -c "$c" -d "$SECS" \
    --json > "$SCRATCH/$1-fs-put.json"
  "$BIN/fsbench" --dir "$SCRATCH/fs" --op get --size "$size" -c "$c" -d "$SECS" \
    --keys "$keys" --json > "$SCRATCH/$1-fs-get.json"
}
run small 4KiB 64 2000
run large 16MiB 4 64

$PY - "$SCRATCH" <<'PYEOF'
import json, sys, os
d = sys.argv[1]
print("| operation | size | concurrency | Vaultaire ops/s | MiB/s | p50 ms | p99 ms | raw fs ops/s | raw MiB/s | Vaultaire / raw |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, size, c in (("small", "4 KiB", 64), ("large", "16 MiB", 4)):
    for op in ("put", "get"):
        s3 = json.load(open(os.path.join(d, f"{name}-s3-{op}.json")))
        fs = json.load(open(os.path.join(d, f"{name}-fs-{op}.json")))
        o = s3["operations"][op.upper()]
        print(f"| {op.upper()} | {size} | {c} | {o['ops_per_second']:.0f} | {o['mib_per_second']:.1f} "
              f"| {o['p50_ms']:.2f} | {o['p99_ms']:.2f} | {fs['ops_per_second']:.0f} | {fs['mib_per_second']:.1f} "
              f"| {o['ops_per_second'] / fs['ops_per_second']:.2f} |"
              + ("" if o["errors"] == 0 else f" errors={o['errors']}"))
PYEOF
