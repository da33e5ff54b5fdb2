"""Fixtures for the end-to-end tests: real `vaultaire serve` processes and real clients.

Run with Debian's interpreter: `/usr/bin/python3 -m pytest -n 2 tests/e2e`. The binaries are
taken from $VAULTAIRE_BIN (default: build/bin). Each test module gets its own server (data dir
and ports of its own), and tests that restart or kill a server make their own with
`server_factory`, so modules and tests run in parallel under xdist. When a test fails, the
tail of the log of every server it used is attached to its report.

Set VAULTAIRE_E2E_LOG_LEVEL to change the server's --log-level (default: debug; empty: no flag).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List

import pytest

import harness
from harness import AwsCli, Server


def pytest_configure(config):
    # boto3 must not pick up the user's profile, endpoint, region or credentials.
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


class ServerFactory:
    """Makes servers in one test's tmp_path; stops them all at the end of the test."""

    def __init__(self, bin_path: Path, root: Path) -> None:
        self.bin_path = bin_path
        self.root = root
        self.servers: List[Server] = []

    def __call__(self, name: str = "server", start: bool = True) -> Server:
        assert all(s.data_dir.name != name for s in self.servers), f"two servers named {name}"
        srv = Server(self.bin_path, self.root / name, self.root / f"{name}.log")
        self.servers.append(srv)
        if start:
            srv.start()
        return srv


def _servers_of(item) -> List[Server]:
    found = []
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, Server):
            found.append(value)
        elif isinstance(value, ServerFactory):
            found.extend(value.servers)
    return list({id(s): s for s in found}.values())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for srv in _servers_of(item):
            report.sections.append(
                (f"vaultaire log tail ({srv.log_path})", srv.log_tail())
            )


def _finish(servers: List[Server]) -> None:
    complaints = []
    for srv in servers:
        problem = srv.final_check()
        if problem:
            complaints.append(f"{problem}\n--- {srv.log_path} (tail) ---\n{srv.log_tail()}")
    if complaints:
        pytest.fail("\n\n".join(complaints), pytrace=False)


@pytest.fixture(scope="session")
def vaultaire_bin() -> Path:
    path = harness.bin_dir()
    for exe in ("vaultaire", "vaultctl"):
        if not os.access(path / exe, os.X_OK):
            pytest.fail(f"{path / exe} is missing or not executable: run `make build` "
                        f"or point VAULTAIRE_BIN at the folder holding it", pytrace=False)
    return path


@pytest.fixture(scope="module")
def server(vaultaire_bin, tmp_path_factory, request) -> Server:
    """A running server shared by the tests of one module (each uses its own buckets)."""
    root = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    srv = Server(vaultaire_bin, root / "data", root / "server.log")
    srv.start()
    yield srv
    _finish([srv])


@pytest.fixture(scope="module")
def s3(server):
    """A boto3 S3 client for the module's server with its root credentials."""
    return server.client()


@pytest.fixture
def bucket(s3) -> str:
    """A fresh, empty bucket on the module's server."""
    name = harness.unique_name("b")
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def aws(server, tmp_path_factory) -> AwsCli:
    """The aws cli pointed at the module's server, with a private HOME and config."""
    return AwsCli(server.endpoint, tmp_path_factory.mktemp("awscli-home"))


@pytest.fixture
def server_factory(vaultaire_bin, tmp_path) -> ServerFactory:
    """For tests that restart or kill their server: `srv = server_factory()` starts one in
    this test's tmp_path; all are stopped (and must exit cleanly) when the test ends."""
    factory = ServerFactory(vaultaire_bin, tmp_path)
    yield factory
    _finish(factory.servers)
