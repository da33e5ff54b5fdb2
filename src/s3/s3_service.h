#pragma once

// The S3 API: routes each HTTP request to an operation, authenticates it, and answers in S3's
// terms (XML bodies, S3 error codes, x-amz-request-id on every response). Metadata goes through
// the hub's commands and queries; bytes stream between the connection and the spoke's drivers
// in chunks, so memory per request is bounded whatever the object size.

#include <memory>
#include <string>

#include "actors/hub.h"
#include "actors/spoke.h"
#include "common/checksum.h"
#include "common/clock.h"
#include "common/logging.h"
#include "s3/auth.h"
#include "s3/http_server.h"
#include "s3/rate_limiter.h"

namespace vaultaire {
class Counter;
}

namespace vaultaire::s3 {

namespace internal {
struct Request;
enum class Op : int;
enum class Access;
}  // namespace internal

struct S3Options {
  AuthOptions auth;                       // region and clock skew
  uint64_t max_object_size = 5ull << 30;  // a single PUT, as S3 allows
  size_t chunk_size = 1 << 20;            // body bytes moved per step
  bool access_log = true;                 // one info line per request on the "access" logger
  std::string domain;  // set: Host BUCKET.<domain> addresses BUCKET (virtual-hosted style)
  // The clock events are stamped with (restore expiries are on it); null: the service's clock.
  const Clock* events_clock = nullptr;
};

// What authentication needs of an HTTP request: method, paths (raw and decoded), decoded query,
// headers with lowercase names. nullopt for a target that does not decode (InvalidURI).
std::optional<RequestFacts> request_facts(const HttpExchange& exchange);

// The S3 answer to a request whose HTTP head does not parse (HttpServerOptions::malformed):
// EntityTooLarge for a Content-Length over the body limit, else 400 BadRequest, as S3 XML with
// a request id of its own.
http::response<http::string_body> malformed_request_response(const boost::system::error_code& ec);

class S3Service {
 public:
  // `hub`, `spoke`, `credentials` and `clock` must outlive the service.
  S3Service(S3Options options, actors::Hub& hub, actors::Spoke& spoke,
            const CredentialStore& credentials, const Clock& clock);
  ~S3Service();

  // The HttpHandler of the S3 listener.
  asio::awaitable<void> handle(HttpExchange& exchange);

 private:
  asio::awaitable<void> dispatch(internal::Request& r);
  // Whether the authenticated principal may do r.op on r.bucket: tenant admins and root may do
  // anything in their tenant, members what their grants allow, anonymous requests read
  // public-read buckets. The refusal, if any.
  asio::awaitable<std::optional<S3Error>> authorize(internal::Request& r);
  asio::awaitable<bool> has_grant(internal::Request& r, std::string bucket, internal::Access need);
  // The S3 error for a failed command; a refused quota names the quota, from the tenant's
  // usage and the change attempted (`bytes`, `objects`, `buckets`).
  asio::awaitable<S3Error> command_error(internal::Request& r, boost::system::error_code ec,
                                         int64_t bytes, int64_t objects, int64_t buckets);
  // QuotaExceeded when adding `bytes` would pass the tenant's byte quota (checked before a
  // body is read; the commit checks again, exactly).
  asio::awaitable<std::optional<S3Error>> precheck_bytes(internal::Request& r, uint64_t bytes);
  // Answers AccessDenied and records the denial as an event.
  asio::awaitable<void> deny(internal::Request& r, std::string reason);
  // NoSuchBucket (or the lookup's error) when the request's bucket does not exist.
  asio::awaitable<std::optional<S3Error>> bucket_missing(internal::Request& r);
  // The AccessDenied event alone, for refusals answered elsewhere (a copy source).
  asio::awaitable<void> record_denial(internal::Request& r, const std::string& container,
                                      const std::string& path, const std::string& reason);

  // Service and bucket operations (bucket_ops.cc).
  asio::awaitable<void> list_buckets(internal::Request& r);
  asio::awaitable<void> create_bucket(internal::Request& r);
  asio::awaitable<void> head_bucket(internal::Request& r);
  asio::awaitable<void> delete_bucket(internal::Request& r);
  asio::awaitable<void> list_objects(internal::Request& r, bool v2);
  asio::awaitable<void> get_bucket_location(internal::Request& r);
  asio::awaitable<void> get_bucket_versioning(internal::Request& r);
  asio::awaitable<void> get_bucket_acl(internal::Request& r);
  asio::awaitable<void> put_bucket_acl(internal::Request& r);

