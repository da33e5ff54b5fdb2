"""Server features switched on by configuration: virtual-hosted-style addressing under a
domain, and the sweep that aborts abandoned multipart uploads."""
import xml.etree.ElementTree as ET

from harness import ACCESS_KEY, SECRET_KEY, poll, unique_name
import sigv4

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def start_with_config(server_factory, tmp_path, toml: str):
    srv = server_factory(start=False)
    config = tmp_path / "vaultaire.toml"
    config.write_text(toml)
    srv.extra_args = ["--config", str(config)]
    return srv.start()


def request(srv, method, path, host, query=(), body=b"", headers=None):
    """A SigV4 request sent to the server's port with the given Host header."""
    signed = sigv4.sign_headers(method=method, host=host, path=path, access_key=ACCESS_KEY,
                                secret_key=SECRET_KEY, region="us-east-1", query=query,
                                headers=headers, payload_hash=sigv4.sha256_hex(body))
    return sigv4.send(srv.host, method, sigv4.request_target(path, query), signed, body)


def test_virtual_hosted_style_addresses_the_bucket_in_the_host(server_factory, tmp_path):
    srv = start_with_config(server_factory, tmp_path, '[s3]\ndomain = "s3.vaultaire.test"\n')
    bucket = unique_name("vhost")
    host = f"{bucket}.s3.vaultaire.test:{srv.s3_port}"
    assert request(srv, "PUT", "/", host).status == 200  # CreateBucket
    put = request(srv, "PUT", "/dir/hello.txt", host, body=b"virtual hello")
    assert put.status == 200, put.body
    got = request(srv, "GET", "/dir/hello.txt", host)
    assert (got.status, got.body) == (200, b"virtual hello")
    listing = request(srv, "GET", "/", host, query=[("list-type", "2")])
    assert listing.status == 200
    keys = [k.text for k in ET.fromstring(listing.body).iter(NS + "Key")]
    assert keys == ["dir/hello.txt"]
    # Path style still works on the same server, and sees the same object.
    s3 = srv.client()
    assert s3.get_object(Bucket=bucket, Key="dir/hello.txt")["Body"].read() == b"virtual hello"
    # A host outside the domain is path style: "/" is ListBuckets there.
    other = request(srv, "GET", "/", f"127.0.0.1:{srv.s3_port}")
    assert other.status == 200 and b"ListAllMyBucketsResult" in other.body


def test_abandoned_uploads_are_aborted_and_their_parts_released(server_factory, tmp_path):
    srv = start_with_config(
        server_factory, tmp_path,
        "[multipart]\nabandon_after_seconds = 2\nsweep_interval_seconds = 1\n")
    s3 = srv.client()
    bucket = unique_name("sweep")
    s3.create_bucket(Bucket=bucket)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="left/behind.bin")
    s3.upload_part(Bucket=bucket, Key="left/behind.bin", UploadId=upload["UploadId"],
                   PartNumber=1, Body=b"x" * 1024)
    blobs = srv.data_dir / "drivers" / "local" / "blobs"
    assert sum(1 for p in blobs.rglob("*") if p.is_file()) == 1

    def listed():
        return s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])

    poll(listed, until=lambda u: u == [], timeout=15, what="the abandoned upload to be aborted")
    poll(lambda: sum(1 for p in blobs.rglob("*") if p.is_file()), until=lambda n: n == 0,
         timeout=10, what="the part's blob to be removed")
    aborted = [e for e in srv.events() if e["type"] == "upload_aborted"]
    assert len(aborted) == 1
    assert aborted[0]["principal"] == "vaultaire:upload-sweep"
    assert aborted[0]["path"] == "left/behind.bin"
