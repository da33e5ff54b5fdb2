// Object operations: PutObject, CopyObject, GetObject, HeadObject, DeleteObject,
// DeleteObjects and object tagging.
//
// Bytes stream in chunks of options_.chunk_size between the connection and the driver; the
// hub sees metadata only. A PUT writes a new blob, commits it with one event, and releases the
// blob it replaced; a failed or refused PUT leaves the previous version untouched. A copy within
// Vaultaire shares the source's blobs (reference-counted in the views) instead of copying bytes.

#include <charconv>
#include <optional>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <pugixml.hpp>

#include "common/crypto.h"
#include "common/gather.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "s3/chunked.h"
#include "s3/internal/object_helpers.h"
#include "s3/internal/request.h"
#include "s3/s3_service.h"
#include "s3/xml.h"

namespace vaultaire::s3 {

using internal::Request;

namespace {

using boost::asio::experimental::awaitable_operators::operator&&;

constexpr size_t kMaxDeleteKeys = 1000;

// The response-* parameters of GetObject and HeadObject, and the header each one sets.
constexpr std::pair<std::string_view, http::field> kOverrides[] = {
    {"response-content-type", http::field::content_type},
    {"response-content-language", http::field::content_language},
    {"response-expires", http::field::expires},
    {"response-cache-control", http::field::cache_control},
    {"response-content-disposition", http::field::content_disposition},
    {"response-content-encoding", http::field::content_encoding}};

// InvalidArgument when a response-* parameter holds a control character (CR or LF would end
// the header line and inject others into the response).
std::optional<S3Error> invalid_override(const Request& r) {
  for (const auto& [name, field] : kOverrides) {
    const QueryParam* p = r.param(name);
    if (p != nullptr && !internal::is_header_value(p->value)) {
      return S3Error(S3Code::kInvalidArgument,
                     "The value of " + std::string(name) + " holds a control character.");
    }
  }
  return std::nullopt;
}

template <typename Response>
void set_object_headers(Response& res, const proto::ArtifactRecord& a, const Request& r,
                        std::string_view storage_class) {
  res.set(http::field::etag, "\"" + a.etag() + "\"");
  if (storage_class != "STANDARD") {
    res.set("x-amz-storage-class", storage_class);  // S3 leaves STANDARD implicit
  }
  if (a.has_restore()) {
    res.set("x-amz-restore", a.restore().ongoing()
                                 ? std::string("ongoing-request=\"true\"")
                                 : "ongoing-request=\"false\", expiry-date=\"" +
                                       format_http_date(a.restore().expires_unix_nanos()) + "\"");
  }
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
    res.set(std::string(internal::kMetaPrefix) + m.key(), m.value());
  }
  if (a.tags_size() > 0) {
    res.set("x-amz-tagging-count", std::to_string(a.tags_size()));
  }
  if (a.segments_size() > 0) {
    res.set("x-amz-mp-parts-count", std::to_string(a.segments_size()));
  }
  // Checksums describe the whole object: only a whole-object read returns them.
  if (r.header("x-amz-checksum-mode") == std::optional<std::string_view>("ENABLED") &&
      !r.header("range") && !r.has_param("partNumber")) {
    internal::set_checksum_headers(res, a.checksums());
  }
  // response-* parameters override what a GET answers (signed requests only; they are).
  // get_object() has refused values that are no header value.
  for (const auto& [name, field] : kOverrides) {
    if (const QueryParam* p = r.param(name)) {
      res.set(field, p->value);
    }
  }
}

std::string content_range(const drivers::ByteRange& range, uint64_t size) {
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
         std::to_string(size);
}

}  // namespace