  // Object operations (object_ops.cc).
  asio::awaitable<void> put_object(internal::Request& r);
  asio::awaitable<void> get_object(internal::Request& r, bool head);
  asio::awaitable<void> delete_object(internal::Request& r);
  asio::awaitable<void> delete_objects(internal::Request& r);
  asio::awaitable<void> copy_object(internal::Request& r);
  asio::awaitable<void> get_object_tagging(internal::Request& r);
  asio::awaitable<void> put_object_tagging(internal::Request& r);
  asio::awaitable<void> delete_object_tagging(internal::Request& r);

  // Multipart uploads (multipart_ops.cc).
  asio::awaitable<void> create_multipart_upload(internal::Request& r);
  asio::awaitable<void> upload_part(internal::Request& r, bool copy);
  asio::awaitable<void> complete_multipart_upload(internal::Request& r);
  asio::awaitable<void> abort_multipart_upload(internal::Request& r);
  asio::awaitable<void> list_parts(internal::Request& r);
  asio::awaitable<void> list_multipart_uploads(internal::Request& r);

  // The request body into a new blob of the default driver, checked against Content-MD5 and a
  // signed x-amz-content-sha256 (object_ops.cc).
  // aws-chunked bodies are decoded on the way (chunk signatures and trailers verified), and a
  // flexible checksum the request declares is verified and returned; `also_compute` is the
  // algorithm to compute even when the request declares none (a multipart upload's).
  struct ReceivedBlob {
    std::string blob_id;
    std::string driver;
    uint64_t size = 0;
    std::string md5;  // raw
    std::vector<proto::Checksum> checksums;
  };
  asio::awaitable<S3Result<ReceivedBlob>> receive_blob(
      internal::Request& r, drivers::Driver& driver,
      std::optional<ChecksumAlgorithm> also_compute = std::nullopt);
  // What `reader` returns, into a new blob of `driver`.
  asio::awaitable<S3Result<ReceivedBlob>> copy_into_blob(
      internal::Request& r, drivers::BlobReader& reader, drivers::Driver& driver,
      std::optional<ChecksumAlgorithm> compute = std::nullopt);
  // The tier x-amz-storage-class asks for (the hottest without one); InvalidStorageClass for a
  // class no tier serves.
  S3Result<const actors::TierInfo*> requested_tier(const internal::Request& r) const;
  // The blobs a read of `a` streams: its own, or its restored copy when its tier needs a
  // restore. InvalidObjectState when it needs one and has none in date.
  S3Result<std::vector<actors::BlobPiece>> readable_pieces(const proto::ArtifactRecord& a) const;
  asio::awaitable<void> restore_object(internal::Request& r);
  // A ContainerListed event for a listing just answered (not awaited for durability).
  asio::awaitable<void> record_listing(internal::Request& r, std::string prefix, size_t entries);
  // The source of a copy (x-amz-copy-source), after its x-amz-copy-source-if-* conditions.
  struct CopySource {
    std::string bucket;
    std::string key;
    proto::ArtifactRecord record;
  };
  asio::awaitable<S3Result<CopySource>> copy_source(internal::Request& r);

  // Helpers shared by the operations.
  asio::awaitable<Result<proto::QueryReply>> query(internal::Request& r, proto::Query q);
  asio::awaitable<Result<proto::CommandReply>> execute(internal::Request& r, proto::Command c);
  void finish(internal::Request& r);
  // The bucket a virtual-hosted-style Host header names, or empty.
  std::string host_bucket(const internal::Request& r) const;
  static Counter& request_counter(internal::Op op, unsigned status);

  S3Options options_;
  actors::Hub& hub_;
  actors::Spoke& spoke_;
  const CredentialStore& credentials_;
  const Clock& clock_;
  const Clock& events_clock_;
  RateLimiter rate_limiter_;
  Counter* bytes_in_;
  Counter* bytes_out_;
  std::shared_ptr<spdlog::logger> access_log_;  // looked up once: the registry takes a lock
};

}  // namespace vaultaire::s3
