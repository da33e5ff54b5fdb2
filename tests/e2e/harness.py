"""The end-to-end harness: a real `vaultaire serve` process on loopback ports, its clients
(boto3, the aws cli, raw HTTP) and the `vaultctl` inspector.

conftest.py turns these into fixtures; tests import the helpers from here (importing
conftest.py itself is discouraged by pytest). Every subprocess and every HTTP call has a
timeout, and every wait is a poll with a deadline, so a hung server fails a test instead of
hanging the run.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, TypeVar

import boto3
from botocore.config import Config

import sigv4

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
# Shaped like AWS keys (20 upper-case alphanumerics, 40-character secret).
ACCESS_KEY = "VAULTAIREE2EROOT0001"
SECRET_KEY = "e2eRootSecret/0123456789+abcdefghijklmno"

READY_TIMEOUT = 20.0  # seconds from spawn to GET /ready == 200
STOP_TIMEOUT = 15.0  # seconds from SIGTERM to exit before SIGKILL
CLI_TIMEOUT = 120.0  # any vaultctl or aws invocation
LOG_TAIL_LINES = 80

T = TypeVar("T")


class HarnessError(AssertionError):
    """The server or a tool misbehaved in a way the harness itself detects."""


def bin_dir() -> Path:
    return Path(os.environ.get("VAULTAIRE_BIN", REPO_ROOT / "build" / "bin")).resolve()


def find_free_port() -> int:
    """A loopback port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique_name(prefix: str = "b") -> str:
    """A valid, unique bucket name (also fine as a key)."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def quoted_etag(data: bytes) -> str:
    return f'"{md5_hex(data)}"'


def poll(
    fn: Callable[[], T],
    until: Callable[[T], bool],
    timeout: float,
    what: str,
    interval: float = 0.05,
) -> T:
    """Calls fn until until(result) holds; fails after `timeout` seconds with the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if until(result):
            return result
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout}s waiting for {what}; last: {result!r}")
        time.sleep(interval)