asio::awaitable<S3Result<S3Service::ReceivedBlob>> S3Service::receive_blob(
    Request& r, drivers::Driver& driver, std::optional<ChecksumAlgorithm> also_compute) {
  const std::string& payload = r.auth.payload_hash;
  const auto length = r.ex.content_length();
  if (!length && !r.ex.chunked()) {
    co_return S3Error(S3Code::kMissingContentLength);
  }
  // aws-chunked: the body frames the payload in chunks (signed or not), maybe with trailers.
  std::optional<ChunkedDecoder> decoder;
  uint64_t declared = 0;  // the payload's size when it travels aws-chunked
  if (payload.substr(0, 10) == "STREAMING-") {
    const bool signed_chunks =
        payload == kStreamingSignedPayload || payload == kStreamingSignedPayloadTrailer;
    const bool trailer =
        payload == kStreamingSignedPayloadTrailer || payload == kStreamingUnsignedPayloadTrailer;
    if (!signed_chunks && !trailer) {
      co_return S3Error(S3Code::kNotImplemented, "Unsupported payload signing: " + payload);
    }
    const auto decoded_length = r.header("x-amz-decoded-content-length");
    const auto parsed = decoded_length ? internal::parse_size(*decoded_length) : std::nullopt;
    if (!parsed) {
      co_return S3Error(S3Code::kMissingContentLength,
                        "You must provide the x-amz-decoded-content-length header.");
    }
    declared = *parsed;
    std::optional<ChunkSigning> signing;
    if (signed_chunks) {
      signing = ChunkSigning{r.auth.signing_key, r.auth.scope, r.auth.amz_date, r.auth.signature};
    }
    decoder.emplace(std::move(signing), trailer);
  }
  const uint64_t payload_size = decoder ? declared : length.value_or(0);
  if ((decoder || length) && payload_size > options_.max_object_size) {
    co_return S3Error(S3Code::kEntityTooLarge);
  }
  auto md5_expected = internal::content_md5(r);
  if (!md5_expected) {
    co_return md5_expected.error();
  }
  auto wanted = internal::checksum_request(r);
  if (!wanted) {
    co_return wanted.error();
  }
  if (!*wanted && also_compute) {
    *wanted = internal::ChecksumRequest{*also_compute, std::nullopt, false};
  }
  if (*wanted && (*wanted)->in_trailer && !decoder) {
    co_return S3Error(S3Code::kInvalidRequest,
                      "x-amz-trailer needs an aws-chunked body with trailers.");
  }
  std::optional<Checksum> checksum;
  if (*wanted) {
    checksum.emplace((*wanted)->algorithm);
  }

  auto created = co_await driver.create();
  if (!created) {
    co_return S3Error(from_error(created.error()));
  }
  std::unique_ptr<drivers::BlobWriter> writer = std::move(*created);

  Digest md5_digest(DigestAlgorithm::kMd5);
  std::optional<Digest> sha_digest;
  if (payload.size() == 64) {
    sha_digest.emplace(DigestAlgorithm::kSha256);
  }
  // The body streams through in chunks: while one chunk is written to the driver, the next is
  // received, decoded and hashed.
  uint64_t received = 0;
  std::optional<S3Error> failure;
  std::string chunk;
  auto next_payload = [&](std::string raw) -> std::string {
    if (!decoder || failure) {
      return raw;
    }
    std::string decoded;
    if (auto fed = decoder->feed(raw, &decoded); !fed) {
      failure = fed.error();
      return {};
    }
    if (decoder->decoded_bytes() > declared) {
      failure = S3Error(S3Code::kIncompleteBody);
    }
    return decoded;
  };
  bool more = true;
  auto first = co_await r.ex.read_body(&chunk, options_.chunk_size);
  if (!first) {
    failure = S3Error(from_error(first.error()));
  }
  more = first && *first > 0;
  chunk = next_payload(std::move(chunk));
  while (!failure && (more || !chunk.empty())) {
    received += chunk.size();
    if (received > options_.max_object_size) {
      failure = S3Error(S3Code::kEntityTooLarge);
      break;
    }
    md5_digest.update(chunk.data(), chunk.size());
    if (sha_digest) {
      sha_digest->update(chunk.data(), chunk.size());
    }
    if (checksum) {
      checksum->update(chunk.data(), chunk.size());
    }
    std::string next;
    if (chunk.empty()) {
      // A stretch of framing with no payload in it: just read on.
      auto n = co_await r.ex.read_body(&next, options_.chunk_size);
      if (!n) {
        failure = S3Error(from_error(n.error()));
        break;
      }
      more = *n > 0;
    } else {
      auto [written, read] =
          co_await (writer->write(std::move(chunk)) && r.ex.read_body(&next, options_.chunk_size));
      if (!written) {
        failure = S3Error(from_error(written.error()));
      } else if (!read) {
        failure = S3Error(from_error(read.error()));
      } else {
        more = *read > 0;
      }
    }
    chunk = next_payload(std::move(next));
  }
  std::string md5_raw = md5_digest.finish();
  if (!failure && decoder) {
    if (auto finished = decoder->finish(); !finished) {
      failure = finished.error();
    } else if (decoder->decoded_bytes() != declared) {
      failure = S3Error(S3Code::kIncompleteBody);
    }
  } else if (!failure && length && received != *length) {
    failure = S3Error(S3Code::kIncompleteBody);
  }
  if (!failure && *md5_expected && md5_raw != **md5_expected) {
    failure = S3Error(S3Code::kBadDigest);
  }
  if (!failure && sha_digest && to_hex(sha_digest->finish()) != payload) {
    failure = S3Error(S3Code::kXAmzContentSHA256Mismatch);
  }
  std::vector<proto::Checksum> checksums;
  if (!failure && checksum) {
    const std::string computed = checksum->finish();
    std::optional<std::string> expected = (*wanted)->expected;
    const std::string header(checksum_header((*wanted)->algorithm));
    if ((*wanted)->in_trailer) {
      for (const auto& [name, value] : decoder->trailers()) {
        if (name == header) {
          expected = base64_decode(value);
          if (!expected || expected->size() != computed.size()) {
            failure = S3Error(S3Code::kInvalidRequest,
                              "Value for " + header + " trailing header is invalid.");
          }
        }
      }
      if (!failure && !expected) {
        failure = S3Error(S3Code::kMalformedTrailerError);
      }
    }
    if (!failure && expected && *expected != computed) {
      failure = S3Error(S3Code::kBadDigest, "The " + header +
                                                " you specified did not match the calculated "
                                                "checksum.");
    }
    proto::Checksum& c = checksums.emplace_back();
    c.set_algorithm(std::string(checksum_name((*wanted)->algorithm)));
    c.set_value(base64_encode(computed));
    c.set_type("FULL_OBJECT");
  }
  if (failure) {
    co_await writer->abort();
    co_return std::move(*failure);
  }
  auto blob = co_await writer->commit();
  if (!blob) {
    co_return S3Error(from_error(blob.error()));
  }
  co_return ReceivedBlob{blob->id, driver.name(), received, std::move(md5_raw),
                         std::move(checksums)};
}

