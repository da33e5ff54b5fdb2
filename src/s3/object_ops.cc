// Object operations: PutObject, GetObject, HeadObject, DeleteObject.
//
// Bytes stream in chunks of options_.chunk_size between the connection and the driver; the
// hub sees metadata only. A PUT writes a new blob, commits it with one event, and releases the
// blob it replaced; a failed or refused PUT leaves the previous version untouched.

#include <charconv>
#include <optional>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "common/crypto.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "s3/internal/request.h"
#include "s3/s3_service.h"

namespace vaultaire::s3 {

using internal::Request;

namespace {

using boost::asio::experimental::awaitable_operators::operator&&;

constexpr size_t kMaxKeyBytes = 1024;
constexpr size_t kMaxUserMetadataBytes = 2048;
constexpr std::string_view kMetaPrefix = "x-amz-meta-";

// The outcome of a Range header against an object of `size` bytes.
struct RangeRequest {
  bool unsatisfiable = false;
  std::optional<drivers::ByteRange> range;  // none: the whole object
};

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

// bytes=a-b, bytes=a-, bytes=-n. Anything else (several ranges, other units, bad syntax) is
// ignored, as HTTP says, and the whole object is served.
RangeRequest parse_range(std::optional<std::string_view> header, uint64_t size) {
  RangeRequest out;
  if (!header || header->substr(0, 6) != "bytes=") {
    return out;
  }
  const std::string_view spec = header->substr(6);
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) {
    return out;
  }
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  if (first_text.empty()) {
    const auto suffix = parse_u64(last_text);
    if (!suffix) {
      return out;
    }
    if (*suffix == 0 || size == 0) {
      out.unsatisfiable = true;
      return out;
    }
    const uint64_t n = std::min(*suffix, size);
    out.range = drivers::ByteRange{size - n, size - 1};
    return out;
  }
  const auto first = parse_u64(first_text);
  if (!first) {
    return out;
  }
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    const auto parsed = parse_u64(last_text);
    if (!parsed || *parsed < *first) {
      return out;
    }
    last = std::min(*parsed, last);
  }
  if (*first >= size) {
    out.unsatisfiable = true;
    return out;
  }
  out.range = drivers::ByteRange{*first, last};
  return out;
}

template <typename Response>
void set_object_headers(Response& res, const proto::ArtifactRecord& a) {
  res.set(http::field::etag, "\"" + a.etag() + "\"");
  res.set(http::field::last_modified, format_http_date(a.modified_unix_nanos()));
  res.set(http::field::content_type,
          a.content_type().empty() ? "binary/octet-stream" : a.content_type());
  res.set(http::field::accept_ranges, "bytes");
  auto set_if = [&](http::field f, const std::string& v) {
    if (!v.empty()) {
      res.set(f, v);
    }
  };
  set_if(http::field::content_encoding, a.content_encoding());
  set_if(http::field::cache_control, a.cache_control());
  set_if(http::field::content_disposition, a.content_disposition());
  set_if(http::field::content_language, a.content_language());
  set_if(http::field::expires, a.expires());
  for (const auto& m : a.user_metadata()) {
    res.set(std::string(kMetaPrefix) + m.key(), m.value());
  }
}

}  // namespace

