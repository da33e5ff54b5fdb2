"""rclone (Debian's /usr/bin/rclone, 1.60) against Vaultaire: copy up and down, sync, check,
lsf and md5sum, with single-part and multipart uploads. rclone reads only a config file in
the test's tmp dir (never the user's), with the remote `vt` (provider Minio) and `vtother`
(provider Other, whose conservative quirks use ListObjects v1 without url-encoded listings).
Checked the way a user would: exit codes, exact bytes, exact listings."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from harness import REGION, md5_hex, unique_name

RCLONE = "/usr/bin/rclone"
RCLONE_TIMEOUT = 240.0  # seconds for one rclone invocation (20 MiB transfers included)
MiB = 1024 * 1024
# Forces multipart: parts of 5 MiB for anything above 5 MiB (the default cutoff is 200 MiB).
MULTIPART = ("--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M")

REMOTES = {"vt": "Minio", "vtother": "Other"}


class Rclone:
    """Runs rclone with a private config file and HOME; nothing of the user's is read."""

    def __init__(self, server, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.config = home / "rclone.conf"
        sections = []
        for remote, provider in REMOTES.items():
            sections.append(
                f"[{remote}]\n"
                "type = s3\n"
                f"provider = {provider}\n"
                "env_auth = false\n"
                f"access_key_id = {server.access_key}\n"
                f"secret_access_key = {server.secret_key}\n"
                f"region = {REGION}\n"
                f"endpoint = {server.endpoint}\n"
                "force_path_style = true\n"
            )
        self.config.write_text("\n".join(sections))
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",  # lsl prints local times
            "RCLONE_CONFIG": str(self.config),
        }

    def __call__(self, *args: str, timeout: float = RCLONE_TIMEOUT) -> subprocess.CompletedProcess:
        cmd = [RCLONE, "--config", str(self.config),
               # The first error is the one the test sees; a hung server fails fast.
               "--retries", "1", "--low-level-retries", "1",
               "--contimeout", "5s", "--timeout", "60s", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=self.env, cwd=self.home)


def ok(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 0, (f"{' '.join(res.args[3:])}\nexit {res.returncode}\n"
                                 f"stdout: {res.stdout}\nstderr: {res.stderr}")
    return res.stdout


@pytest.fixture(scope="module")
def rclone(server, tmp_path_factory) -> Rclone:
    return Rclone(server, tmp_path_factory.mktemp("rclone-home"))


# -- local trees ----------------------------------------------------------------------------

UNICODE_NAME = "docs/nested/deeper/file with spaces ünïcødé 日本語 €.txt"


def sample_tree(big: int = 20 * MiB) -> Dict[str, bytes]:
    """Relative path → bytes: nested folders, spaces and unicode, an empty file, a big one."""
    return {
        "top.txt": b"top level file\n",
        "empty.txt": b"",
        "docs/readme.md": b"# readme\n" * 50,
        "docs/nested/deeper/leaf.bin": os.urandom(100 * 1024 + 7),
        UNICODE_NAME: "unicode content ✓\n".encode() * 10,
        "media/big.bin": os.urandom(big),
    }


def write_tree(root: Path, tree: Dict[str, bytes]) -> Path:
    for rel, data in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def read_tree(root: Path) -> Dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same_tree(got: Dict[str, bytes], want: Dict[str, bytes]) -> None:
    assert sorted(got) == sorted(want)
    for rel in want:
        assert len(got[rel]) == len(want[rel]), rel
        assert hashlib.sha256(got[rel]).hexdigest() == hashlib.sha256(want[rel]).hexdigest(), rel


def remote_sizes(s3, bucket: str) -> Dict[str, int]:
    """Every key of the bucket with its size, through boto3 (ListObjectsV2, all pages)."""
    out: Dict[str, int] = {}
    token: Optional[str] = None
    while True:
        args = {"Bucket": bucket}
        if token:
            args["ContinuationToken"] = token
        resp = s3.list_objects_v2(**args)
        out.update({o["Key"]: o["Size"] for o in resp.get("Contents", [])})
        if not resp["IsTruncated"]:
            return out
        token = resp["NextContinuationToken"]


def lsf_dirs(paths) -> List[str]:
    """The folder entries `rclone lsf -R` prints for these file paths ("a/", "a/b/")."""
    dirs = set()
    for rel in paths:
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]) + "/")
    return sorted(dirs)


def md5sum_lines(stdout: str) -> Dict[str, str]:
    """`rclone md5sum` output ("<md5>  <path>") as path → md5."""
    out = {}
    for line in stdout.splitlines():
        if line.strip():
            digest, path = line.split("  ", 1)
            out[path] = digest
    return out