S3Result<const actors::TierInfo*> S3Service::requested_tier(const Request& r) const {
  const auto requested = r.header("x-amz-storage-class");
  if (!requested) {
    return &spoke_.tiers().front();
  }
  const actors::TierInfo* tier = spoke_.tier_of_class(*requested);
  if (tier == nullptr) {
    return S3Error(S3Code::kInvalidStorageClass);
  }
  return tier;
}

S3Result<std::vector<actors::BlobPiece>> S3Service::readable_pieces(
    const proto::ArtifactRecord& a) const {
  if (!spoke_.needs_restore(a.tier())) {
    return internal::pieces_of(a);
  }
  const proto::Restore& restore = a.restore();
  if (!a.has_restore() || restore.ongoing() ||
      restore.expires_unix_nanos() <= events_clock_.now_unix_nanos()) {
    return S3Error(S3Code::kInvalidObjectState,
                   "The operation is not valid for the object's storage class");
  }
  // The restored copy: the artifact's blobs, on the restore's driver under new ids.
  std::vector<actors::BlobPiece> pieces;
  if (restore.segments_size() > 0) {
    for (const auto& s : restore.segments()) {
      pieces.push_back({s.driver(), s.blob_id(), s.size()});
    }
  } else {
    pieces.push_back({restore.driver(), restore.blob_id(), a.size()});
  }
  return pieces;
}

asio::awaitable<S3Result<S3Service::ReceivedBlob>> S3Service::copy_into_blob(
    Request& r, drivers::BlobReader& reader, drivers::Driver& driver,
    std::optional<ChecksumAlgorithm> compute) {
  auto created = co_await driver.create();
  if (!created) {
    co_return S3Error(from_error(created.error()));
  }
  std::unique_ptr<drivers::BlobWriter> writer = std::move(*created);
  Digest md5_digest(DigestAlgorithm::kMd5);
  std::optional<Checksum> checksum;
  if (compute) {
    checksum.emplace(*compute);
  }
  uint64_t copied = 0;
  for (;;) {
    auto chunk = co_await reader.read(options_.chunk_size);
    if (!chunk) {
      co_await writer->abort();
      logger("s3")->error("copy source unreadable req={} error={}", r.id, chunk.error().message());
      co_return S3Error(S3Code::kInternalError);
    }
    if (chunk->empty()) {
      break;
    }
    copied += chunk->size();
    md5_digest.update(chunk->data(), chunk->size());
    if (checksum) {
      checksum->update(chunk->data(), chunk->size());
    }
    if (auto w = co_await writer->write(std::move(*chunk)); !w) {
      co_await writer->abort();
      co_return S3Error(from_error(w.error()));
    }
  }
  auto blob = co_await writer->commit();
  if (!blob) {
    co_return S3Error(from_error(blob.error()));
  }
  std::vector<proto::Checksum> checksums;
  if (checksum) {
    proto::Checksum& c = checksums.emplace_back();
    c.set_algorithm(std::string(checksum_name(*compute)));
    c.set_value(base64_encode(checksum->finish()));
    c.set_type("FULL_OBJECT");
  }
  co_return ReceivedBlob{blob->id, driver.name(), copied, md5_digest.finish(),
                         std::move(checksums)};
}