asio::awaitable<void> S3Service::put_object(Request& r) {
  if (r.key.size() > kMaxKeyBytes) {
    co_await internal::send_error(r, S3Code::kKeyTooLongError);
    co_return;
  }
  const std::string& payload = r.auth.payload_hash;
  if (payload.substr(0, 10) == "STREAMING-") {
    co_await internal::send_error(
        r, S3Error(S3Code::kNotImplemented, "aws-chunked uploads are not supported yet."));
    co_return;
  }
  const auto length = r.ex.content_length();
  if (!length && !r.ex.chunked()) {
    co_await internal::send_error(r, S3Code::kMissingContentLength);
    co_return;
  }
  if (length && *length > options_.max_object_size) {
    co_await internal::send_error(r, S3Code::kEntityTooLarge);
    co_return;
  }
  auto md5_expected = internal::content_md5(r);
  if (!md5_expected) {
    co_await internal::send_error(r, md5_expected.error());
    co_return;
  }

  // What the event will carry besides the blob: content headers and user metadata.
  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  proto::ArtifactCommitted& a = *c.mutable_commit_artifact()->mutable_artifact();
  a.set_content_type(std::string(r.header("content-type").value_or("binary/octet-stream")));
  a.set_content_encoding(std::string(r.header("content-encoding").value_or("")));
  a.set_cache_control(std::string(r.header("cache-control").value_or("")));
  a.set_content_disposition(std::string(r.header("content-disposition").value_or("")));
  a.set_content_language(std::string(r.header("content-language").value_or("")));
  a.set_expires(std::string(r.header("expires").value_or("")));
  std::vector<std::pair<std::string, std::string>> meta;
  size_t meta_bytes = 0;
  for (const auto& h : r.facts.headers) {
    if (h.name.size() > kMetaPrefix.size() && h.name.substr(0, kMetaPrefix.size()) == kMetaPrefix) {
      meta.emplace_back(h.name.substr(kMetaPrefix.size()), h.value);
      meta_bytes += meta.back().first.size() + h.value.size();
    }
  }
  if (meta_bytes > kMaxUserMetadataBytes) {
    co_await internal::send_error(r, S3Code::kMetadataTooLarge);
    co_return;
  }
  std::sort(meta.begin(), meta.end());
  for (auto& [k, v] : meta) {
    auto* e = a.add_user_metadata();
    e->set_key(std::move(k));
    e->set_value(std::move(v));
  }

  // Refuse early, before the client sends a byte, when the bucket does not exist.
  {
    proto::Query q;
    q.set_container(r.bucket);
    q.mutable_get_container();
    auto exists = co_await query(r, std::move(q));
    if (!exists) {
      co_await internal::send_error(r, from_error(exists.error()));
      co_return;
    }
  }

  drivers::Driver& driver = spoke_.default_driver();
  auto created = co_await driver.create();
  if (!created) {
    co_await internal::send_error(r, from_error(created.error()));
    co_return;
  }
  std::unique_ptr<drivers::BlobWriter> writer = std::move(*created);

  Digest md5_digest(DigestAlgorithm::kMd5);
  const bool check_sha = payload.size() == 64;
  std::optional<Digest> sha_digest;
  if (check_sha) {
    sha_digest.emplace(DigestAlgorithm::kSha256);
  }
  // The body streams through in chunks: while one chunk is written to the driver, the next is
  // received and hashed.
  uint64_t received = 0;
  std::optional<S3Error> failure;
  std::string chunk;
  if (auto n = co_await r.ex.read_body(&chunk, options_.chunk_size); !n) {
    failure = S3Error(from_error(n.error()));
  }
  while (!failure && !chunk.empty()) {
    received += chunk.size();
    if (received > options_.max_object_size) {
      failure = S3Error(S3Code::kEntityTooLarge);
      break;
    }
    md5_digest.update(chunk.data(), chunk.size());
    if (sha_digest) {
      sha_digest->update(chunk.data(), chunk.size());
    }
    std::string next;
    auto [written, read] =
        co_await (writer->write(std::move(chunk)) && r.ex.read_body(&next, options_.chunk_size));
    if (!written) {
      failure = S3Error(from_error(written.error()));
    } else if (!read) {
      failure = S3Error(from_error(read.error()));
    }
    chunk = std::move(next);
  }
  const std::string md5_raw = md5_digest.finish();
  if (!failure && length && received != *length) {
    failure = S3Error(S3Code::kIncompleteBody);
  }
  if (!failure && *md5_expected && md5_raw != **md5_expected) {
    failure = S3Error(S3Code::kBadDigest);
  }
  if (!failure && sha_digest && to_hex(sha_digest->finish()) != payload) {
    failure = S3Error(S3Code::kXAmzContentSHA256Mismatch);
  }
  if (failure) {
    co_await writer->abort();
    co_await internal::send_error(r, std::move(*failure));
    co_return;
  }
  auto blob = co_await writer->commit();
  if (!blob) {
    co_await internal::send_error(r, from_error(blob.error()));
    co_return;
  }

  a.set_size(received);
  a.set_etag(to_hex(md5_raw));
  a.set_blob_id(blob->id);
  a.set_driver(driver.name());
  a.set_tier(spoke_.default_tier());
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    // Not committed: the new blob is garbage now.
    proto::BlobRef orphan;
    orphan.set_driver(driver.name());
    orphan.set_blob_id(blob->id);
    spoke_.release({orphan});
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  spoke_.release({reply->released().begin(), reply->released().end()});

  auto res = internal::make_response(r, http::status::ok);
  res.set(http::field::etag, "\"" + to_hex(md5_raw) + "\"");
  co_await internal::send(r, std::move(res));
}

