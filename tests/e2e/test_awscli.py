"""The aws cli (Debian's /usr/bin/aws, v2) against Vaultaire: the high-level `aws s3` commands
and the `aws s3api` calls users script with. Checked by exit code and output."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from harness import md5_hex, quoted_etag, unique_name

# aws cli v2 exits 254 when the service answered with an error, 255 for other failures.
SERVICE_ERROR = 254


def ok(res) -> str:
    assert res.returncode == 0, f"exit {res.returncode}\nstdout: {res.stdout}\nstderr: {res.stderr}"
    return res.stdout


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def ls_lines(stdout: str) -> list:
    return [line.rstrip() for line in stdout.splitlines() if line.strip()]


def test_mb_then_ls_lists_the_bucket(aws):
    name = unique_name("cli-mb")
    assert ok(aws("s3", "mb", f"s3://{name}")).strip() == f"make_bucket: {name}"
    listed = ls_lines(ok(aws("s3", "ls")))
    mine = [line for line in listed if line.split()[-1] == name]
    assert len(mine) == 1
    # "YYYY-MM-DD hh:mm:ss name"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} " + re.escape(name), mine[0])


def test_cp_up_and_down_keeps_the_bytes(aws, tmp_path):
    name = unique_name("cli-cp")
    ok(aws("s3", "mb", f"s3://{name}"))
    data = os.urandom(3 * 1024 * 1024 + 12345)  # below the cli's 8 MiB multipart threshold
    write(tmp_path / "up" / "payload.bin", data)
    out = ok(aws("s3", "cp", "--no-progress", "up/payload.bin", f"s3://{name}/dir/payload.bin",
                 cwd=tmp_path))
    assert out.strip() == f"upload: up/payload.bin to s3://{name}/dir/payload.bin"

    (tmp_path / "down").mkdir()
    out = ok(aws("s3", "cp", "--no-progress", f"s3://{name}/dir/payload.bin",
                 "down/payload.bin", cwd=tmp_path))
    assert out.strip() == f"download: s3://{name}/dir/payload.bin to down/payload.bin"
    assert (tmp_path / "down" / "payload.bin").read_bytes() == data


def test_ls_shows_prefixes_and_objects_with_sizes(aws, tmp_path):
    name = unique_name("cli-ls")
    ok(aws("s3", "mb", f"s3://{name}"))
    ok(aws("s3", "cp", "--no-progress", str(write(tmp_path / "a", b"a" * 10)),
           f"s3://{name}/top.txt"))
    ok(aws("s3", "cp", "--no-progress", str(write(tmp_path / "b", b"b" * 2048)),
           f"s3://{name}/folder/inner.bin"))
    ok(aws("s3", "cp", "--no-progress", str(write(tmp_path / "c", b"c" * 3)),
           f"s3://{name}/folder/sub/deep.bin"))

    root = ls_lines(ok(aws("s3", "ls", f"s3://{name}/")))
    assert len(root) == 2
    assert root[0].split() == ["PRE", "folder/"]
    assert root[1].split()[2:] == ["10", "top.txt"]

    folder = ls_lines(ok(aws("s3", "ls", f"s3://{name}/folder/")))
    assert [line.split()[-2:] for line in folder] == [["PRE", "sub/"], ["2048", "inner.bin"]]

    recursive = ls_lines(ok(aws("s3", "ls", "--recursive", f"s3://{name}")))
    assert [line.split()[2:] for line in recursive] == [
        ["2048", "folder/inner.bin"], ["3", "folder/sub/deep.bin"], ["10", "top.txt"]]


def test_rm_deletes_the_object(aws, tmp_path):
    name = unique_name("cli-rm")
    ok(aws("s3", "mb", f"s3://{name}"))
    ok(aws("s3", "cp", "--no-progress", str(write(tmp_path / "f", b"bye")), f"s3://{name}/f"))
    assert ok(aws("s3", "rm", f"s3://{name}/f")).strip() == f"delete: s3://{name}/f"
    assert ls_lines(ok(aws("s3", "ls", f"s3://{name}/"))) == []
    res = aws("s3api", "head-object", "--bucket", name, "--key", "f")
    assert res.returncode == SERVICE_ERROR, res
    assert "404" in res.stderr
    assert ok(aws("s3", "rb", f"s3://{name}")).strip() == f"remove_bucket: {name}"
    assert name not in ok(aws("s3", "ls")).split()


def test_s3api_head_object(aws, tmp_path):
    name = unique_name("cli-head")
    ok(aws("s3", "mb", f"s3://{name}"))
    data = b"some text\n" * 300
    ok(aws("s3", "cp", "--no-progress", str(write(tmp_path / "notes.txt", data)),
           f"s3://{name}/notes.txt"))
    head = aws.json("s3api", "head-object", "--bucket", name, "--key", "notes.txt")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == quoted_etag(data)
    assert head["ContentType"] == "text/plain"  # guessed by the cli from the extension
    assert head["LastModified"]


def test_s3api_put_object_with_metadata_then_head(aws, tmp_path):
    name = unique_name("cli-meta")
    ok(aws("s3", "mb", f"s3://{name}"))
    data = b'{"k": 1}'
    put = aws.json("s3api", "put-object", "--bucket", name, "--key", "cfg/app.json",
                   "--body", str(write(tmp_path / "app.json", data)),
                   "--content-type", "application/json", "--cache-control", "no-cache",
                   "--metadata", "origin=cli,build=42")
    assert put["ETag"] == f'"{md5_hex(data)}"'
    head = aws.json("s3api", "head-object", "--bucket", name, "--key", "cfg/app.json")
    assert head["ContentType"] == "application/json"
    assert head["CacheControl"] == "no-cache"
    assert head["Metadata"] == {"origin": "cli", "build": "42"}


def test_s3api_list_objects_v2_with_prefix_and_delimiter(aws, tmp_path):
    name = unique_name("cli-list")
    ok(aws("s3", "mb", f"s3://{name}"))
    src = write(tmp_path / "x", b"x")
    for key in ["logs/2024/01/a.log", "logs/2024/02/b.log", "logs/readme", "logs2/c", "top"]:
        ok(aws("s3", "cp", "--no-progress", str(src), f"s3://{name}/{key}"))

    res = aws.json("s3api", "list-objects-v2", "--bucket", name, "--prefix", "logs/",
                   "--delimiter", "/")
    assert [o["Key"] for o in res["Contents"]] == ["logs/readme"]
    assert [p["Prefix"] for p in res["CommonPrefixes"]] == ["logs/2024/"]
    assert res["Contents"][0]["Size"] == 1
    assert res["Contents"][0]["ETag"] == quoted_etag(b"x")

    res = aws.json("s3api", "list-objects-v2", "--bucket", name, "--prefix", "logs/2024/")
    assert [o["Key"] for o in res["Contents"]] == ["logs/2024/01/a.log", "logs/2024/02/b.log"]
    assert "CommonPrefixes" not in res

    res = aws.json("s3api", "list-objects-v2", "--bucket", name, "--delimiter", "/")
    assert [o["Key"] for o in res["Contents"]] == ["top"]
    assert [p["Prefix"] for p in res["CommonPrefixes"]] == ["logs/", "logs2/"]

    # The cli pages on its own; a small page size must give the same listing.
    res = aws.json("s3api", "list-objects-v2", "--bucket", name, "--page-size", "2")
    assert [o["Key"] for o in res["Contents"]] == [
        "logs/2024/01/a.log", "logs/2024/02/b.log", "logs/readme", "logs2/c", "top"]


def test_sync_up_and_down_round_trips_a_tree(aws, tmp_path):
    name = unique_name("cli-sync")
    ok(aws("s3", "mb", f"s3://{name}"))
    files = {
        "a.txt": b"alpha",
        "dir/b.bin": os.urandom(70000),
        "dir/sub/c with space.txt": b"gamma",
        "dir/sub/ünïcode.txt": b"delta",
        "empty": b"",
    }
    up = tmp_path / "up"
    day_ago = time.time() - 86400
    for rel, data in files.items():
        write(up / rel, data)
        os.utime(up / rel, (day_ago, day_ago))  # older than any upload: no re-sync later

    out = ok(aws("s3", "sync", "--no-progress", "up", f"s3://{name}/tree", cwd=tmp_path))
    assert sorted(ls_lines(out)) == sorted(
        f"upload: up/{rel} to s3://{name}/tree/{rel}" for rel in files)

    # Nothing changed locally, so a second sync transfers nothing.
    assert ls_lines(ok(aws("s3", "sync", "--no-progress", str(up), f"s3://{name}/tree"))) == []

    down = tmp_path / "down"
    ok(aws("s3", "sync", "--no-progress", f"s3://{name}/tree", str(down)))
    got = {str(p.relative_to(down)): p.read_bytes() for p in down.rglob("*") if p.is_file()}
    assert got == files


def test_errors_are_reported_with_exit_code_254(aws):
    missing = unique_name("cli-missing")
    res = aws("s3", "ls", f"s3://{missing}/")
    assert res.returncode == SERVICE_ERROR, res
    assert "NoSuchBucket" in res.stderr

    name = unique_name("cli-twice")
    ok(aws("s3", "mb", f"s3://{name}"))
    res = aws("s3", "mb", f"s3://{name}")
    assert res.returncode != 0
    assert "BucketAlreadyOwnedByYou" in res.stderr
