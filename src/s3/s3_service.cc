#include "s3/s3_service.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/time_format.h"
#include "s3/internal/request.h"
#include "s3/xml.h"

namespace vaultaire::s3 {
namespace internal {

std::string_view op_name(Op op) {
  switch (op) {
    case Op::kUnknown:
      return "Unknown";
    case Op::kNotImplemented:
      return "NotImplemented";
    case Op::kListBuckets:
      return "ListBuckets";
    case Op::kCreateBucket:
      return "CreateBucket";
    case Op::kHeadBucket:
      return "HeadBucket";
    case Op::kDeleteBucket:
      return "DeleteBucket";
    case Op::kListObjects:
      return "ListObjects";
    case Op::kListObjectsV2:
      return "ListObjectsV2";
    case Op::kGetBucketLocation:
      return "GetBucketLocation";
    case Op::kGetBucketVersioning:
      return "GetBucketVersioning";
    case Op::kListMultipartUploads:
      return "ListMultipartUploads";
    case Op::kDeleteObjects:
      return "DeleteObjects";
    case Op::kPutObject:
      return "PutObject";
    case Op::kCopyObject:
      return "CopyObject";
    case Op::kGetObject:
      return "GetObject";
    case Op::kHeadObject:
      return "HeadObject";
    case Op::kDeleteObject:
      return "DeleteObject";
    case Op::kGetObjectTagging:
      return "GetObjectTagging";
    case Op::kPutObjectTagging:
      return "PutObjectTagging";
    case Op::kDeleteObjectTagging:
      return "DeleteObjectTagging";
    case Op::kCreateMultipartUpload:
      return "CreateMultipartUpload";
    case Op::kUploadPart:
      return "UploadPart";
    case Op::kUploadPartCopy:
      return "UploadPartCopy";
    case Op::kCompleteMultipartUpload:
      return "CompleteMultipartUpload";
    case Op::kAbortMultipartUpload:
      return "AbortMultipartUpload";
    case Op::kListParts:
      return "ListParts";
    case Op::kGetBucketAcl:
      return "GetBucketAcl";
    case Op::kPutBucketAcl:
      return "PutBucketAcl";
    case Op::kRestoreObject:
      return "RestoreObject";
  }
  return "Unknown";
}

namespace {

// Query parameters naming S3 sub-resources this build does not implement: a request carrying one
// is answered NotImplemented rather than mistaken for a plain GET or PUT.
constexpr std::array<std::string_view, 26> kSubresources = {
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "retention",
    "select",
    "torrent",
    "versionId",
    "website",
};

bool has_unsupported_subresource(const Request& r) {
  for (const auto& p : r.facts.query) {
    for (const auto name : kSubresources) {
      if (p.name == name) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::string Request::param_value(std::string_view name) const {
  const QueryParam* p = param(name);
  return p != nullptr ? p->value : std::string();
}

Op route(const Request& r) {
  const http::verb method = r.ex.request().method();
  const bool copy_source = r.header("x-amz-copy-source").has_value();
  if (r.bucket.empty()) {
    return method == http::verb::get ? Op::kListBuckets : Op::kUnknown;
  }
  if (r.key.empty()) {
    if (r.has_param("location")) {
      return method == http::verb::get ? Op::kGetBucketLocation : Op::kNotImplemented;
    }
    if (r.has_param("acl")) {
      switch (method) {
        case http::verb::get:
          return Op::kGetBucketAcl;
        case http::verb::put:
          return Op::kPutBucketAcl;
        default:
          return Op::kUnknown;
      }
    }
    if (r.has_param("versioning")) {
      return method == http::verb::get ? Op::kGetBucketVersioning : Op::kNotImplemented;
    }
    if (r.has_param("uploads")) {
      return method == http::verb::get ? Op::kListMultipartUploads : Op::kUnknown;
    }
    if (r.has_param("delete")) {
      return method == http::verb::post ? Op::kDeleteObjects : Op::kUnknown;
    }
    if (has_unsupported_subresource(r)) {
      return Op::kNotImplemented;
    }
    switch (method) {
      case http::verb::put:
        return Op::kCreateBucket;
      case http::verb::head:
        return Op::kHeadBucket;
      case http::verb::delete_:
        return Op::kDeleteBucket;
      case http::verb::get:
        return r.param_value("list-type") == "2" ? Op::kListObjectsV2 : Op::kListObjects;
      default:
        return Op::kUnknown;
    }
  }
  if (r.has_param("uploadId")) {
    switch (method) {
      case http::verb::put:
        return copy_source ? Op::kUploadPartCopy : Op::kUploadPart;
      case http::verb::post:
        return Op::kCompleteMultipartUpload;
      case http::verb::delete_:
        return Op::kAbortMultipartUpload;
      case http::verb::get:
        return Op::kListParts;
      default:
        return Op::kUnknown;
    }
  }
  if (r.has_param("uploads")) {
    return method == http::verb::post ? Op::kCreateMultipartUpload : Op::kUnknown;
  }
  if (r.has_param("restore")) {
    return method == http::verb::post ? Op::kRestoreObject : Op::kUnknown;
  }
  if (r.has_param("tagging")) {
    switch (method) {
      case http::verb::get:
        return Op::kGetObjectTagging;
      case http::verb::put:
        return Op::kPutObjectTagging;
      case http::verb::delete_:
        return Op::kDeleteObjectTagging;
      default:
        return Op::kUnknown;
    }
  }
  if (has_unsupported_subresource(r)) {
    return Op::kNotImplemented;
  }
  switch (method) {
    case http::verb::put:
      return copy_source ? Op::kCopyObject : Op::kPutObject;
    case http::verb::get:
      return Op::kGetObject;
    case http::verb::head:
      return Op::kHeadObject;
    case http::verb::delete_:
      return Op::kDeleteObject;
    default:
      return Op::kUnknown;
  }
}

Access access_needed(Op op) {
  switch (op) {
    case Op::kUnknown:
    case Op::kNotImplemented:
    case Op::kListBuckets:
      return Access::kNone;
    case Op::kCreateBucket:
    case Op::kDeleteBucket:
    case Op::kPutBucketAcl:
      return Access::kAdmin;
    case Op::kHeadBucket:
    case Op::kListObjects:
    case Op::kListObjectsV2:
    case Op::kGetBucketLocation:
    case Op::kGetBucketVersioning:
    case Op::kGetBucketAcl:
    case Op::kListMultipartUploads:
    case Op::kGetObject:
    case Op::kHeadObject:
    case Op::kGetObjectTagging:
    case Op::kListParts:
      return Access::kRead;
    case Op::kDeleteObjects:
    case Op::kPutObject:
    case Op::kCopyObject:
    case Op::kDeleteObject:
    case Op::kPutObjectTagging:
    case Op::kDeleteObjectTagging:
    case Op::kCreateMultipartUpload:
    case Op::kUploadPart:
    case Op::kUploadPartCopy:
    case Op::kCompleteMultipartUpload:
    case Op::kAbortMultipartUpload:
    case Op::kRestoreObject:
      return Access::kWrite;
  }
  return Access::kAdmin;
}

const QueryParam* Request::param(std::string_view name) const {
  for (const auto& p : facts.query) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

std::string Request::resource() const {
  std::string out = "/";
  out.append(bucket);
  if (!key.empty()) {
    out.push_back('/');
    out.append(key);
  }
  return out;
}

proto::RequestContext Request::context(const std::string& spoke_id) const {
  proto::RequestContext ctx;
  ctx.set_tenant(tenant);
  ctx.set_request_id(id);
  ctx.set_principal(auth.identity.principal);
  ctx.set_source_address(ex.remote());
  if (const auto ua = header("user-agent")) {
    ctx.set_user_agent(std::string(*ua));
  }
  ctx.set_spoke_id(spoke_id);
  return ctx;
}

namespace {

// The Date header changes once a second; format it that often, per thread.
const std::string& http_date_now() {
  thread_local int64_t second = -1;
  thread_local std::string text;
  const int64_t now = SystemClock::instance().now_unix_nanos();
  if (now / kNanosPerSecond != second) {
    second = now / kNanosPerSecond;
    text = format_http_date(now);
  }
  return text;
}

// The headers every S3 answer has.
template <typename Response>
void set_id_headers(const std::string& id, Response& res) {
  res.set(http::field::server, "Vaultaire");
  res.set("x-amz-request-id", id);
  res.set("x-amz-id-2", id);
  res.set(http::field::date, http_date_now());
}

template <typename Response>
void set_common_headers(const Request& r, Response& res) {
  set_id_headers(r.id, res);
  for (const auto& [name, value] : r.extra_headers) {
    res.set(name, value);
  }
}

// An S3 error body; `key`, `bucket` and `resource` are left out when empty.
std::string error_xml(std::string_view code, std::string_view message, std::string_view key,
                      std::string_view bucket, std::string_view resource, std::string_view id) {
  XmlWriter xml;
  xml.open("Error").element("Code", code).element("Message", message);
  if (!key.empty()) {
    xml.element("Key", key);
  }
  if (!bucket.empty()) {
    xml.element("BucketName", bucket);
  }
  if (!resource.empty()) {
    xml.element("Resource", resource);
  }
  xml.element("RequestId", id).element("HostId", id);
  xml.close("Error");
  return xml.take();
}

}  // namespace

http::response<http::string_body> make_response(const Request& r, http::status status) {
  http::response<http::string_body> res{status, 11};
  set_common_headers(r, res);
  return res;
}

http::response<http::buffer_body> make_streamed_response(const Request& r, http::status status) {
  http::response<http::buffer_body> res{status, 11};
  set_common_headers(r, res);
  return res;
}

asio::awaitable<void> send(Request& r, http::response<http::string_body> response) {
  r.status = response.result_int();
  (void)co_await r.ex.send(std::move(response));
}

asio::awaitable<void> send_error(Request& r, S3Error error) {
  const S3ErrorInfo& info = s3::info(error.code);
  auto res = make_response(r, info.status);
  r.error_code = std::string(info.code);
  if (r.ex.request().method() != http::verb::head) {
    res.set(http::field::content_type, "application/xml");
    res.body() = error_xml(info.code, error.text(), r.key, r.bucket, r.resource(), r.id);
  }
  if (!r.ex.body_done()) {
    // The client may still be sending a body we will not read.
    res.set(http::field::connection, "close");
    r.ex.close_after();
  }
  co_await send(r, std::move(res));
}

asio::awaitable<void> send_empty(Request& r, http::status status) {
  co_await send(r, make_response(r, status));
}

asio::awaitable<void> send_xml(Request& r, std::string xml) {
  auto res = make_response(r, http::status::ok);
  res.set(http::field::content_type, "application/xml");
  res.body() = std::move(xml);
  co_await send(r, std::move(res));
}

bool is_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

S3Result<std::optional<std::string>> content_md5(const Request& r) {
  const auto header = r.header("content-md5");
  if (!header) {
    return std::optional<std::string>();
  }
  auto decoded = base64_decode(*header);
  if (!decoded || decoded->size() != 16) {
    return S3Error(S3Code::kInvalidDigest);
  }
  return std::optional<std::string>(std::move(*decoded));
}

asio::awaitable<S3Result<std::string>> read_small_body(Request& r, size_t limit) {
  if (const auto len = r.ex.content_length(); len && *len > limit) {
    co_return S3Error(S3Code::kInvalidRequest, "The request body is too large.");
  }
  auto md5_expected = content_md5(r);
  if (!md5_expected) {
    co_return md5_expected.error();
  }
  std::string body;
  for (;;) {
    auto n = co_await r.ex.read_body(&body, 64 * 1024);
    if (!n) {
      co_return S3Error(from_error(n.error()));
    }
    if (*n == 0) {
      break;
    }
    if (body.size() > limit) {
      co_return S3Error(S3Code::kInvalidRequest, "The request body is too large.");
    }
  }
  if (*md5_expected && md5(body) != **md5_expected) {
    co_return S3Error(S3Code::kBadDigest);
  }
  const std::string& declared = r.auth.payload_hash;
  if (declared.size() == 64 && to_hex(sha256(body)) != declared) {
    co_return S3Error(S3Code::kXAmzContentSHA256Mismatch);
  }
  co_return body;
}

}  // namespace internal

using internal::Op;
using internal::Request;

namespace {

// Quotes a value for the access log so keys with spaces or newlines keep the line parseable.
std::string log_quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out.append(buf);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

S3Service::S3Service(S3Options options, actors::Hub& hub, actors::Spoke& spoke,
                     const CredentialStore& credentials, const Clock& clock)
    : options_(std::move(options)),
      hub_(hub),
      spoke_(spoke),
      credentials_(credentials),
      clock_(clock),
      events_clock_(options_.events_clock != nullptr ? *options_.events_clock : clock),
      rate_limiter_(clock),
      bytes_in_(&metrics().counter("vaultaire_s3_bytes_received_total",
                                   "Request body bytes received by the S3 listener")),
      bytes_out_(&metrics().counter("vaultaire_s3_bytes_sent_total",
                                    "Response body bytes sent by the S3 listener")),
      access_log_(logger("access")) {}

S3Service::~S3Service() = default;

std::string S3Service::host_bucket(const Request& r) const {
  if (options_.domain.empty()) {
    return {};
  }
  std::string host(r.header("host").value_or(""));
  if (const size_t colon = host.rfind(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  for (char& c : host) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const std::string suffix = "." + options_.domain;
  if (host.size() <= suffix.size() ||
      host.compare(host.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return {};
  }
  return host.substr(0, host.size() - suffix.size());
}

http::response<http::string_body> malformed_request_response(const boost::system::error_code& ec) {
  const bool too_large = ec == http::error::body_limit;
  const S3ErrorInfo& info = s3::info(too_large ? S3Code::kEntityTooLarge : S3Code::kBadRequest);
  const std::string id = new_request_id();
  http::response<http::string_body> res{info.status, 11};
  internal::set_id_headers(id, res);
  res.set(http::field::content_type, "application/xml");
  res.body() = internal::error_xml(
      info.code,
      too_large ? std::string(info.message)
                : "The request could not be read as HTTP/1.1 (" + ec.message() + ").",
      "", "", "", id);
  return res;
}

std::optional<RequestFacts> request_facts(const HttpExchange& exchange) {
  const auto& req = exchange.request();
  const std::string_view target(req.target().data(), req.target().size());
  const Target parts = split_target(target);
  RequestFacts facts;
  facts.method = std::string(req.method_string());
  facts.raw_path = std::string(parts.path);
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    facts.headers.push_back({std::move(name), std::string(field.value())});
  }
  auto decoded = uri_decode(parts.path, false);
  auto query = parse_query(parts.query);
  if (!decoded || !query) {
    return std::nullopt;
  }
  facts.decoded_path = std::move(*decoded);
  facts.query = std::move(*query);
  return facts;
}

asio::awaitable<void> S3Service::handle(HttpExchange& exchange) {
  Request r(exchange, new_request_id());
  auto facts = request_facts(exchange);
  if (!facts || facts->decoded_path.empty() || facts->decoded_path.front() != '/') {
    co_await internal::send_error(r, S3Code::kInvalidURI);
    finish(r);
    co_return;
  }
  r.facts = std::move(*facts);

  const std::string_view path = std::string_view(r.facts.decoded_path).substr(1);
  if (std::string bucket = host_bucket(r); !bucket.empty()) {
    // Virtual-hosted style: the bucket is in the Host header, the whole path is the key.
    r.bucket = bucket;
    r.key = std::string(path);
    r.facts.host_bucket = std::move(bucket);
  } else {
    // Path-style addressing: /bucket/key
    const size_t slash = path.find('/');
    r.bucket = std::string(path.substr(0, slash));
    if (slash != std::string_view::npos) {
      r.key = std::string(path.substr(slash + 1));
    }
  }
  // "tenant:bucket" names a bucket of another tenant's namespace (for anonymous reads of
  // public buckets); ':' is never part of a bucket name.
  if (const size_t colon = r.bucket.find(':'); colon != std::string::npos) {
    r.bucket_tenant = r.bucket.substr(0, colon);
    r.bucket = r.bucket.substr(colon + 1);
  }

  // An operation that throws is a bug; the client still gets an answer (InternalError, or the
  // connection closed if the response had begun) and the server keeps going.
  auto operation = dispatch(r);
  const std::optional<std::string> failure = co_await exception_of(std::move(operation));
  if (failure) {
    logger("s3")->error("operation threw req={} op={} bucket={} error={}", r.id,
                        internal::op_name(r.op), r.bucket, *failure);
    if (r.status == 0) {
      co_await internal::send_error(r, S3Code::kInternalError);
    }
    r.ex.close_after();
  }
  finish(r);
}

asio::awaitable<void> S3Service::dispatch(Request& r) {
  r.op = internal::route(r);
  const int64_t now = clock_.now_unix_nanos() / kNanosPerSecond;
  auto auth = authenticate(r.facts, credentials_, options_.auth, now);
  if (!auth) {
    co_await internal::send_error(r, auth.error());
    co_return;
  }
  r.auth = std::move(*auth);
  const Identity& identity = r.auth.identity;
  // Whose bucket namespace: the key's tenant; for anonymous requests the tenant the bucket name
  // carries ("acme:photos"), else the default one. A key never reaches another tenant's.
  if (identity.anonymous) {
    r.tenant = r.bucket_tenant.empty() ? "default" : r.bucket_tenant;
  } else {
    r.tenant = identity.tenant;
    if (!r.bucket_tenant.empty() && r.bucket_tenant != identity.tenant) {
      co_await deny(r, "the bucket belongs to another tenant");
      co_return;
    }
    const auto decision =
        rate_limiter_.take(identity.principal, identity.requests_per_second, identity.burst);
    if (!decision.allowed) {
      r.extra_headers.emplace_back("Retry-After", std::to_string(decision.retry_after_seconds));
      co_await internal::send_error(r, S3Code::kSlowDown);
      co_return;
    }
  }
  if (auto refused = co_await authorize(r)) {
    if (refused->code == S3Code::kAccessDenied) {
      co_await deny(r, std::string(refused->text()));
    } else {
      co_await internal::send_error(r, std::move(*refused));
    }
    co_return;
  }
  switch (r.op) {
    case Op::kUnknown:
      co_await internal::send_error(r, S3Code::kMethodNotAllowed);
      break;
    case Op::kNotImplemented:
      co_await internal::send_error(r, S3Code::kNotImplemented);
      break;
    case Op::kListBuckets:
      co_await list_buckets(r);
      break;
    case Op::kCreateBucket:
      co_await create_bucket(r);
      break;
    case Op::kHeadBucket:
      co_await head_bucket(r);
      break;
    case Op::kDeleteBucket:
      co_await delete_bucket(r);
      break;
    case Op::kListObjects:
      co_await list_objects(r, false);
      break;
    case Op::kListObjectsV2:
      co_await list_objects(r, true);
      break;
    case Op::kGetBucketLocation:
      co_await get_bucket_location(r);
      break;
    case Op::kGetBucketVersioning:
      co_await get_bucket_versioning(r);
      break;
    case Op::kListMultipartUploads:
      co_await list_multipart_uploads(r);
      break;
    case Op::kDeleteObjects:
      co_await delete_objects(r);
      break;
    case Op::kPutObject:
      co_await put_object(r);
      break;
    case Op::kCopyObject:
      co_await copy_object(r);
      break;
    case Op::kGetObject:
      co_await get_object(r, false);
      break;
    case Op::kHeadObject:
      co_await get_object(r, true);
      break;
    case Op::kDeleteObject:
      co_await delete_object(r);
      break;
    case Op::kGetObjectTagging:
      co_await get_object_tagging(r);
      break;
    case Op::kPutObjectTagging:
      co_await put_object_tagging(r);
      break;
    case Op::kDeleteObjectTagging:
      co_await delete_object_tagging(r);
      break;
    case Op::kCreateMultipartUpload:
      co_await create_multipart_upload(r);
      break;
    case Op::kUploadPart:
      co_await upload_part(r, false);
      break;
    case Op::kUploadPartCopy:
      co_await upload_part(r, true);
      break;
    case Op::kCompleteMultipartUpload:
      co_await complete_multipart_upload(r);
      break;
    case Op::kAbortMultipartUpload:
      co_await abort_multipart_upload(r);
      break;
    case Op::kListParts:
      co_await list_parts(r);
      break;
    case Op::kGetBucketAcl:
      co_await get_bucket_acl(r);
      break;
    case Op::kPutBucketAcl:
      co_await put_bucket_acl(r);
      break;
    case Op::kRestoreObject:
      co_await restore_object(r);
      break;
  }
}

asio::awaitable<std::optional<S3Error>> S3Service::authorize(Request& r) {
  const Identity& id = r.auth.identity;
  const internal::Access need = internal::access_needed(r.op);
  if (id.anonymous) {
    // Anonymous requests read public-read buckets, nothing else.
    const bool reading = r.op == Op::kGetObject || r.op == Op::kHeadObject ||
                         r.op == Op::kListObjects || r.op == Op::kListObjectsV2 ||
                         r.op == Op::kHeadBucket;
    if (!reading) {
      co_return S3Error(S3Code::kAccessDenied,
                        "Anonymous access is only for reading public-read buckets.");
    }
    proto::Query q;
    q.set_container(r.bucket);
    q.mutable_get_container();
    auto container = co_await query(r, std::move(q));
    if (!container || container->container().acl() != "public-read") {
      co_return S3Error(S3Code::kAccessDenied, "The bucket is not public.");
    }
    co_return std::nullopt;
  }
  if (id.role != "member" || need == internal::Access::kNone) {
    co_return std::nullopt;  // root and tenant admins use every bucket of their tenant
  }
  if (need == internal::Access::kAdmin) {
    co_return S3Error(S3Code::kAccessDenied, "Only a tenant admin may do this.");
  }
  if (auto granted = co_await has_grant(r, r.bucket, need); !granted) {
    co_return S3Error(S3Code::kAccessDenied, "No grant on this bucket.");
  }
  co_return std::nullopt;
}

asio::awaitable<bool> S3Service::has_grant(Request& r, std::string bucket, internal::Access need) {
  const Identity& id = r.auth.identity;
  if (id.role != "member") {
    co_return true;
  }
  proto::Query q;
  q.set_container(std::move(bucket));
  q.mutable_get_grant()->set_user(id.user);
  auto grant = co_await query(r, std::move(q));
  if (!grant) {
    co_return false;
  }
  co_return need == internal::Access::kRead ? grant->grant().read() : grant->grant().write();
}

asio::awaitable<S3Error> S3Service::command_error(Request& r, boost::system::error_code ec,
                                                  int64_t bytes, int64_t objects, int64_t buckets) {
  if (!is(ec, Errc::kQuotaExceeded)) {
    co_return S3Error(from_error(ec));
  }
  proto::Query q;
  q.mutable_get_tenant();
  auto tenant = co_await query(r, std::move(q));
  if (!tenant) {
    co_return S3Error(S3Code::kQuotaExceeded);
  }
  const proto::TenantRecord& t = tenant->tenant();
  const proto::Quotas& quotas = t.quotas();
  auto over = [](uint64_t now, int64_t delta, uint64_t max) {
    return max > 0 && delta > 0 && now + static_cast<uint64_t>(delta) > max;
  };
  std::string which;
  if (over(t.buckets(), buckets, quotas.max_buckets())) {
    which = "max_buckets=" + std::to_string(quotas.max_buckets()) + " (the tenant has " +
            std::to_string(t.buckets()) + " buckets)";
  } else if (over(t.objects(), objects, quotas.max_objects())) {
    which = "max_objects=" + std::to_string(quotas.max_objects()) + " (the tenant stores " +
            std::to_string(t.objects()) + " objects)";
  } else {
    which = "max_bytes=" + std::to_string(quotas.max_bytes()) + " (the tenant stores " +
            std::to_string(t.bytes()) + " bytes)";
  }
  co_return S3Error(S3Code::kQuotaExceeded,
                    "The request would exceed the tenant's quota " + which + ".");
}

asio::awaitable<std::optional<S3Error>> S3Service::precheck_bytes(Request& r, uint64_t bytes) {
  proto::Query q;
  q.mutable_get_tenant();
  auto tenant = co_await query(r, std::move(q));
  if (!tenant) {
    co_return std::nullopt;  // no record yet: nothing stored, no quota set
  }
  const proto::TenantRecord& t = tenant->tenant();
  const uint64_t max_bytes = t.quotas().max_bytes();
  if (max_bytes == 0 || t.bytes() + bytes <= max_bytes) {
    co_return std::nullopt;
  }
  // An overwrite frees what it replaces: the projection charges the difference, and so does this
  // early refusal (looked up only when the plain sum would not fit).
  uint64_t replaced = 0;
  if (!r.key.empty()) {
    proto::Query q2;
    q2.set_container(r.bucket);
    q2.set_path(r.key);
    q2.mutable_get_artifact();
    if (auto current = co_await query(r, std::move(q2))) {
      replaced = current->artifact().size();
    }
  }
  // As the projection does: only growth is refused; shrinking is always allowed.
  if (bytes > replaced && t.bytes() + (bytes - replaced) > max_bytes) {
    co_return co_await command_error(r, Errc::kQuotaExceeded, static_cast<int64_t>(bytes), 0, 0);
  }
  co_return std::nullopt;
}

asio::awaitable<void> S3Service::record_listing(Request& r, std::string prefix, size_t entries) {
  proto::Command c;
  c.set_container(r.bucket);
  proto::ContainerListed& l = *c.mutable_record_listing()->mutable_listing();
  l.set_operation(std::string(internal::op_name(r.op)));
  l.set_prefix(std::move(prefix));
  l.set_entries(static_cast<uint32_t>(std::min<size_t>(entries, UINT32_MAX)));
  if (auto recorded = co_await execute(r, std::move(c)); !recorded) {
    logger("s3")->warn("listing event not recorded req={} error={}", r.id,
                       recorded.error().message());
  }
}

asio::awaitable<std::optional<S3Error>> S3Service::bucket_missing(Request& r) {
  proto::Query q;
  q.set_container(r.bucket);
  q.mutable_get_container();
  auto exists = co_await query(r, std::move(q));
  if (!exists) {
    co_return from_error(exists.error());
  }
  co_return std::nullopt;
}

asio::awaitable<void> S3Service::deny(Request& r, std::string reason) {
  co_await record_denial(r, r.bucket, r.key, reason);
  co_await internal::send_error(r, S3Error(S3Code::kAccessDenied, std::move(reason)));
}

asio::awaitable<void> S3Service::record_denial(Request& r, const std::string& container,
                                               const std::string& path, const std::string& reason) {
  // Denials are events too, so audit sees who tried what.
  proto::Command c;
  c.set_container(container);
  c.set_path(path);
  proto::AccessDenied& d = *c.mutable_record_denial()->mutable_denial();
  d.set_action(std::string(internal::op_name(r.op)));
  d.set_resource(path.empty() ? "/" + container : "/" + container + "/" + path);
  d.set_reason(reason);
  if (r.tenant.empty()) {
    r.tenant = r.auth.identity.tenant;
  }
  (void)co_await execute(r, std::move(c));
}

asio::awaitable<Result<proto::QueryReply>> S3Service::query(Request& r, proto::Query q) {
  *q.mutable_context() = r.context(spoke_.id());
  co_return co_await hub_.query(std::move(q));
}

asio::awaitable<Result<proto::CommandReply>> S3Service::execute(Request& r, proto::Command c) {
  *c.mutable_context() = r.context(spoke_.id());
  co_return co_await hub_.execute(std::move(c));
}

Counter& S3Service::request_counter(internal::Op op, unsigned status) {
  // Few (operation, status) pairs exist; look each up in the registry once per thread.
  thread_local std::unordered_map<uint64_t, Counter*> cache;
  const uint64_t key = (static_cast<uint64_t>(op) << 16) | status;
  if (auto it = cache.find(key); it != cache.end()) {
    return *it->second;
  }
  const std::string labels =
      "op=\"" + std::string(internal::op_name(op)) + "\",status=\"" + std::to_string(status) + "\"";
  Counter& c = metrics().counter("vaultaire_s3_requests_total",
                                 "S3 requests by operation and status", labels);
  cache.emplace(key, &c);
  return c;
}

void S3Service::finish(Request& r) {
  const auto elapsed = std::chrono::steady_clock::now() - r.start;
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  bytes_in_->inc(r.ex.body_bytes_read());
  bytes_out_->inc(r.ex.bytes_sent());
  request_counter(r.op, r.status).inc();
  if (options_.access_log) {
    access_log_->info(
        "request req={} op={} status={} error={} bucket={} key={} in={} out={} ms={:.3f} "
        "remote={} principal={} ua={}",
        r.id, internal::op_name(r.op), r.status, r.error_code.empty() ? "-" : r.error_code,
        log_quote(r.bucket), log_quote(r.key), r.ex.body_bytes_read(), r.ex.bytes_sent(), ms,
        r.ex.remote(), r.auth.identity.principal.empty() ? "-" : r.auth.identity.principal,
        log_quote(r.header("user-agent").value_or("")));
  }
}

}  // namespace vaultaire::s3