# -- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("remote,extra", [
    ("vt", ()),
    ("vtother", ()),
    ("vt", MULTIPART),
], ids=["minio", "other", "minio-multipart"])
def test_copy_tree_up_and_down_keeps_every_byte(rclone, s3, tmp_path, remote, extra):
    """A tree with nested folders, spaces and unicode in a name, an empty file and a 20 MiB
    file (a single PUT under the default 200 MiB cutoff; 4 parts of 5 MiB with MULTIPART)."""
    bucket = unique_name("rc-copy")
    tree = sample_tree()
    write_tree(tmp_path / "up", tree)
    ok(rclone("copy", *extra, str(tmp_path / "up"), f"{remote}:{bucket}"))

    assert remote_sizes(s3, bucket) == {rel: len(data) for rel, data in tree.items()}
    if extra:
        etag = s3.head_object(Bucket=bucket, Key="media/big.bin")["ETag"]
        assert etag.endswith('-4"'), etag  # 20 MiB in 5 MiB parts

    ok(rclone("copy", str(f"{remote}:{bucket}"), str(tmp_path / "down")))
    assert_same_tree(read_tree(tmp_path / "down"), tree)
    # rclone's own verdict on the round trip (sizes and MD5 on both sides).
    ok(rclone("check", str(tmp_path / "down"), f"{remote}:{bucket}"))