asio::awaitable<void> S3Service::put_object(Request& r) {
  if (r.key.size() > internal::kMaxKeyBytes) {
    co_await internal::send_error(r, S3Code::kKeyTooLongError);
    co_return;
  }
  auto artifact = internal::artifact_from_headers(r);
  if (!artifact) {
    co_await internal::send_error(r, artifact.error());
    co_return;
  }
  auto condition = internal::write_condition(r);
  if (!condition) {
    co_await internal::send_error(r, condition.error());
    co_return;
  }
  auto tier = requested_tier(r);
  if (!tier) {
    co_await internal::send_error(r, tier.error());
    co_return;
  }
  // Refuse early, before the client sends a byte, when the bucket does not exist.
  if (auto missing = co_await bucket_missing(r)) {
    co_await internal::send_error(r, std::move(*missing));
    co_return;
  }
  if (const auto length = r.ex.content_length()) {
    const auto declared =
        internal::parse_size(r.header("x-amz-decoded-content-length").value_or(""));
    if (auto refused = co_await precheck_bytes(r, declared.value_or(*length))) {
      co_await internal::send_error(r, std::move(*refused));
      co_return;
    }
  }
  auto blob = co_await receive_blob(r, spoke_.driver_of(**tier));
  if (!blob) {
    co_await internal::send_error(r, blob.error());
    co_return;
  }

  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  proto::ArtifactCommitted& a = *c.mutable_commit_artifact()->mutable_artifact();
  a = std::move(*artifact);
  a.set_size(blob->size);
  a.set_etag(to_hex(blob->md5));
  a.set_blob_id(blob->blob_id);
  a.set_driver(blob->driver);
  a.set_tier((*tier)->name);
  *a.mutable_checksums() = {blob->checksums.begin(), blob->checksums.end()};
  *c.mutable_commit_artifact()->mutable_condition() = *condition;
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    // Not committed: the new blob is garbage now.
    spoke_.release({internal::blob_ref(blob->driver, blob->blob_id)});
    const S3Error error =
        co_await command_error(r, reply.error(), static_cast<int64_t>(blob->size), 1, 0);
    co_await internal::send_error(r, error);
    co_return;
  }
  spoke_.release({reply->released().begin(), reply->released().end()});
  auto res = internal::make_response(r, http::status::ok);
  res.set(http::field::etag, "\"" + to_hex(blob->md5) + "\"");
  internal::set_checksum_headers(res, google::protobuf::RepeatedPtrField<proto::Checksum>(
                                          blob->checksums.begin(), blob->checksums.end()));
  co_await internal::send(r, std::move(res));
}

asio::awaitable<S3Result<S3Service::CopySource>> S3Service::copy_source(Request& r) {
  auto source = internal::parse_copy_source(*r.header("x-amz-copy-source"));
  if (!source) {
    co_return source.error();
  }
  if (!co_await has_grant(r, source->first, internal::Access::kRead)) {
    std::string reason = "No read grant on the copy source's bucket.";
    co_await record_denial(r, source->first, source->second, reason);
    co_return S3Error(S3Code::kAccessDenied, std::move(reason));
  }
  proto::Query q;
  q.set_container(source->first);
  q.set_path(source->second);
  q.mutable_get_artifact();
  auto found = co_await query(r, std::move(q));
  if (!found) {
    co_return S3Error(from_error(found.error()));
  }
  const proto::ArtifactRecord& record = found->artifact();
  if (auto failed = internal::copy_source_conditions(r, record)) {
    co_return std::move(*failed);
  }
  co_return CopySource{std::move(source->first), std::move(source->second), record};
}

