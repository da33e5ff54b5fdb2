#!/usr/bin/env bash
# PUT and GET of 4 KiB and 16 MiB objects through the S3 API (s3bench against a fresh
# `vaultaire serve`), each next to references measured in the same run at the same
# concurrency:
#   - raw filesystem (fsbench): PUT = temp file, fdatasync, rename, folder fsync, and a synced
#     RocksDB put (the commit); GET = open, read, close;
#   - nginx serving the same files statically (GET only).
# The disk and the CPUs are shared with other tenants, so every measurement runs ROUNDS times,
# interleaved with its references, and the table shows medians.
#
#   bench/run_s3_bench.sh [BIN_DIR] [SECONDS] [ROUNDS]
#
# Scratch data goes under $BENCH_DIR (default /var/tmp), on the disk being measured.
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
SECS=${2:-5}; export SECS
ROUNDS=${3:-3}
SCRATCH=$(mktemp -d "${BENCH_DIR:-/var/tmp}/vaultaire-bench-XXXXXX")
chmod 755 "$SCRATCH"  # nginx workers (www-data) read the static files
PY=/usr/bin/python3
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
S3_PORT=$(free_port); ADMIN_PORT=$(free_port); NGINX_PORT=$(free_port)
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret
VAULTAIRE_ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID VAULTAIRE_ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY \
  "$BIN/vaultaire" serve --data-dir "$SCRATCH/server" --s3-listen 127.0.0.1:$S3_PORT \
  --admin-listen 127.0.0.1:$ADMIN_PORT --log-level warn --no-access-log 2>"$SCRATCH/server.log" &
SERVER=$!
mkdir -p "$SCRATCH/nginx/root" "$SCRATCH/nginx/logs"
cat > "$SCRATCH/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $SCRATCH/nginx/nginx.pid;
error_log $SCRATCH/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off; sendfile on; tcp_nopush on;
  keepalive_requests 1000000; keepalive_timeout 120;
  server { listen 127.0.0.1:$NGINX_PORT; root $SCRATCH/nginx/root; }
}
NGINX
cleanup() {
  kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true
  [ -f "$SCRATCH/nginx/nginx.pid" ] && kill "$(cat "$SCRATCH/nginx/nginx.pid")" 2>/dev/null || true
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null && break; sleep 0.1; done

ENDPOINT=http://127.0.0.1:$S3_PORT
OUT="$SCRATCH/results"; mkdir -p "$OUT"
s3() { "$BIN/s3bench" --endpoint "$1" "${@:2}" -d "$SECS" --json; }

# name size concurrency keys
prepare() {
  "$BIN/s3bench" --endpoint "$ENDPOINT" --bucket "b-$1" --op put --size "$2" -c "$3" \
    --ops "$4" --keys "$4" --prepare --prefix get/ --json >/dev/null
  mkdir -p "$SCRATCH/nginx/root/b-$1/get"
  $PY - "$SCRATCH/nginx/root/b-$1/get" "$2" "$4" <<'PYEOF'
import os, sys
folder, size, keys = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = int(size[:-3]) << (10 if size.endswith("KiB") else 20)
block = os.urandom(n)
for k in range(keys):
    with open(os.path.join(folder, str(k)), "wb") as f:
        f.write(block)
PYEOF
}
prepare small 4KiB 64 2000
prepare large 16MiB 4 32
nginx -c "$SCRATCH/nginx/nginx.conf" -p "$SCRATCH/nginx/"

for round in $(seq "$ROUNDS"); do
  for spec in "small 4KiB 64 2000" "large 16MiB 4 32"; do
    set -- $spec
    s3 "$ENDPOINT" --bucket "b-$1" --op put --size "$2" -c "$3" --prefix "put$round/" \
      --no-create-bucket > "$OUT/$1-s3-put-$round.json"
    "$BIN/fsbench" --dir "$SCRATCH/fs" --op put --size "$2" -c "$3" -d "$SECS" --rocksdb \
      --json > "$OUT/$1-fs-put-$round.json"
    s3 "$ENDPOINT" --bucket "b-$1" --op get --size "$2" -c "$3" --keys "$4" --prefix get/ \
      --no-create-bucket > "$OUT/$1-s3-get-$round.json"
    "$BIN/fsbench" --dir "$SCRATCH/fs" --op get --size "$2" -c "$3" -d "$SECS" --keys "$4" \
      --json > "$OUT/$1-fs-get-$round.json"
    s3 "http://127.0.0.1:$NGINX_PORT" --bucket "b-$1" --op get --size "$2" -c "$3" \
      --keys "$4" --prefix get/ --no-create-bucket > "$OUT/$1-nginx-get-$round.json"
  done
done

$PY - "$OUT" "$ROUNDS" <<'PYEOF'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def load(name):
    return [json.load(open(os.path.join(out, f"{name}-{r}.json"))) for r in range(1, rounds + 1)]
def med(values):
    return statistics.median(values)
print("| operation | size | conc. | Vaultaire ops/s | MiB/s | p50 ms | p99 ms | raw fs ops/s | Vaultaire / raw fs | nginx ops/s | Vaultaire / nginx |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, size, c in (("small", "4 KiB", 64), ("large", "16 MiB", 4)):
    for op in ("put", "get"):
        s3 = [j["operations"][op.upper()] for j in load(f"{name}-s3-{op}")]
        errors = sum(o["errors"] for o in s3)
        fs = [j["ops_per_second"] for j in load(f"{name}-fs-{op}")]
        ops = med([o["ops_per_second"] for o in s3])
        row = (f"| {op.upper()} | {size} | {c} | {ops:.0f} | {med([o['mib_per_second'] for o in s3]):.1f} "
               f"| {med([o['p50_ms'] for o in s3]):.2f} | {med([o['p99_ms'] for o in s3]):.2f} "
               f"| {med(fs):.0f} | {ops / med(fs):.2f} |")
        if op == "get":
            ng = med([j["operations"]["GET"]["ops_per_second"] for j in load(f"{name}-nginx-get")])
            row += f" {ng:.0f} | {ops / ng:.2f} |"
        else:
            row += " | |"
        if errors:
            row += f" errors={errors}"
        print(row)
print(f"\n(medians of {rounds} interleaved rounds of {os.environ.get('SECS', '?')} s each;"
      " PUT raw fs includes a synced RocksDB commit)")
PYEOF
