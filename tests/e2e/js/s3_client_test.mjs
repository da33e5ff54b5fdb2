// The AWS SDK for JavaScript v3 against Vaultaire, with the SDK's default settings for
// checksums: requestChecksumCalculation and responseChecksumValidation WHEN_SUPPORTED, so
// every upload carries a CRC32 (a header for in-memory bodies, an aws-chunked trailer with
// STREAMING-UNSIGNED-PAYLOAD-TRAILER for streams) and multipart uploads are CRC32 uploads.
//
//   S3_ENDPOINT=http://127.0.0.1:8080 S3_ACCESS_KEY=... S3_SECRET_KEY=... S3_BUCKET=name \
//     node s3_client_test.mjs [scenario...]
//
// Scenarios: basic, stream, checksums, multipart (default: all of them, in that order, on
// the one bucket). Every scenario creates the bucket if it does not exist yet and leaves it
// empty. Each step prints `ok <step>: <detail>`; the first failure prints
// `FAIL <step>: <what>` on stderr and exits 1. The last line is `PASS <scenarios>`.
// Run by tests/e2e/test_js_sdk.py; `make deps` installs node_modules with `npm ci`.

import { createHash } from "node:crypto";
import { Readable } from "node:stream";

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const MiB = 1024 * 1024;

class StepFailure extends Error {}

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`FAIL setup: environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const endpoint = env("S3_ENDPOINT");
const bucket = env("S3_BUCKET");
const client = new S3Client({
  endpoint,
  region: process.env.S3_REGION || "us-east-1",
  credentials: { accessKeyId: env("S3_ACCESS_KEY"), secretAccessKey: env("S3_SECRET_KEY") },
  forcePathStyle: true, // Vaultaire is path-style only for now
  maxAttempts: 1, // no retries: the first error is the one reported
  requestHandler: { connectionTimeout: 5000, requestTimeout: 120000 },
  // Deliberately not set, so the SDK defaults apply (WHEN_SUPPORTED):
  // requestChecksumCalculation, responseChecksumValidation.
});

// -- helpers ---------------------------------------------------------------------------------

function describeError(e) {
  if (!e || typeof e !== "object") return String(e);
  const parts = [`${e.name || "Error"}: ${e.message || "(no message)"}`];
  const meta = e.$metadata;
  if (meta) {
    if (meta.httpStatusCode !== undefined) parts.push(`HTTP ${meta.httpStatusCode}`);
    if (meta.requestId) parts.push(`request id ${meta.requestId}`);
  }
  if (e.Code && e.Code !== e.name) parts.push(`code ${e.Code}`);
  if (e.$response && e.$response.body && typeof e.$response.body === "string") {
    parts.push(`body ${e.$response.body.slice(0, 300)}`);
  }
  if (e.cause) parts.push(`cause: ${describeError(e.cause)}`);
  return parts.join("; ");
}

async function step(name, fn) {
  let detail;
  try {
    detail = await fn();
  } catch (e) {
    const what = e instanceof StepFailure ? e.message : describeError(e);
    console.error(`FAIL ${name}: ${what}`);
    if (!(e instanceof StepFailure) && e && e.stack && process.env.S3_TEST_VERBOSE) {
      console.error(e.stack);
    }
    process.exit(1);
  }
  console.log(`ok ${name}${detail ? `: ${detail}` : ""}`);
}

function check(cond, message) {
  if (!cond) throw new StepFailure(message);
}

function equal(actual, expected, what) {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function expectError(promise, names, statuses, what) {
  try {
    await promise;
  } catch (e) {
    const status = e.$metadata && e.$metadata.httpStatusCode;
    check(names.includes(e.name) && (!statuses.length || statuses.includes(status)),
      `${what}: expected ${names.join(" or ")} (HTTP ${statuses.join("/")}), got ${describeError(e)}`);
    return `${e.name} (HTTP ${status})`;
  }
  throw new StepFailure(`${what}: succeeded, expected ${names.join(" or ")}`);
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const md5 = (bytes) => createHash("md5").update(bytes).digest("hex");

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32 (the zlib one S3 uses) of bytes, base64 of its big-endian 4 bytes, as S3 shows it. */
function crc32Base64(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC32_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString("base64");
}

/** Deterministic pseudo-random bytes (xorshift), so a failure is reproducible. */
function pseudoRandomBytes(size, seed) {
  if (size % 4 !== 0) throw new Error("pseudoRandomBytes: size must be a multiple of 4");
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

async function bodyBytes(resp) {
  return Buffer.from(await resp.Body.transformToByteArray());
}

async function ensureBucket() {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return `${bucket} exists`;
  } catch (e) {
    const status = e.$metadata && e.$metadata.httpStatusCode;
    if (status !== 404) throw e;
  }
  const resp = await client.send(new CreateBucketCommand({ Bucket: bucket }));
  equal(resp.$metadata.httpStatusCode, 200, "CreateBucket status");
  return `${bucket} created`;
}

async function listKeys(prefix) {
  const keys = [];
  let token;
  do {
    const resp = await client.send(new ListObjectsV2Command({
      Bucket: bucket, Prefix: prefix, ContinuationToken: token,
    }));
    for (const o of resp.Contents || []) keys.push({ key: o.Key, size: o.Size, etag: o.ETag });
    token = resp.IsTruncated ? resp.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function expectGone(key) {
  return expectError(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    ["NotFound", "NoSuchKey"], [404], `HeadObject ${key} after delete`);
}

// -- scenarios -------------------------------------------------------------------------------

/** In-memory bodies: the SDK sends x-amz-checksum-crc32 as a header on a signed payload. */
async function basic() {
  const key = "basic/hello ünïcødé.txt";
  const text = "Hello from the AWS SDK for JavaScript v3 ✓\n";
  const bytes = Buffer.from(text, "utf8");
  await step("basic CreateBucket", ensureBucket);
  await step("basic PutObject string body", async () => {
    const resp = await client.send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: text, ContentType: "text/plain; charset=utf-8",
    }));
    equal(resp.ETag, `"${md5(bytes)}"`, "PutObject ETag");
    return `ETag ${resp.ETag}`;
  });
  await step("basic GetObject ChecksumMode ENABLED", async () => {
    const resp = await client.send(new GetObjectCommand({
      Bucket: bucket, Key: key, ChecksumMode: "ENABLED",
    }));
    const got = await bodyBytes(resp);
    check(got.equals(bytes), `body differs: got ${JSON.stringify(got.toString("utf8"))}`);
    equal(resp.ContentLength, bytes.length, "GetObject ContentLength");
    equal(resp.ContentType, "text/plain; charset=utf-8", "GetObject ContentType");
    return `${got.length} bytes match`;
  });
  await step("basic HeadObject", async () => {
    const resp = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    equal(resp.ContentLength, bytes.length, "HeadObject ContentLength");
    equal(resp.ETag, `"${md5(bytes)}"`, "HeadObject ETag");
    return `ContentLength ${resp.ContentLength}`;
  });
  await step("basic ListObjectsV2", async () => {
    const keys = await listKeys("basic/");
    equal(JSON.stringify(keys.map((k) => [k.key, k.size])), JSON.stringify([[key, bytes.length]]),
      "listed keys and sizes");
    return `${keys.length} key`;
  });
  await step("basic DeleteObject", async () => {
    const resp = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    equal(resp.$metadata.httpStatusCode, 204, "DeleteObject status");
    return `then HeadObject: ${await expectGone(key)}`;
  });
}

/** A stream body: aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER, x-amz-checksum-crc32 trailer. */
async function stream() {
  const key = "stream/chunked.bin";
  const data = pseudoRandomBytes(3 * MiB + 4 * 1000, 7);
  await step("stream CreateBucket", ensureBucket);
  await step("stream PutObject Readable body (aws-chunked with CRC32 trailer)", async () => {
    // Several pieces, so the SDK writes several aws-chunked chunks.
    const pieces = [];
    for (let off = 0; off < data.length; off += 256 * 1024) pieces.push(data.subarray(off, off + 256 * 1024));
    const resp = await client.send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: Readable.from(pieces), ContentLength: data.length,
    }));
    equal(resp.ETag, `"${md5(data)}"`, "PutObject ETag (MD5 of the decoded bytes)");
    return `ETag ${resp.ETag}`;
  });
  await step("stream GetObject ChecksumMode ENABLED", async () => {
    const resp = await client.send(new GetObjectCommand({
      Bucket: bucket, Key: key, ChecksumMode: "ENABLED",
    }));
    const got = await bodyBytes(resp);
    equal(got.length, data.length, "GetObject length");
    equal(sha256(got), sha256(data), "GetObject SHA-256");
    // aws-chunked is how the bytes travelled, not how they are stored.
    check(!resp.ContentEncoding || !resp.ContentEncoding.includes("aws-chunked"),
      `GetObject ContentEncoding should not keep aws-chunked: ${resp.ContentEncoding}`);
    return `${got.length} bytes, sha256 ${sha256(got).slice(0, 16)}…`;
  });
  await step("stream DeleteObject", async () => {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    return `then HeadObject: ${await expectGone(key)}`;
  });
}

/** What S3 does with the checksums the SDK sends: stores, returns and enforces them. */
async function checksums() {
  const key = "checksums/crc.txt";
  const bytes = Buffer.from("checksummed content\n".repeat(100), "utf8");
  const crc = crc32Base64(bytes);
  const streamKey = "checksums/streamed.bin";
  const streamed = pseudoRandomBytes(1 * MiB + 64, 11);
  const streamedCrc = crc32Base64(streamed);
  await step("checksums CreateBucket", ensureBucket);
  await step("checksums PutObject returns ChecksumCRC32", async () => {
    const resp = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
    equal(resp.ChecksumCRC32, crc, "PutObject ChecksumCRC32");
    return `ChecksumCRC32 ${resp.ChecksumCRC32}`;
  });
  await step("checksums GetObject ChecksumMode ENABLED returns ChecksumCRC32", async () => {
    const resp = await client.send(new GetObjectCommand({
      Bucket: bucket, Key: key, ChecksumMode: "ENABLED",
    }));
    const got = await bodyBytes(resp); // the SDK validates the body against the checksum
    check(got.equals(bytes), "body differs");
    equal(resp.ChecksumCRC32, crc, "GetObject ChecksumCRC32");
    return `ChecksumCRC32 ${resp.ChecksumCRC32}, validated by the SDK`;
  });
  await step("checksums HeadObject ChecksumMode ENABLED returns ChecksumCRC32", async () => {
    const resp = await client.send(new HeadObjectCommand({
      Bucket: bucket, Key: key, ChecksumMode: "ENABLED",
    }));
    equal(resp.ChecksumCRC32, crc, "HeadObject ChecksumCRC32");
    return `ChecksumCRC32 ${resp.ChecksumCRC32}`;
  });
  await step("checksums PutObject stream returns the trailer's ChecksumCRC32", async () => {
    const resp = await client.send(new PutObjectCommand({
      Bucket: bucket, Key: streamKey, Body: Readable.from([streamed]), ContentLength: streamed.length,
    }));
    equal(resp.ChecksumCRC32, streamedCrc, "PutObject ChecksumCRC32");
    const got = await client.send(new GetObjectCommand({
      Bucket: bucket, Key: streamKey, ChecksumMode: "ENABLED",
    }));
    equal(sha256(await bodyBytes(got)), sha256(streamed), "GetObject SHA-256");
    equal(got.ChecksumCRC32, streamedCrc, "GetObject ChecksumCRC32");
    return `ChecksumCRC32 ${resp.ChecksumCRC32}`;
  });
  await step("checksums PutObject with a wrong ChecksumCRC32 is refused", async () => {
    // An explicit checksum member is sent as is (the SDK computes none of its own). AWS
    // answers 400 BadDigest "The CRC32 you specified did not match the calculated checksum."
    const wrong = crc32Base64(Buffer.from("something else"));
    const how = await expectError(client.send(new PutObjectCommand({
      Bucket: bucket, Key: "checksums/bad.txt", Body: bytes, ChecksumCRC32: wrong,
    })), ["BadDigest"], [400], "PutObject with a wrong CRC32");
    await expectGone("checksums/bad.txt");
    return how;
  });
  await step("checksums DeleteObject", async () => {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: streamKey }));
    const left = await listKeys("checksums/");
    equal(left.length, 0, "keys left under checksums/");
    return "bucket prefix empty";
  });
}

/** lib-storage Upload: CreateMultipartUpload with ChecksumAlgorithm CRC32, 3 parts. */
async function multipart() {
  const key = "multipart/twelve-mib.bin";
  const size = 12 * MiB;
  const partSize = 5 * MiB;
  const data = pseudoRandomBytes(size, 42);
  const parts = Math.ceil(size / partSize);
  await step("multipart CreateBucket", ensureBucket);
  await step("multipart Upload (lib-storage, 12 MiB, partSize 5 MiB)", async () => {
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: data, ContentType: "application/octet-stream" },
      partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const seenParts = new Set();
    upload.on("httpUploadProgress", (p) => { if (p.part) seenParts.add(p.part); });
    const resp = await upload.done();
    check(typeof resp.ETag === "string" && resp.ETag.endsWith(`-${parts}"`),
      `CompleteMultipartUpload ETag should end with -${parts}: ${resp.ETag}`);
    equal(seenParts.size, parts, "parts reported by lib-storage");
    return `${parts} parts, ETag ${resp.ETag}`;
  });
  await step("multipart GetObject ChecksumMode ENABLED, SHA-256", async () => {
    const resp = await client.send(new GetObjectCommand({
      Bucket: bucket, Key: key, ChecksumMode: "ENABLED",
    }));
    const got = await bodyBytes(resp);
    equal(got.length, size, "GetObject length");
    equal(sha256(got), sha256(data), "GetObject SHA-256");
    return `sha256 ${sha256(got)}`;
  });
  await step("multipart HeadObject", async () => {
    const resp = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    equal(resp.ContentLength, size, "HeadObject ContentLength");
    check(resp.ETag && resp.ETag.endsWith(`-${parts}"`), `HeadObject ETag should end with -${parts}: ${resp.ETag}`);
    equal(resp.ContentType, "application/octet-stream", "HeadObject ContentType");
    return `ContentLength ${resp.ContentLength}, ETag ${resp.ETag}`;
  });
  await step("multipart ListObjectsV2", async () => {
    const keys = await listKeys("multipart/");
    equal(JSON.stringify(keys.map((k) => [k.key, k.size])), JSON.stringify([[key, size]]),
      "listed keys and sizes");
    return `${keys[0].key} ${keys[0].size}`;
  });
  await step("multipart DeleteObject", async () => {
    const resp = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    equal(resp.$metadata.httpStatusCode, 204, "DeleteObject status");
    const left = await listKeys("multipart/");
    equal(left.length, 0, "keys left under multipart/");
    return `then HeadObject: ${await expectGone(key)}`;
  });
}

const SCENARIOS = { basic, stream, checksums, multipart };

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : Object.keys(SCENARIOS);
for (const name of names) {
  if (!SCENARIOS[name]) {
    console.error(`FAIL setup: unknown scenario ${name} (known: ${Object.keys(SCENARIOS).join(", ")})`);
    process.exit(2);
  }
}
console.log(`endpoint ${endpoint} bucket ${bucket} scenarios ${names.join(" ")}`);
for (const name of names) await SCENARIOS[name]();
console.log(`PASS ${names.join(" ")}`);