asio::awaitable<void> S3Service::copy_object(Request& r) {
  if (r.key.size() > internal::kMaxKeyBytes) {
    co_await internal::send_error(r, S3Code::kKeyTooLongError);
    co_return;
  }
  auto source = co_await copy_source(r);
  if (!source) {
    co_await internal::send_error(r, source.error());
    co_return;
  }
  const proto::ArtifactRecord& from = source->record;
  const std::string metadata_directive =
      std::string(r.header("x-amz-metadata-directive").value_or("COPY"));
  const std::string tagging_directive =
      std::string(r.header("x-amz-tagging-directive").value_or("COPY"));
  if ((metadata_directive != "COPY" && metadata_directive != "REPLACE") ||
      (tagging_directive != "COPY" && tagging_directive != "REPLACE")) {
    co_await internal::send_error(
        r, S3Error(S3Code::kInvalidArgument, "Unknown metadata or tagging directive."));
    co_return;
  }
  auto tier = requested_tier(r);
  if (!tier) {
    co_await internal::send_error(r, tier.error());
    co_return;
  }
  // A storage class other than the source's moves the bytes to that tier's driver; without
  // one, the copy stays with the source's bytes (and tier).
  const bool change_tier =
      r.header("x-amz-storage-class").has_value() && (*tier)->name != from.tier();
  if (source->bucket == r.bucket && source->key == r.key && metadata_directive == "COPY" &&
      !change_tier) {
    co_await internal::send_error(
        r, S3Error(S3Code::kInvalidRequest,
                   "This copy request is illegal because it is trying to copy an object to "
                   "itself without changing the object's metadata, storage class, website "
                   "redirect location or encryption attributes."));
    co_return;
  }
  proto::ArtifactCommitted artifact;
  if (metadata_directive == "REPLACE") {
    auto replaced = internal::artifact_from_headers(r);
    if (!replaced) {
      co_await internal::send_error(r, replaced.error());
      co_return;
    }
    artifact = std::move(*replaced);
  } else {
    internal::copy_content_headers(from, artifact);
  }
  if (tagging_directive == "COPY") {
    *artifact.mutable_tags() = from.tags();
  } else {
    auto tags = internal::tags_from_header(r);
    if (!tags) {
      co_await internal::send_error(r, tags.error());
      co_return;
    }
    *artifact.mutable_tags() = {tags->begin(), tags->end()};
  }
  auto condition = internal::write_condition(r);
  if (!condition) {
    co_await internal::send_error(r, condition.error());
    co_return;
  }
  artifact.set_size(from.size());
  artifact.set_etag(from.etag());
  *artifact.mutable_checksums() = from.checksums();
  artifact.set_copy_source(source->bucket + "/" + source->key);
  std::optional<ReceivedBlob> copied_blob;
  if (change_tier) {
    // The bytes, read (from the restored copy if the source's tier needs one), into a new blob
    // on the requested tier. A multipart source becomes one blob with the same ETag.
    auto pieces = readable_pieces(from);
    if (!pieces) {
      co_await internal::send_error(r, pieces.error());
      co_return;
    }
    auto reader = co_await spoke_.open(std::move(*pieces), std::nullopt);
    if (!reader) {
      co_await internal::send_error(r, from_error(reader.error()));
      co_return;
    }
    auto blob = co_await copy_into_blob(r, **reader, spoke_.driver_of(**tier));
    if (!blob) {
      co_await internal::send_error(r, blob.error());
      co_return;
    }
    copied_blob = std::move(*blob);
    artifact.set_blob_id(copied_blob->blob_id);
    artifact.set_driver(copied_blob->driver);
    artifact.set_tier((*tier)->name);
  } else {
    // Same tier: the copy shares the source's blobs; the projection checks, in log order, that
    // they are still referenced, so a delete of the source racing this copy cannot leave it
    // pointing at nothing.
    artifact.set_blob_id(from.blob_id());
    artifact.set_driver(from.driver());
    artifact.set_tier(from.tier());
    *artifact.mutable_segments() = from.segments();
    artifact.set_shares_blobs(true);
  }

  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  *c.mutable_commit_artifact()->mutable_artifact() = std::move(artifact);
  *c.mutable_commit_artifact()->mutable_condition() = *condition;
  const int64_t copied = static_cast<int64_t>(from.size());
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    if (copied_blob) {
      spoke_.release({internal::blob_ref(copied_blob->driver, copied_blob->blob_id)});
    }
    const S3Error error = co_await command_error(r, reply.error(), copied, 1, 0);
    co_await internal::send_error(r, error);
    co_return;
  }
  spoke_.release({reply->released().begin(), reply->released().end()});
  XmlWriter xml;
  xml.open("CopyObjectResult", true)
      .element("LastModified", format_iso8601(reply->time_unix_nanos()))
      .element_quoted("ETag", from.etag())
      .close("CopyObjectResult");
  co_await internal::send_xml(r, xml.take());
}