asio::awaitable<void> S3Service::get_object(Request& r, bool head) {
  proto::Query q;
  q.set_container(r.bucket);
  q.set_path(r.key);
  q.mutable_get_artifact();
  auto found = co_await query(r, std::move(q));
  if (!found) {
    co_await internal::send_error(r, from_error(found.error()));
    co_return;
  }
  const proto::ArtifactRecord& artifact = found->artifact();
  const uint64_t size = artifact.size();
  const RangeRequest range = parse_range(r.header("range"), size);
  if (range.unsatisfiable) {
    co_await internal::send_error(r, S3Code::kInvalidRange);
    co_return;
  }
  const uint64_t length = range.range ? range.range->length() : size;
  const http::status status = range.range ? http::status::partial_content : http::status::ok;

  if (head) {
    auto res = internal::make_response(r, status);
    set_object_headers(res, artifact);
    if (range.range) {
      res.set(http::field::content_range, "bytes " + std::to_string(range.range->first) + "-" +
                                              std::to_string(range.range->last) + "/" +
                                              std::to_string(size));
    }
    res.content_length(length);
    r.status = res.result_int();
    // prepare_payload() would reset Content-Length to the (empty) body of a HEAD reply.
    (void)co_await r.ex.send_head(std::move(res));
    co_return;
  }

  drivers::Driver* driver = spoke_.driver(artifact.driver());
  if (driver == nullptr) {
    logger("s3")->error("artifact on unknown driver req={} driver={}", r.id, artifact.driver());
    co_await internal::send_error(r, S3Code::kInternalError);
    co_return;
  }
  std::optional<drivers::ByteRange> blob_range = range.range;
  if (size == 0) {
    blob_range.reset();
  }
  auto opened = co_await driver->open(artifact.blob_id(), blob_range);
  if (!opened) {
    logger("s3")->error("blob unreadable req={} driver={} blob={} error={}", r.id,
                        artifact.driver(), artifact.blob_id(), opened.error().message());
    co_await internal::send_error(r, S3Code::kInternalError);
    co_return;
  }
  std::unique_ptr<drivers::BlobReader> reader = std::move(*opened);

  // The first chunk is read before anything is sent, so a failing blob still gets a proper
  // error, and a small object goes out in one write together with the header.
  auto first = co_await reader->read(options_.chunk_size);
  if (!first) {
    logger("s3")->error("blob read failed req={} blob={} error={}", r.id, artifact.blob_id(),
                        first.error().message());
    co_await internal::send_error(r, S3Code::kInternalError);
    co_return;
  }
  auto res = internal::make_streamed_response(r, status);
  set_object_headers(res, artifact);
  if (range.range) {
    res.set(http::field::content_range, "bytes " + std::to_string(range.range->first) + "-" +
                                            std::to_string(range.range->last) + "/" +
                                            std::to_string(size));
  }
  res.content_length(length);
  r.status = res.result_int();
  uint64_t sent = first->size();
  bool last = first->empty() || sent >= length;
  bool ok = static_cast<bool>(co_await r.ex.send_header(std::move(res), std::move(*first), last));
  while (ok && !last) {
    auto chunk = co_await reader->read(options_.chunk_size);
    if (!chunk) {
      logger("s3")->error("blob read failed mid-response req={} blob={} error={}", r.id,
                          artifact.blob_id(), chunk.error().message());
      r.ex.close_after();
      break;
    }
    sent += chunk->size();
    last = chunk->empty() || sent >= length;
    ok = static_cast<bool>(co_await r.ex.send_body(std::move(*chunk), last));
  }

  proto::Command read;
  read.set_container(r.bucket);
  read.set_path(r.key);
  proto::ArtifactRead& event = *read.mutable_record_read()->mutable_read();
  event.set_bytes_sent(sent);
  event.set_size(size);
  event.set_tier(artifact.tier());
  if (range.range) {
    event.set_ranged(true);
    event.set_range_first(range.range->first);
    event.set_range_last(range.range->last);
  }
  if (auto recorded = co_await execute(r, std::move(read)); !recorded) {
    logger("s3")->warn("read event not recorded req={} error={}", r.id, recorded.error().message());
  }
}

asio::awaitable<void> S3Service::delete_object(Request& r) {
  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  c.mutable_delete_artifact();
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  spoke_.release({reply->released().begin(), reply->released().end()});
  co_await internal::send(r, internal::make_response(r, http::status::no_content));
}

}  // namespace vaultaire::s3
