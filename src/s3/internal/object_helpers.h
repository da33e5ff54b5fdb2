#pragma once

// Pieces of S3 object semantics shared by the object and multipart operations: content headers
// and user metadata, tags, conditional headers, copy sources, ranges. Private to s3/.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/spoke.h"
#include "common/checksum.h"
#include "drivers/driver.h"
#include "s3/auth.h"
#include "s3/internal/request.h"
#include "vaultaire/hub.pb.h"

namespace vaultaire::s3::internal {

inline constexpr std::string_view kMetaPrefix = "x-amz-meta-";
inline constexpr size_t kMaxKeyBytes = 1024;
inline constexpr size_t kMaxUserMetadataBytes = 2048;
inline constexpr uint64_t kMinPartSize = 5ull << 20;
inline constexpr uint32_t kMaxPartNumber = 10000;

// What a new object carries besides its bytes, from the request's headers: Content-Type and the
// other content headers, x-amz-meta-* (sorted, names lowercase; MetadataTooLarge past 2 KiB)
// and x-amz-tagging (InvalidTag).
S3Result<proto::ArtifactCommitted> artifact_from_headers(const Request& r);

// Copies content headers and user metadata of `from` (x-amz-metadata-directive: COPY).
void copy_content_headers(const proto::ArtifactRecord& from, proto::ArtifactCommitted& to);

// x-amz-tagging: a URL-encoded query string of key=value pairs.
S3Result<std::vector<proto::Tag>> tags_from_header(const Request& r);
// <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>
S3Result<std::vector<proto::Tag>> tags_from_xml(std::string_view xml);

// If-None-Match: * and If-Match on a write.
S3Result<proto::WriteCondition> write_condition(const Request& r);

// x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded; a ?versionId is refused.
S3Result<std::pair<std::string, std::string>> parse_copy_source(std::string_view header);

// x-amz-copy-source-if-*: PreconditionFailed when one does not hold.
std::optional<S3Error> copy_source_conditions(const Request& r, const proto::ArtifactRecord& a);

// If-Match, If-Unmodified-Since (412) and If-None-Match, If-Modified-Since (NotModified), in
// HTTP's order of precedence.
std::optional<S3Error> read_conditions(const Request& r, const proto::ArtifactRecord& a);

// The byte range a GET or HEAD asks for: from ?partNumber= (a part of a multipart object) or
// from the Range header (bytes=a-b, a-, -n; other forms are ignored, as HTTP says).
// Errors: InvalidRange (unsatisfiable), InvalidArgument (a bad part number, both at once).
S3Result<std::optional<drivers::ByteRange>> requested_range(const Request& r,
                                                            const proto::ArtifactRecord& a);
// A Range header against an object of `size` bytes (also x-amz-copy-source-range).
S3Result<std::optional<drivers::ByteRange>> parse_range(std::optional<std::string_view> header,
                                                        uint64_t size);

// A decimal byte count; nullopt when malformed.
std::optional<uint64_t> parse_size(std::string_view s);

// The blobs holding an artifact's bytes, in order.
std::vector<actors::BlobPiece> pieces_of(const proto::ArtifactRecord& a);

proto::BlobRef blob_ref(const std::string& driver, const std::string& blob_id);

// True when the request carries any x-amz-checksum-* header.
bool has_checksum_header(const Request& r);

// The checksum a request asks for its body: an x-amz-checksum-<algorithm> header with the
// value, a trailer announced by x-amz-trailer, or just x-amz-sdk-checksum-algorithm (computed
// and stored). Errors: InvalidRequest (two algorithms, a malformed value, an unknown one).
struct ChecksumRequest {
  ChecksumAlgorithm algorithm;
  std::optional<std::string> expected;  // raw bytes, from the header
  bool in_trailer = false;              // the value comes in the aws-chunked trailer
};
S3Result<std::optional<ChecksumRequest>> checksum_request(const Request& r);

// x-amz-checksum-<algorithm> (and x-amz-checksum-type) headers for stored checksums.
template <typename Response>
void set_checksum_headers(Response& res,
                          const google::protobuf::RepeatedPtrField<proto::Checksum>& checksums) {
  for (const auto& c : checksums) {
    const auto algorithm = parse_checksum_algorithm(c.algorithm());
    if (!algorithm) {
      continue;
    }
    res.set(std::string(checksum_header(*algorithm)), c.value());
    if (!c.type().empty()) {
      res.set("x-amz-checksum-type", c.type());
    }
  }
}

// An ETag without its quotes (and without a weak W/ prefix).
std::string_view unquote_etag(std::string_view etag);

}  // namespace vaultaire::s3::internal