asio::awaitable<void> S3Service::get_object(Request& r, bool head) {
  if (auto invalid = invalid_override(r)) {
    co_await internal::send_error(r, std::move(*invalid));
    co_return;
  }
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
  if (auto failed = internal::read_conditions(r, artifact)) {
    if (failed->code == S3Code::kNotModified) {
      // 304 carries the validators and no body, error or otherwise.
      auto res = internal::make_response(r, http::status::not_modified);
      res.set(http::field::etag, "\"" + artifact.etag() + "\"");
      res.set(http::field::last_modified, format_http_date(artifact.modified_unix_nanos()));
      r.status = res.result_int();
      (void)co_await r.ex.send_head(std::move(res));
      co_return;
    }
    co_await internal::send_error(r, std::move(*failed));
    co_return;
  }
  const uint64_t size = artifact.size();
  auto range = internal::requested_range(r, artifact);
  if (!range) {
    co_await internal::send_error(r, range.error());
    co_return;
  }
  const uint64_t length = *range ? (*range)->length() : size;
  const http::status status = *range ? http::status::partial_content : http::status::ok;

  if (head) {
    auto res = internal::make_response(r, status);
    set_object_headers(res, artifact, r, spoke_.storage_class(artifact.tier()));
    if (*range) {
      res.set(http::field::content_range, content_range(**range, size));
    }
    res.content_length(length);
    r.status = res.result_int();
    // prepare_payload() would reset Content-Length to the (empty) body of a HEAD reply.
    (void)co_await r.ex.send_head(std::move(res));
    proto::Command read;
    read.set_container(r.bucket);
    read.set_path(r.key);
    proto::ArtifactRead& event = *read.mutable_record_read()->mutable_read();
    event.set_head(true);
    event.set_size(size);
    event.set_tier(artifact.tier());
    if (auto recorded = co_await execute(r, std::move(read)); !recorded) {
      logger("s3")->warn("read event not recorded req={} error={}", r.id,
                         recorded.error().message());
    }
    co_return;
  }

  std::optional<drivers::ByteRange> blob_range = *range;
  if (size == 0) {
    blob_range.reset();
  }
  auto pieces = readable_pieces(artifact);
  if (!pieces) {
    co_await internal::send_error(r, pieces.error());
    co_return;
  }
  auto opened = co_await spoke_.open(std::move(*pieces), blob_range);
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
  set_object_headers(res, artifact, r, spoke_.storage_class(artifact.tier()));
  if (*range) {
    res.set(http::field::content_range, content_range(**range, size));
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
  if (*range) {
    event.set_ranged(true);
    event.set_range_first((*range)->first);
    event.set_range_last((*range)->last);
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
  co_await internal::send_empty(r, http::status::no_content);
}

asio::awaitable<void> S3Service::delete_objects(Request& r) {
  if (!r.header("content-md5") && !internal::has_checksum_header(r)) {
    co_await internal::send_error(
        r,
        S3Error(S3Code::kInvalidRequest, "Missing required header for this request: Content-MD5"));
    co_return;
  }
  auto body = co_await internal::read_small_body(r, 2 << 20);
  if (!body) {
    co_await internal::send_error(r, body.error());
    co_return;
  }
  pugi::xml_document doc;
  const pugi::xml_node root =
      doc.load_buffer(body->data(), body->size()) ? doc.child("Delete") : pugi::xml_node();
  std::vector<std::string> keys;
  for (pugi::xml_node o = root.child("Object"); o; o = o.next_sibling("Object")) {
    keys.emplace_back(o.child_value("Key"));
  }
  if (!root || keys.empty() || keys.size() > kMaxDeleteKeys) {
    co_await internal::send_error(r, S3Code::kMalformedXML);
    co_return;
  }
  const bool quiet = std::string_view(root.child_value("Quiet")) == "true";
  if (auto missing = co_await bucket_missing(r)) {
    co_await internal::send_error(r, std::move(*missing));
    co_return;
  }

  // The deletes go to the bucket's actor together: their appends share group commits.
  std::vector<asio::awaitable<Result<proto::CommandReply>>> deletes;
  for (const auto& key : keys) {
    proto::Command c;
    c.set_container(r.bucket);
    c.set_path(key);
    c.mutable_delete_artifact();
    deletes.push_back(execute(r, std::move(c)));
  }
  auto results = co_await gather(std::move(deletes), 64);

  XmlWriter xml;
  xml.open("DeleteResult", true);
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& result = results[i];
    if (result && *result) {
      spoke_.release({(*result)->released().begin(), (*result)->released().end()});
      if (!quiet) {
        xml.open("Deleted").element("Key", keys[i]).close("Deleted");
      }
      continue;
    }
    const S3Code code = result ? from_error(result->error()) : S3Code::kInternalError;
    const S3ErrorInfo& info = s3::info(code);
    xml.open("Error")
        .element("Key", keys[i])
        .element("Code", info.code)
        .element("Message", info.message)
        .close("Error");
  }
  xml.close("DeleteResult");
  co_await internal::send_xml(r, xml.take());
}

asio::awaitable<void> S3Service::restore_object(Request& r) {
  // <RestoreRequest><Days>N</Days>...</RestoreRequest>: a temporary copy for N days. Tiers and
  // select/output options are not offered; the copy is as fast as the drivers allow.
  auto body = co_await internal::read_small_body(r, 64 << 10);
  if (!body) {
    co_await internal::send_error(r, body.error());
    co_return;
  }
  pugi::xml_document doc;
  const pugi::xml_node root =
      doc.load_buffer(body->data(), body->size()) ? doc.child("RestoreRequest") : pugi::xml_node();
  if (!root) {
    co_await internal::send_error(r, S3Code::kMalformedXML);
    co_return;
  }
  const std::string days_text = root.child_value("Days");
  const auto days = internal::parse_size(days_text);
  if (!days || *days < 1 || *days > 36500) {
    co_await internal::send_error(
        r, S3Error(S3Code::kInvalidArgument, "Days must be a whole number from 1 to 36500."));
    co_return;
  }
  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  c.mutable_request_restore()->set_days(static_cast<uint32_t>(*days));
  for (const actors::TierInfo& t : spoke_.tiers()) {
    if (!t.instant) {
      c.mutable_request_restore()->add_restore_tiers(t.name);
    }
  }
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    const S3Error error = is(reply.error(), Errc::kInvalidObjectState)
                              ? S3Error(S3Code::kInvalidObjectState,
                                        "Restore is not allowed for the object's current "
                                        "storage class")
                              : from_error(reply.error());
    co_await internal::send_error(r, error);
    co_return;
  }
  // 202 for a new restore; 200 when a restored copy's expiry moved.
  co_await internal::send_empty(
      r, reply->restore_extended() ? http::status::ok : http::status::accepted);
}

