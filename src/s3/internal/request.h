#pragma once

// One S3 request as the operations see it, and the helpers that answer it. Private to s3/.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3/auth.h"
#include "s3/errors.h"
#include "s3/http_server.h"
#include "vaultaire/hub.pb.h"

namespace vaultaire::s3::internal {

enum class Op : int {
  kUnknown,
  kNotImplemented,  // a sub-resource or header this build does not implement
  kListBuckets,
  kCreateBucket,
  kHeadBucket,
  kDeleteBucket,
  kListObjects,
  kListObjectsV2,
  kGetBucketLocation,
  kGetBucketVersioning,
  kListMultipartUploads,
  kDeleteObjects,
  kPutObject,
  kCopyObject,
  kGetObject,
  kHeadObject,
  kDeleteObject,
  kGetObjectTagging,
  kPutObjectTagging,
  kDeleteObjectTagging,
  kCreateMultipartUpload,
  kUploadPart,
  kUploadPartCopy,
  kCompleteMultipartUpload,
  kAbortMultipartUpload,
  kListParts,
  kGetBucketAcl,
  kPutBucketAcl,
  kRestoreObject,
};

// What an operation needs of the bucket it names.
enum class Access { kNone, kRead, kWrite, kAdmin };
Access access_needed(Op op);

std::string_view op_name(Op op);

struct Request {
  Request(HttpExchange& exchange, std::string request_id)
      : ex(exchange), id(std::move(request_id)) {}

  HttpExchange& ex;
  const std::string id;  // x-amz-request-id
  const std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  Op op = Op::kUnknown;
  std::string bucket;
  std::string key;
  RequestFacts facts;
  Authenticated auth;
  std::string tenant;         // whose bucket namespace the request addresses
  std::string bucket_tenant;  // "acme" of a bucket named "acme:photos" (anonymous access)
  unsigned status = 0;        // of the response sent
  // Headers an operation adds to its response (with make_response).
  std::vector<std::pair<std::string, std::string>> extra_headers;
  std::string error_code;

  const QueryParam* param(std::string_view name) const;
  bool has_param(std::string_view name) const { return param(name) != nullptr; }
  // The value of a query parameter, empty when absent.
  std::string param_value(std::string_view name) const;
  std::optional<std::string_view> header(std::string_view lowercase_name) const {
    return find_header(facts.headers, lowercase_name);
  }
  // "/bucket/key" as S3 names the resource in errors.
  std::string resource() const;
  // The request context commands and queries carry.
  proto::RequestContext context(const std::string& spoke_id) const;
  bool anonymous() const { return auth.identity.anonymous; }
};

// Which operation a request is: by method, bucket/key presence, sub-resources and headers.
Op route(const Request& r);

// A response with the headers every S3 response has (request ids, Server, Date).
http::response<http::string_body> make_response(const Request& r, http::status status);
http::response<http::buffer_body> make_streamed_response(const Request& r, http::status status);

// Sends an S3 error (XML body, except for HEAD).
asio::awaitable<void> send_error(Request& r, S3Error error);
// Sends an XML body with 200 OK.
asio::awaitable<void> send_xml(Request& r, std::string xml);
// Sends a body-less response with `status` (204 No Content, ...).
asio::awaitable<void> send_empty(Request& r, http::status status);
// Sends a prepared response and records its status.
asio::awaitable<void> send(Request& r, http::response<http::string_body> response);

// Reads a whole (small) request body, at most `limit` bytes, checking Content-MD5 and a hex
// x-amz-content-sha256. Errors: MaxMessageLengthExceeded-like InvalidRequest, BadDigest,
// XAmzContentSHA256Mismatch, IncompleteBody.
asio::awaitable<S3Result<std::string>> read_small_body(Request& r, size_t limit);

// Parses Content-MD5 (base64 of 16 bytes); nullopt when absent, InvalidDigest when malformed.
S3Result<std::optional<std::string>> content_md5(const Request& r);

// Whether `value` may be sent as an HTTP header value: no control character but HTAB (RFC 9110
// field-value; bytes from 0x80 up pass as obs-text).
bool is_header_value(std::string_view value);

}  // namespace vaultaire::s3::internal
