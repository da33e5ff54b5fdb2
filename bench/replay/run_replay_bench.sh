#!/usr/bin/env bash
# Log replay and export speed (docs/benchmarks.md, "Log replay and export"): replay_bench with
# a throwaway PostgreSQL cluster, so the PostgreSQL export is measured in the same run.
#
#   bench/replay/run_replay_bench.sh BIN_DIR [replay_bench options...]
#   bench/replay/run_replay_bench.sh build/bin --events 10000000
#
# The cluster (Debian's postgresql binaries in /usr/lib/postgresql/15/bin, or $VAULTAIRE_PG_BIN)
# lives in a temp folder, listens on a free loopback port with default durability settings, and
# is removed afterwards; as root it runs as the `postgres` user (initdb refuses root). Without
# the binaries, or with VAULTAIRE_PG_BIN=none, the PostgreSQL pass is skipped.
set -euo pipefail

BIN=${1:?usage: run_replay_bench.sh BIN_DIR [replay_bench options...]}
shift
PG_BIN=${VAULTAIRE_PG_BIN:-/usr/lib/postgresql/15/bin}

if [ ! -x "$PG_BIN/initdb" ]; then
  echo "no PostgreSQL binaries in $PG_BIN: the PostgreSQL export is skipped" >&2
  exec "$BIN/replay_bench" "$@"
fi

root=$(mktemp -d /tmp/vaultaire-pg-XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$root"
  as_pg=(runuser -u postgres --)
fi
stop_pg() {
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$root/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap stop_pg EXIT

"${as_pg[@]}" "$PG_BIN/initdb" -D "$root/data" -U postgres -A trust -E UTF8 --locale=C \
  --no-sync >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$root/data" -l "$root/server.log" -w \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$root" start >/dev/null

# A fresh cluster: its `postgres` database is empty, as the export pass needs.
"$BIN/replay_bench" --pg-dsn "host=127.0.0.1 port=$port dbname=postgres user=postgres" "$@"