def test_copy_forced_multipart_12mib_file(rclone, s3, tmp_path):
    """--s3-upload-cutoff 5M --s3-chunk-size 5M: a 12 MiB file goes up in 3 parts (5, 5, 2
    MiB); rclone verifies the multipart ETag and stores the whole file's MD5 as metadata."""
    bucket = unique_name("rc-mpu")
    data = os.urandom(12 * MiB)
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "twelve.bin").write_bytes(data)
    ok(rclone("copy", *MULTIPART, str(tmp_path / "up"), f"vt:{bucket}/dir"))

    head = s3.head_object(Bucket=bucket, Key="dir/twelve.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"'), head["ETag"]
    assert head["Metadata"].get("md5chksum"), head["Metadata"]  # base64 MD5 rclone stored

    ok(rclone("copy", f"vt:{bucket}/dir/twelve.bin", str(tmp_path / "down")))
    assert (tmp_path / "down" / "twelve.bin").read_bytes() == data
    # A multipart ETag is no MD5: rclone reads the MD5 from its metadata instead.
    assert md5sum_lines(ok(rclone("md5sum", f"vt:{bucket}"))) == {"dir/twelve.bin": md5_hex(data)}
    ok(rclone("check", str(tmp_path / "up"), f"vt:{bucket}/dir"))


def test_sync_makes_remote_identical_and_deletes_extra_files(rclone, s3, tmp_path):
    bucket = unique_name("rc-sync")
    tree = sample_tree(big=1 * MiB)
    src = write_tree(tmp_path / "src", tree)
    ok(rclone("copy", str(src), f"vt:{bucket}"))
    # Files only the remote has, one of them in a folder the source does not have.
    extra = tmp_path / "extra"
    write_tree(extra, {"stale.txt": b"stale\n", "gone/folder/old.bin": b"old" * 100})
    ok(rclone("copy", str(extra), f"vt:{bucket}"))
    assert set(remote_sizes(s3, bucket)) == set(tree) | {"stale.txt", "gone/folder/old.bin"}

    # The source changes too: one file removed, one changed, one added. (The unchanged
    # files keep their modification times: see the next test for what a touch costs.)
    (src / "top.txt").unlink()
    del tree["top.txt"]
    changes = {"docs/readme.md": b"# rewritten readme\n", "added/new.txt": b"new file\n"}
    tree.update(changes)
    write_tree(src, changes)

    ok(rclone("sync", str(src), f"vt:{bucket}"))
    assert remote_sizes(s3, bucket) == {rel: len(data) for rel, data in tree.items()}
    assert s3.get_object(Bucket=bucket, Key="docs/readme.md")["Body"].read() == b"# rewritten readme\n"
    ok(rclone("check", str(src), f"vt:{bucket}"))

    ok(rclone("copy", f"vt:{bucket}", str(tmp_path / "down")))
    assert_same_tree(read_tree(tmp_path / "down"), tree)


def test_sync_after_a_touch_updates_the_modification_time_in_place(rclone, s3, tmp_path):
    """Same bytes, newer mtime: rclone sync keeps the object and rewrites its metadata
    (X-Amz-Meta-Mtime) with a server-side copy onto itself (CopyObject, REPLACE)."""
    bucket = unique_name("rc-touch")
    src = write_tree(tmp_path / "src", {"notes/a.txt": b"same bytes\n", "b.txt": b"other\n"})
    ok(rclone("copy", str(src), f"vt:{bucket}"))
    etag_before = s3.head_object(Bucket=bucket, Key="notes/a.txt")["ETag"]

    when = 1_700_000_000  # 2023-11-14 22:13:20 UTC
    os.utime(src / "notes" / "a.txt", (when, when))
    ok(rclone("sync", str(src), f"vt:{bucket}"))

    head = s3.head_object(Bucket=bucket, Key="notes/a.txt")
    assert head["ETag"] == etag_before
    assert float(head["Metadata"]["mtime"]) == when
    listed = ok(rclone("lsl", f"vt:{bucket}/notes")).split()
    assert listed[:4] == ["11", "2023-11-14", "22:13:20.000000000", "a.txt"], listed
    assert s3.get_object(Bucket=bucket, Key="notes/a.txt")["Body"].read() == b"same bytes\n"


def test_check_is_zero_when_identical_and_non_zero_after_a_remote_change(rclone, s3, tmp_path):
    bucket = unique_name("rc-check")
    tree = sample_tree(big=256 * 1024)
    src = write_tree(tmp_path / "src", tree)
    ok(rclone("copy", str(src), f"vt:{bucket}"))
    res = rclone("check", str(src), f"vt:{bucket}")
    ok(res)
    assert "0 differences found" in res.stderr, res.stderr

    # Same size, other bytes: only the MD5 (the ETag) tells them apart.
    changed = bytearray(tree["docs/readme.md"])
    changed[0] ^= 0xFF
    s3.put_object(Bucket=bucket, Key="docs/readme.md", Body=bytes(changed))
    res = rclone("check", str(src), f"vt:{bucket}")
    assert res.returncode != 0, res.stderr
    assert "docs/readme.md" in res.stderr and "1 differences found" in res.stderr, res.stderr

    # Put it back: identical again. Then a file the source lacks: a difference again.
    s3.put_object(Bucket=bucket, Key="docs/readme.md", Body=tree["docs/readme.md"])
    ok(rclone("check", str(src), f"vt:{bucket}"))
    s3.put_object(Bucket=bucket, Key="docs/only-remote.txt", Body=b"x")
    res = rclone("check", str(src), f"vt:{bucket}")
    assert res.returncode != 0, res.stderr
    assert "docs/only-remote.txt" in res.stderr and "1 differences found" in res.stderr, res.stderr

    # And a file the remote lacks.
    s3.delete_object(Bucket=bucket, Key="docs/only-remote.txt")
    s3.delete_object(Bucket=bucket, Key=UNICODE_NAME)
    res = rclone("check", str(src), f"vt:{bucket}")
    assert res.returncode != 0, res.stderr
    assert UNICODE_NAME in res.stderr and "1 differences found" in res.stderr, res.stderr


@pytest.mark.parametrize("remote", ["vt", "vtother"], ids=["minio", "other"])
def test_lsf_recursive_lists_exactly_the_uploaded_paths(rclone, tmp_path, remote):
    bucket = unique_name("rc-lsf")
    tree = sample_tree(big=1024)
    ok(rclone("copy", str(write_tree(tmp_path / "src", tree)), f"{remote}:{bucket}"))

    listed = ok(rclone("lsf", "-R", f"{remote}:{bucket}")).splitlines()
    assert sorted(listed) == sorted(list(tree) + lsf_dirs(tree))
    assert len(listed) == len(set(listed))

    files = ok(rclone("lsf", "-R", "--files-only", "--format", "ps", f"{remote}:{bucket}"))
    assert sorted(files.splitlines()) == sorted(f"{rel};{len(data)}" for rel, data in tree.items())

    # One level, and one folder.
    top = ok(rclone("lsf", f"{remote}:{bucket}")).splitlines()
    assert sorted(top) == ["docs/", "empty.txt", "media/", "top.txt"]
    deeper = ok(rclone("lsf", f"{remote}:{bucket}/docs/nested/deeper")).splitlines()
    assert sorted(deeper) == sorted(["leaf.bin", UNICODE_NAME.rsplit("/", 1)[1]])


def test_md5sum_of_single_part_objects_equals_local_md5(rclone, tmp_path):
    bucket = unique_name("rc-md5")
    tree = sample_tree(big=3 * MiB)
    ok(rclone("copy", str(write_tree(tmp_path / "src", tree)), f"vt:{bucket}"))
    sums = md5sum_lines(ok(rclone("md5sum", f"vt:{bucket}")))
    assert sums == {rel: md5_hex(data) for rel, data in tree.items()}
    # rclone's local md5sum agrees with md5 of the bytes (sanity of the comparison itself).
    local = md5sum_lines(ok(rclone("md5sum", str(tmp_path / "src"))))
    assert local == sums
