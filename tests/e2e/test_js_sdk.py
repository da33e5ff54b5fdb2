"""The AWS SDK for JavaScript v3 (@aws-sdk/client-s3 and @aws-sdk/lib-storage, pinned in
tests/e2e/js/package.json) against Vaultaire, run with node. The SDK keeps its default
checksum behaviour (requestChecksumCalculation WHEN_SUPPORTED): CRC32 headers on in-memory
bodies, aws-chunked bodies with a CRC32 trailer for streams, CRC32 multipart uploads.

The scenarios live in js/s3_client_test.mjs; each test runs one of them on a bucket of its
own and checks the exit code and the `ok <step>` lines. `make deps` installs node_modules
(`npm ci` in tests/e2e/js)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import unique_name

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = JS_DIR / "s3_client_test.mjs"
PACKAGES = ("@aws-sdk/client-s3", "@aws-sdk/lib-storage")
NODE_TIMEOUT = 240.0  # seconds for one scenario, 12 MiB multipart included

# The `ok <step>` lines each scenario prints, in order.
STEPS = {
    "basic": [
        "basic CreateBucket",
        "basic PutObject string body",
        "basic GetObject ChecksumMode ENABLED",
        "basic HeadObject",
        "basic ListObjectsV2",
        "basic DeleteObject",
    ],
    "stream": [
        "stream CreateBucket",
        "stream PutObject Readable body (aws-chunked with CRC32 trailer)",
        "stream GetObject ChecksumMode ENABLED",
        "stream DeleteObject",
    ],
    "checksums": [
        "checksums CreateBucket",
        "checksums PutObject returns ChecksumCRC32",
        "checksums GetObject ChecksumMode ENABLED returns ChecksumCRC32",
        "checksums HeadObject ChecksumMode ENABLED returns ChecksumCRC32",
        "checksums PutObject stream returns the trailer's ChecksumCRC32",
        "checksums PutObject with a wrong ChecksumCRC32 is refused",
        "checksums DeleteObject",
    ],
    "multipart": [
        "multipart CreateBucket",
        "multipart Upload (lib-storage, 12 MiB, partSize 5 MiB)",
        "multipart GetObject ChecksumMode ENABLED, SHA-256",
        "multipart HeadObject",
        "multipart ListObjectsV2",
        "multipart DeleteObject",
    ],
}


def find_node() -> str:
    node = shutil.which("node") or ("/usr/bin/node" if os.access("/usr/bin/node", os.X_OK) else None)
    if node is None:
        pytest.fail("node is not installed (not on PATH, no /usr/bin/node): run `make deps`",
                    pytrace=False)
    return node


def check_node_modules() -> None:
    """The pinned packages must be installed in tests/e2e/js/node_modules."""
    wanted = json.loads((JS_DIR / "package.json").read_text())["dependencies"]
    for name in PACKAGES:
        manifest = JS_DIR / "node_modules" / name / "package.json"
        if not manifest.is_file():
            pytest.fail(f"{manifest.parent} is missing: run `make deps` (it runs `npm ci` in "
                        f"{JS_DIR})", pytrace=False)
        installed = json.loads(manifest.read_text())["version"]
        if installed != wanted[name]:
            pytest.fail(f"{name} {installed} is installed in {JS_DIR / 'node_modules'} but "
                        f"package.json pins {wanted[name]}: run `make deps`", pytrace=False)


@pytest.fixture(scope="module")
def node() -> str:
    path = find_node()
    check_node_modules()
    return path


def run_script(node: str, server, bucket: str, home: Path, *scenarios: str,
               timeout: float = NODE_TIMEOUT) -> subprocess.CompletedProcess:
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # The SDK must use exactly what the script passes: no profile, no instance metadata.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        # SDK releases from 2027 on want node >= 22; the warning would only add noise here.
        "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
        "S3_ENDPOINT": server.endpoint,
        "S3_ACCESS_KEY": server.access_key,
        "S3_SECRET_KEY": server.secret_key,
        "S3_BUCKET": bucket,
    }
    return subprocess.run([node, str(SCRIPT), *scenarios], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=env, cwd=JS_DIR)


def ok_steps(stdout: str) -> list:
    """The step names of the `ok <step>: <detail>` lines."""
    return [line[3:].split(": ", 1)[0] for line in stdout.splitlines() if line.startswith("ok ")]


@pytest.mark.parametrize("scenario", list(STEPS))
def test_sdk_scenario(node, server, tmp_path, scenario):
    bucket = unique_name(f"js-{scenario}")
    res = run_script(node, server, bucket, tmp_path / "home", scenario)
    report = f"exit {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    assert res.returncode == 0, report
    assert ok_steps(res.stdout) == STEPS[scenario], report
    assert res.stdout.splitlines()[-1] == f"PASS {scenario}", report
    assert "FAIL" not in res.stderr, report
    # The script leaves the bucket empty; the server agrees.
    assert server.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_script_fails_clearly_against_a_wrong_secret(node, server, tmp_path):
    """The script's failure path works: a bad secret fails the first step, exit 1, with the
    S3 error named on stderr (and no `ok` line, no PASS)."""
    server_with_bad_secret = SimpleNamespace(endpoint=server.endpoint,
                                             access_key=server.access_key,
                                             secret_key="wrong" + server.secret_key[5:])
    res = run_script(node, server_with_bad_secret, unique_name("js-bad"), tmp_path / "home",
                     "basic", timeout=60)
    report = f"exit {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    assert res.returncode == 1, report
    assert ok_steps(res.stdout) == [], report
    assert "PASS" not in res.stdout, report
    first = res.stderr.splitlines()[0]
    assert first.startswith("FAIL basic CreateBucket: "), report
    assert "403" in first, report
