"""s3cmd (Debian's /usr/bin/s3cmd, 2.3) against Vaultaire: mb, put, get, ls, la, del, rb,
a multipart put, and the same basics signed with SigV2 (--signature-v2). s3cmd reads only a
config file in the test's tmp dir, path-style (host_bucket without %(bucket)s), plain HTTP.
Checked by exit code, exact bytes and exact listings."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import List, Tuple

import pytest

from harness import REGION, unique_name

S3CMD = "/usr/bin/s3cmd"
S3CMD_TIMEOUT = 240.0  # seconds for one s3cmd invocation (20 MiB transfers included)
MiB = 1024 * 1024


class S3cmd:
    """Runs s3cmd with a private config file and HOME."""

    def __init__(self, server, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.config = home / "s3cfg"
        self.config.write_text(
            "[default]\n"
            f"access_key = {server.access_key}\n"
            f"secret_key = {server.secret_key}\n"
            f"host_base = {server.host}\n"
            f"host_bucket = {server.host}\n"
            "use_https = False\n"
            "check_ssl_certificate = False\n"
            "signature_v2 = False\n"
            f"bucket_location = {REGION}\n"
            "progress_meter = False\n"
            "max_retries = 1\n"
            "socket_timeout = 60\n"
        )
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
        }

    def __call__(self, *args: str, timeout: float = S3CMD_TIMEOUT) -> subprocess.CompletedProcess:
        cmd = [S3CMD, "-c", str(self.config), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=self.env, cwd=self.home)


def ok(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 0, (f"{' '.join(res.args[3:])}\nexit {res.returncode}\n"
                                 f"stdout: {res.stdout}\nstderr: {res.stderr}")
    return res.stdout


@pytest.fixture(scope="module")
def s3cmd(server, tmp_path_factory) -> S3cmd:
    return S3cmd(server, tmp_path_factory.mktemp("s3cmd-home"))


# `s3cmd ls` lines: "2024-01-02 03:04   1234  s3://b/key" and "     DIR  s3://b/prefix/".
_OBJECT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+(\d+)\s+(s3://\S.*)$")
_DIR = re.compile(r"^\s*DIR\s+(s3://\S.*)$")
_BUCKET = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+(s3://\S+)$")


def ls_entries(stdout: str) -> List[Tuple[str, object]]:
    """Listing lines as ("DIR", uri) or (size, uri); fails on a line of another shape."""
    out: List[Tuple[str, object]] = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        m = _OBJECT.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2)))
            continue
        m = _DIR.match(line)
        assert m, f"unexpected s3cmd ls line: {line!r}"
        out.append(("DIR", m.group(1)))
    return out


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def basic_round_trip(s3cmd: S3cmd, s3, tmp_path: Path, *flags: str) -> None:
    """mb, put (a top-level and a nested key), ls, la, get, del, rb, with `flags` on every
    call; checks each effect with s3cmd itself and the bucket's state with boto3."""
    bucket = unique_name("s3cmd")
    url = f"s3://{bucket}"
    small = os.urandom(10 * 1024 + 3)
    nested = "nested content ✓\n".encode() * 40

    out = ok(s3cmd(*flags, "mb", url))
    assert out.strip() == f"Bucket '{url}/' created"
    buckets = [_BUCKET.match(line) for line in ok(s3cmd(*flags, "ls")).splitlines()]
    assert url in [m.group(1) for m in buckets if m], "bucket missing from `s3cmd ls`"

    ok(s3cmd(*flags, "put", str(write(tmp_path / "small.bin", small)), f"{url}/small.bin"))
    ok(s3cmd(*flags, "put", str(write(tmp_path / "n.txt", nested)), f"{url}/dir/sub/n.txt"))
    assert s3.get_object(Bucket=bucket, Key="small.bin")["Body"].read() == small
    assert s3.get_object(Bucket=bucket, Key="dir/sub/n.txt")["Body"].read() == nested

    assert ls_entries(ok(s3cmd(*flags, "ls", url))) == [
        ("DIR", f"{url}/dir/"), (len(small), f"{url}/small.bin")]
    assert ls_entries(ok(s3cmd(*flags, "ls", "--recursive", url))) == [
        (len(nested), f"{url}/dir/sub/n.txt"), (len(small), f"{url}/small.bin")]
    # la: every object of every bucket; ours are there, exactly.
    everything = ls_entries(ok(s3cmd(*flags, "la")))
    assert [e for e in everything if str(e[1]).startswith(f"{url}/")] == [
        ("DIR", f"{url}/dir/"), (len(small), f"{url}/small.bin")]

    down = tmp_path / "down"
    down.mkdir()
    ok(s3cmd(*flags, "get", f"{url}/small.bin", str(down / "small.bin")))
    ok(s3cmd(*flags, "get", f"{url}/dir/sub/n.txt", str(down / "n.txt")))
    assert (down / "small.bin").read_bytes() == small
    assert (down / "n.txt").read_bytes() == nested

    # rb refuses a bucket that is not empty.
    res = s3cmd(*flags, "rb", url)
    assert res.returncode != 0 and "BucketNotEmpty" in res.stderr, res.stderr

    out = ok(s3cmd(*flags, "del", f"{url}/small.bin"))
    assert out.strip() == f"delete: '{url}/small.bin'"
    ok(s3cmd(*flags, "del", f"{url}/dir/sub/n.txt"))
    assert ls_entries(ok(s3cmd(*flags, "ls", "--recursive", url))) == []
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    out = ok(s3cmd(*flags, "rb", url))
    assert out.strip() == f"Bucket '{url}/' removed"
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_mb_put_get_ls_la_del_rb(s3cmd, s3, tmp_path):
    basic_round_trip(s3cmd, s3, tmp_path)