def tail_text(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return f"(no log at {path})"
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def four_tier_config(*, policy: str = "age-rules", pass_interval_seconds: int = 86400,
                     concurrency: int = 4, bandwidth_mib: int = 0,
                     warm_endpoint: str = "", warm_bucket: str = "",
                     warm_max_connections: Optional[int] = None, extra: str = "") -> str:
    """Server TOML with four tiers like the default ones (hot, warm, cold, frozen, each on its own
    local folder) and a [tiering] section; warm is an `s3` driver on `warm_endpoint` (bucket
    `warm_bucket`, root keys) when given. `extra` is appended as is."""
    if warm_endpoint:
        warm = (f'[drivers.warm]\ntype = "s3"\nendpoint = "{warm_endpoint}"\n'
                f'bucket = "{warm_bucket}"\nprefix = "vaultaire-warm/"\n'
                f'access_key = "{ACCESS_KEY}"\nsecret_key = "{SECRET_KEY}"\n'
                'storage_class = "STANDARD_IA"\n')
        if warm_max_connections is not None:
            warm += f"max_connections = {warm_max_connections}\n"
    else:
        warm = '[drivers.warm]\ntype = "local"\n'
    return f"""
[tiering]
policy = "{policy}"
pass_interval_seconds = {pass_interval_seconds}
concurrency = {concurrency}
bandwidth_mib_per_second = {bandwidth_mib}

[drivers.local]
type = "local"
{warm}
[drivers.cold]
type = "local"
[drivers.frozen]
type = "local"

[[tiers]]
name = "hot"
driver = "local"
storage_classes = ["STANDARD"]
[[tiers]]
name = "warm"
driver = "warm"
storage_classes = ["STANDARD_IA"]
[[tiers]]
name = "cold"
driver = "cold"
storage_classes = ["GLACIER_IR"]
[[tiers]]
name = "frozen"
driver = "frozen"
storage_classes = ["DEEP_ARCHIVE", "GLACIER"]
instant = false
{extra}
"""


def boto3_client(endpoint: str, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY,
                 read_timeout: float = 60.0):
    """An S3 client as a user would configure it for Vaultaire: path style, SigV4, us-east-1.
    No retries, so the first error is the one the test sees."""
    options = dict(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=5,
        read_timeout=read_timeout,
    )
    # Newer botocore adds CRC32 trailing checksums to every upload by default; this slice
    # does not promise them, so ask for the classic behaviour where the option exists.
    if "request_checksum_calculation" in Config.OPTION_DEFAULTS:
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    session = boto3.session.Session(
        aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=REGION
    )
    return session.client("s3", endpoint_url=endpoint, config=Config(**options))


def _server_env(access_key: str, secret_key: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VAULTAIRE_"))}
    env["VAULTAIRE_ROOT_ACCESS_KEY"] = access_key
    env["VAULTAIRE_ROOT_SECRET_KEY"] = secret_key
    return env


class Server:
    """One `vaultaire serve` process over one data directory, restartable on the same
    directory and ports. Output (stdout and stderr) of every run is appended to `log_path`."""

    def __init__(self, bin_path: Path, data_dir: Path, log_path: Path,
                 access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> None:
        self.bin_path = bin_path
        self.data_dir = data_dir
        self.log_path = log_path
        self.access_key = access_key
        self.secret_key = secret_key
        self.log_level = os.environ.get("VAULTAIRE_E2E_LOG_LEVEL", "debug")
        self.s3_port: Optional[int] = None
        self.admin_port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None
        self.runs = 0
        # How the last run ended: None (running, or died on its own), "stop", "kill9", or
        # "failed-start" (already reported by start()).
        self.ended_by: Optional[str] = None
        self.forced_stop = False  # the last stop() needed SIGKILL
        self.extra_args: List[str] = []  # more `vaultaire serve` flags (--config FILE, ...)
        self.extra_env: Dict[str, str] = {}  # more environment (VAULTAIRE_CRASH_AT, ...)

    # -- addresses -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.s3_port}"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def admin_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def command(self) -> List[str]:
        cmd = [
            str(self.bin_path / "vaultaire"),
            "serve",
            "--data-dir", str(self.data_dir),
            "--s3-listen", f"127.0.0.1:{self.s3_port}",
            "--admin-listen", f"127.0.0.1:{self.admin_port}",
        ]
        if self.log_level:
            cmd += ["--log-level", self.log_level]
        return cmd + self.extra_args

    def start(self) -> "Server":
        """Starts the server and waits for GET /ready == 200. The first start picks free
        ports (and retries with others if one was taken meanwhile); later starts reuse them."""
        assert not self.running, "start() on a running server"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        first = self.s3_port is None
        attempts = 3 if first else 1
        for attempt in range(attempts):
            if first:
                self.s3_port, self.admin_port = find_free_port(), find_free_port()
                while self.admin_port == self.s3_port:
                    self.admin_port = find_free_port()
            outcome = self._spawn_and_wait()
            if outcome is None:
                return self
            if first and attempt + 1 < attempts and "in use" in outcome.lower():
                continue  # someone took a port between probe and bind: new ports
            raise HarnessError(outcome)
        raise AssertionError("unreachable")

    def _spawn_and_wait(self) -> Optional[str]:
        """Spawns one run; returns None once ready, else a failure message with the log tail."""
        self.runs += 1
        self.ended_by = None
        self.forced_stop = False
        cmd = self.command()
        with open(self.log_path, "ab") as log:
            log.write(f"\n==== e2e: run {self.runs}: {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**_server_env(self.access_key, self.secret_key), **self.extra_env},
                cwd=self.data_dir.parent,
                start_new_session=True,  # a Ctrl-C of pytest reaches us, not the server first
            )
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer yet"
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.ended_by = "failed-start"
                return (f"vaultaire exited with code {rc} before /ready answered 200\n"
                        f"--- {self.log_path} (tail) ---\n{tail_text(self.log_path)}")
            try:
                resp = self.admin_get("/ready", timeout=1.0)
                if resp.status == 200:
                    return None
                last = f"HTTP {resp.status} {resp.body[:200]!r}"
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            if time.monotonic() >= deadline:
                self.ended_by = "failed-start"
                self._kill_hard()
                return (f"vaultaire not ready after {READY_TIMEOUT}s (last /ready: {last})\n"
                        f"--- {self.log_path} (tail) ---\n{tail_text(self.log_path)}")
            time.sleep(0.05)

    def stop(self, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        """SIGTERM, then SIGKILL if the process has not exited after `timeout` seconds.
        Returns the exit code (negative: killed by that signal), None if never started."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.ended_by = "stop"
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.forced_stop = True
                self._kill_hard()
        return self.proc.returncode

    def restart(self) -> Optional[int]:
        """stop() then start() on the same data directory and ports; returns stop()'s code."""
        rc = self.stop()
        self.start()
        return rc

    def kill9(self) -> None:
        """SIGKILL: the process ends at once, with no shutdown code run. (What it wrote is
        still in the OS page cache, so this tests the process's crash safety, not fsync.)"""
        assert self.running, "kill9() on a server that is not running"
        self.ended_by = "kill9"
        self._kill_hard()

    def wait_crash(self, timeout: float = 60.0) -> int:
        """Waits for the server to exit on its own (a crash point: VAULTAIRE_CRASH_AT);
        returns its exit code."""
        assert self.proc is not None
        rc = self.proc.wait(timeout=timeout)
        self.ended_by = "crash"
        return rc

    def _kill_hard(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def final_check(self) -> Optional[str]:
        """Stops the server at the end of its fixture; returns a complaint if its last run
        did not end cleanly: it died on its own, ignored SIGTERM, or exited non-zero."""
        if self.proc is None or self.ended_by in ("kill9", "failed-start", "crash"):
            return None
        if self.proc.poll() is not None and self.ended_by is None:
            return f"vaultaire died during the test (exit code {self.proc.returncode})"
        rc = self.stop()
        if self.forced_stop:
            return f"vaultaire ignored SIGTERM for {STOP_TIMEOUT}s and was killed"
        if rc != 0:
            return f"vaultaire exited with code {rc} after SIGTERM"
        return None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return tail_text(self.log_path, lines)

    # -- clients ---------------------------------------------------------------------------

    def client(self, access_key: Optional[str] = None, secret_key: Optional[str] = None,
               read_timeout: float = 60.0):
        return boto3_client(self.endpoint, access_key or self.access_key,
                            secret_key or self.secret_key, read_timeout)

    def admin_get(self, path: str, timeout: float = 5.0) -> sigv4.RawResponse:
        return sigv4.fetch_url(self.admin_endpoint + path, timeout=timeout)

    def signed(self, method: str, path: str, **kwargs) -> sigv4.RawResponse:
        """A raw SigV4-signed request with this server's root credentials (see sigv4)."""
        kwargs.setdefault("access_key", self.access_key)
        kwargs.setdefault("secret_key", self.secret_key)
        kwargs.setdefault("region", REGION)
        return sigv4.signed_request(self.endpoint, method, path, **kwargs)

    def vaultctl(self, *args: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        """`vaultctl ARGS... --data-dir DATA_DIR`, output captured as text."""
        cmd = [str(self.bin_path / "vaultctl"), *args, "--data-dir", str(self.data_dir)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL,
                              env=_server_env(self.access_key, self.secret_key))

    def admin_ctl(self, *args: str, access_key: Optional[str] = None,
                  secret_key: Optional[str] = None,
                  timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        """`vaultctl --endpoint ADMIN ARGS...`, signed with root's keys from the environment
        unless other keys are given (as flags)."""
        cmd = [str(self.bin_path / "vaultctl"), "--endpoint", self.admin_endpoint]
        if access_key is not None:
            cmd += ["--access-key", access_key, "--secret-key", secret_key or ""]
        return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL,
                              env=_server_env(self.access_key, self.secret_key))

    def events(self, n: int = 100000) -> List[dict]:
        """`vaultctl events tail --json -n N` parsed: one dict per event, oldest first."""
        res = self.vaultctl("events", "tail", "--json", "-n", str(n))
        if res.returncode != 0:
            raise HarnessError(f"vaultctl events tail failed ({res.returncode}): {res.stderr}")
        return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]

    def metrics(self) -> Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]:
        resp = self.admin_get("/metrics")
        if resp.status != 200:
            raise HarnessError(f"GET /metrics answered {resp.status}")
        return parse_prometheus(resp.body.decode("utf-8"))


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text: str) -> Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]:
    """Prometheus text format → {(name, sorted label pairs): value}. Fails on a bad line."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise HarnessError(f"not a Prometheus sample line: {line!r}")
        labels = tuple(sorted(_LABEL.findall(m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(samples, name: str, **labels: str) -> float:
    """The value of one sample, 0 when the series does not exist (yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class AwsCli:
    """Runs /usr/bin/aws against one endpoint with its own HOME and config files, so the
    user's ~/.aws is never read, and no pager, prompts or instance metadata."""

    def __init__(self, endpoint: str, home: Path, access_key: str = ACCESS_KEY,
                 secret_key: str = SECRET_KEY, executable: str = "/usr/bin/aws") -> None:
        self.endpoint = endpoint
        self.home = home
        self.executable = executable
        home.mkdir(parents=True, exist_ok=True)
        config = home / "config"
        config.write_text(
            "[default]\n"
            f"region = {REGION}\n"
            "output = json\n"
            "cli_pager =\n"
            "s3 =\n"
            "    addressing_style = path\n"
            "    signature_version = s3v4\n"
        )
        credentials = home / "credentials"
        credentials.write_text("")
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
        }

    def __call__(self, *args: str, cwd: Optional[Path] = None,
                 timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        """Runs `aws --endpoint-url ENDPOINT ARGS...` in cwd (default: its HOME); the cli
        prints local paths relative to its working directory."""
        cmd = [self.executable, "--endpoint-url", self.endpoint, "--no-cli-pager", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=self.env, cwd=cwd or self.home)

    def json(self, *args: str, timeout: float = CLI_TIMEOUT):
        """Runs an s3api command, asserts exit 0, returns its parsed JSON output."""
        res = self(*args, timeout=timeout)
        if res.returncode != 0:
            raise HarnessError(f"aws {' '.join(args)} exited {res.returncode}: {res.stderr}")
        return json.loads(res.stdout)