asio::awaitable<void> S3Service::get_object_tagging(Request& r) {
  proto::Query q;
  q.set_container(r.bucket);
  q.set_path(r.key);
  q.mutable_get_artifact();
  auto found = co_await query(r, std::move(q));
  if (!found) {
    co_await internal::send_error(r, from_error(found.error()));
    co_return;
  }
  XmlWriter xml;
  xml.open("Tagging", true).open("TagSet");
  for (const auto& t : found->artifact().tags()) {
    xml.open("Tag").element("Key", t.key()).element("Value", t.value()).close("Tag");
  }
  xml.close("TagSet").close("Tagging");
  co_await internal::send_xml(r, xml.take());
}

asio::awaitable<void> S3Service::put_object_tagging(Request& r) {
  auto body = co_await internal::read_small_body(r, 64 * 1024);
  if (!body) {
    co_await internal::send_error(r, body.error());
    co_return;
  }
  auto tags = internal::tags_from_xml(*body);
  if (!tags) {
    co_await internal::send_error(r, tags.error());
    co_return;
  }
  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  *c.mutable_tag_artifact()->mutable_tags() = {tags->begin(), tags->end()};
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  co_await internal::send_empty(r, http::status::ok);
}

asio::awaitable<void> S3Service::delete_object_tagging(Request& r) {
  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  c.mutable_tag_artifact();
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  co_await internal::send_empty(r, http::status::no_content);
}

}  // namespace vaultaire::s3