def test_the_same_signed_with_signature_v2(s3cmd, s3, tmp_path):
    basic_round_trip(s3cmd, s3, tmp_path, "--signature-v2")


def test_put_with_unicode_and_spaces_in_the_key(s3cmd, s3, tmp_path):
    bucket = unique_name("s3cmd-uni")
    ok(s3cmd("mb", f"s3://{bucket}"))
    key = "folder with spaces/ünïcødé 日本語 €+plus.txt"
    data = b"awkward key\n"
    ok(s3cmd("put", str(write(tmp_path / "f.txt", data)), f"s3://{bucket}/{key}"))
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert ls_entries(ok(s3cmd("ls", "--recursive", f"s3://{bucket}"))) == [
        (len(data), f"s3://{bucket}/{key}")]
    ok(s3cmd("get", f"s3://{bucket}/{key}", str(tmp_path / "back.txt")))
    assert (tmp_path / "back.txt").read_bytes() == data
    ok(s3cmd("del", f"s3://{bucket}/{key}"))
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_multipart_put_of_20mib_in_5mib_chunks_then_get(s3cmd, s3, tmp_path):
    bucket = unique_name("s3cmd-mpu")
    url = f"s3://{bucket}"
    data = os.urandom(20 * MiB + 12345)
    ok(s3cmd("mb", url))
    out = ok(s3cmd("put", "--multipart-chunk-size-mb=5", str(write(tmp_path / "big.bin", data)),
                   f"{url}/big.bin"))
    # Without a progress meter s3cmd prints one line per file (the parts show in the ETag).
    assert out.startswith(f"upload: '{tmp_path / 'big.bin'}' -> '{url}/big.bin' "
                          f"({len(data)} bytes in "), out

    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-5"'), head["ETag"]
    assert ls_entries(ok(s3cmd("ls", url))) == [(len(data), f"{url}/big.bin")]

    ok(s3cmd("get", f"{url}/big.bin", str(tmp_path / "back.bin")))
    assert (tmp_path / "back.bin").read_bytes() == data
    ok(s3cmd("del", f"{url}/big.bin"))
    ok(s3cmd("rb", url))
