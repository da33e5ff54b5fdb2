"""A real PostgreSQL server for the export tests: a cluster of its own in a temporary folder,
on a free loopback port, removed afterwards.

Debian's `postgresql` package provides the binaries (/usr/lib/postgresql/15/bin, or
$VAULTAIRE_PG_BIN). initdb refuses to run as root, so as root the cluster belongs to the
`postgres` system user the package creates: its folder is made in /tmp (pytest's own temp
folders are private to root) and owned by that user, and initdb and pg_ctl run through
`runuser`. Authentication is `trust` for the user `postgres`, listening on 127.0.0.1 only, with
the unix socket inside the cluster's folder.

Fixtures: `pg_cluster` (one running cluster per test module) and `pg_db` (a fresh database in
it for one test, as a `Database`). Tests that stop the server make their own `PostgresCluster`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any, List, Optional, Sequence

import psycopg2
import pytest

from harness import find_free_port

PG_BIN = Path(os.environ.get("VAULTAIRE_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
TIMEOUT = 60.0  # any initdb / pg_ctl invocation


class PostgresCluster:
    """One PostgreSQL server over its own data folder; start() and stop() as often as needed,
    on the same port; remove() stops it for good and deletes everything."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            pytest.fail(f"{PG_BIN}/initdb is missing: `make deps` installs Debian's postgresql "
                        f"(or set VAULTAIRE_PG_BIN)", pytrace=False)
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="vaultaire-pg-", dir="/tmp"))
        if self.as_root:
            user = pwd.getpwnam(PG_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._run("initdb", "-D", str(self.data), "-U", PG_USER, "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(PG_BIN / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                             stdin=subprocess.DEVNULL, cwd=self.root)
        if check and res.returncode != 0:
            raise AssertionError(f"{tool} failed ({res.returncode}): {res.stderr or res.stdout}\n"
                                 f"--- {self.log} ---\n{self.log_tail()}")
        return res

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def start(self) -> "PostgresCluster":
        """Starts the server and waits until it accepts connections. The first start picks a
        free port (another, if someone took it meanwhile); later starts reuse it."""
        first = self.port == 0
        for _ in range(3 if first else 1):
            if first:
                self.port = find_free_port()
            options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                       f"-c unix_socket_directories={self.root} -c fsync=off "
                       f"-c max_connections=50")
            res = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                            "-w", "-t", str(int(TIMEOUT)), "start", check=False)
            if res.returncode == 0:
                return self
            if not (first and "in use" in self.log_tail(5)):
                break
        raise AssertionError(f"pg_ctl start failed: {res.stderr or res.stdout}\n"
                             f"--- {self.log} ---\n{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop -m fast (clients are disconnected, the server shuts down cleanly) or
        immediate (as a crash would)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={PG_USER}"

    def connect(self, dbname: str = "postgres"):
        return psycopg2.connect(host="127.0.0.1", port=self.port, dbname=dbname, user=PG_USER,
                                connect_timeout=10)

    def create_database(self, name: Optional[str] = None) -> "Database":
        name = name or f"vaultaire_{uuid.uuid4().hex[:12]}"
        conn = self.connect()
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return Database(self, name)


class Database:
    """One database of a cluster; each query() opens and closes its own connection, so a
    stopped and restarted server is no trouble."""

    def __init__(self, cluster: PostgresCluster, name: str) -> None:
        self.cluster = cluster
        self.name = name

    @property
    def dsn(self) -> str:
        return self.cluster.dsn(self.name)

    def query(self, sql: str, params: Sequence[Any] = ()) -> List[tuple]:
        conn = self.cluster.connect(self.name)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                rows = cur.fetchall() if cur.description is not None else []
            conn.commit()
            return rows
        finally:
            conn.close()

    def tables(self) -> List[str]:
        return [r[0] for r in self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "ORDER BY table_name")]


@pytest.fixture(scope="module")
def pg_cluster():
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def pg_db(pg_cluster) -> Database:
    return pg_cluster.create_database()
