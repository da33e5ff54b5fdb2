#include "s3/internal/object_helpers.h"

#include <algorithm>
#include <charconv>
#include <set>

#include <pugixml.hpp>

#include "common/crypto.h"
#include "common/time_format.h"
#include "common/uri.h"

namespace vaultaire::s3::internal {
namespace {

constexpr size_t kMaxTags = 10;
constexpr size_t kMaxTagKey = 128;
constexpr size_t kMaxTagValue = 256;

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

S3Result<std::vector<proto::Tag>> check_tags(std::vector<proto::Tag> tags) {
  std::set<std::string> keys;
  if (tags.size() > kMaxTags) {
    return S3Error(S3Code::kBadRequest, "Object tags cannot be greater than 10");
  }
  for (const auto& t : tags) {
    if (t.key().empty() || t.key().size() > kMaxTagKey || t.value().size() > kMaxTagValue) {
      return S3Error(S3Code::kInvalidTag, "The TagKey or TagValue you have provided is invalid");
    }
    if (!keys.insert(t.key()).second) {
      return S3Error(S3Code::kInvalidTag, "Cannot provide multiple Tags with the same key");
    }
  }
  return tags;
}

// Does any ETag of an If-Match / If-None-Match list (or "*") match `etag`?
bool etag_list_matches(std::string_view list, std::string_view etag) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    while (!item.empty() && item.back() == ' ') {
      item.remove_suffix(1);
    }
    if (item == "*" || unquote_etag(item) == etag) {
      return true;
    }
  }
  return false;
}

// Seconds of the artifact's modification time, as HTTP dates compare.
int64_t modified_seconds(const proto::ArtifactRecord& a) {
  return a.modified_unix_nanos() / 1'000'000'000;
}

}  // namespace

std::string_view unquote_etag(std::string_view etag) {
  if (etag.substr(0, 2) == "W/") {
    etag.remove_prefix(2);
  }
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

S3Result<proto::ArtifactCommitted> artifact_from_headers(const Request& r) {
  proto::ArtifactCommitted a;
  a.set_content_type(std::string(r.header("content-type").value_or("binary/octet-stream")));
  a.set_content_encoding(std::string(r.header("content-encoding").value_or("")));
  a.set_cache_control(std::string(r.header("cache-control").value_or("")));
  a.set_content_disposition(std::string(r.header("content-disposition").value_or("")));
  a.set_content_language(std::string(r.header("content-language").value_or("")));
  a.set_expires(std::string(r.header("expires").value_or("")));
  // aws-chunked is how the body travelled, not what it is.
  if (a.content_encoding() == "aws-chunked") {
    a.clear_content_encoding();
  } else if (a.content_encoding().substr(0, 12) == "aws-chunked,") {
    a.set_content_encoding(a.content_encoding().substr(12));
  }
  std::vector<std::pair<std::string, std::string>> meta;
  size_t meta_bytes = 0;
  for (const auto& h : r.facts.headers) {
    if (h.name.size() > kMetaPrefix.size() &&
        h.name.compare(0, kMetaPrefix.size(), kMetaPrefix) == 0) {
      meta.emplace_back(h.name.substr(kMetaPrefix.size()), h.value);
      meta_bytes += meta.back().first.size() + h.value.size();
    }
  }
  if (meta_bytes > kMaxUserMetadataBytes) {
    return S3Error(S3Code::kMetadataTooLarge);
  }
  std::sort(meta.begin(), meta.end());
  for (auto& [k, v] : meta) {
    auto* e = a.add_user_metadata();
    e->set_key(std::move(k));
    e->set_value(std::move(v));
  }
  auto tags = tags_from_header(r);
  if (!tags) {
    return tags.error();
  }
  *a.mutable_tags() = {tags->begin(), tags->end()};
  return a;
}

void copy_content_headers(const proto::ArtifactRecord& from, proto::ArtifactCommitted& to) {
  to.set_content_type(from.content_type());
  to.set_content_encoding(from.content_encoding());
  to.set_cache_control(from.cache_control());
  to.set_content_disposition(from.content_disposition());
  to.set_content_language(from.content_language());
  to.set_expires(from.expires());
  *to.mutable_user_metadata() = from.user_metadata();
}

S3Result<std::vector<proto::Tag>> tags_from_header(const Request& r) {
  const auto header = r.header("x-amz-tagging");
  if (!header || header->empty()) {
    return std::vector<proto::Tag>();
  }
  auto params = parse_query(*header);
  if (!params) {
    return S3Error(S3Code::kInvalidTag,
                   "The header 'x-amz-tagging' shall be encoded as UTF-8 "
                   "then URLEncoded URL query parameters without tag name "
                   "duplicates.");
  }
  std::vector<proto::Tag> tags;
  for (auto& p : *params) {
    proto::Tag& t = tags.emplace_back();
    t.set_key(std::move(p.name));
    t.set_value(std::move(p.value));
  }
  return check_tags(std::move(tags));
}

S3Result<std::vector<proto::Tag>> tags_from_xml(std::string_view xml) {
  pugi::xml_document doc;
  const pugi::xml_node set = doc.load_buffer(xml.data(), xml.size())
                                 ? doc.child("Tagging").child("TagSet")
                                 : pugi::xml_node();
  if (!set) {
    return S3Error(S3Code::kMalformedXML);
  }
  std::vector<proto::Tag> tags;
  for (pugi::xml_node tag = set.child("Tag"); tag; tag = tag.next_sibling("Tag")) {
    if (!tag.child("Key")) {
      return S3Error(S3Code::kMalformedXML);
    }
    proto::Tag& t = tags.emplace_back();
    t.set_key(tag.child_value("Key"));
    t.set_value(tag.child_value("Value"));
  }
  return check_tags(std::move(tags));
}

S3Result<proto::WriteCondition> write_condition(const Request& r) {
  proto::WriteCondition c;
  if (const auto none = r.header("if-none-match")) {
    if (*none != "*") {
      return S3Error(S3Code::kNotImplemented,
                     "If-None-Match on a write accepts only '*' (the key must not exist).");
    }
    c.set_if_none_match_any(true);
  }
  if (const auto match = r.header("if-match")) {
    c.set_if_match(std::string(unquote_etag(*match)));
  }
  return c;
}

S3Result<std::pair<std::string, std::string>> parse_copy_source(std::string_view header) {
  if (header.find("?versionId=") != std::string_view::npos) {
    return S3Error(S3Code::kNotImplemented, "Versioning is not enabled: no versionId to copy.");
  }
  auto decoded = uri_decode(header, false);
  if (!decoded) {
    return S3Error(S3Code::kInvalidArgument, "Invalid copy source encoding.");
  }
  std::string_view s = *decoded;
  if (!s.empty() && s.front() == '/') {
    s.remove_prefix(1);
  }
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) {
    return S3Error(S3Code::kInvalidArgument,
                   "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.");
  }
  return std::pair<std::string, std::string>(std::string(s.substr(0, slash)),
                                             std::string(s.substr(slash + 1)));
}

std::optional<S3Error> copy_source_conditions(const Request& r, const proto::ArtifactRecord& a) {
  const S3Error failed(S3Code::kPreconditionFailed);
  const auto match = r.header("x-amz-copy-source-if-match");
  const auto none = r.header("x-amz-copy-source-if-none-match");
  const auto unmodified = r.header("x-amz-copy-source-if-unmodified-since");
  const auto modified = r.header("x-amz-copy-source-if-modified-since");
  if (match && !etag_list_matches(*match, a.etag())) {
    return failed;
  }
  if (!match && unmodified) {
    if (const auto t = parse_http_date(*unmodified); t && modified_seconds(a) > *t) {
      return failed;
    }
  }
  if (none && etag_list_matches(*none, a.etag())) {
    return failed;
  }
  if (!none && modified) {
    if (const auto t = parse_http_date(*modified); t && modified_seconds(a) <= *t) {
      return failed;
    }
  }
  return std::nullopt;
}

std::optional<S3Error> read_conditions(const Request& r, const proto::ArtifactRecord& a) {
  const auto match = r.header("if-match");
  const auto none = r.header("if-none-match");
  const auto unmodified = r.header("if-unmodified-since");
  const auto modified = r.header("if-modified-since");
  if (match && !etag_list_matches(*match, a.etag())) {
    return S3Error(S3Code::kPreconditionFailed);
  }
  if (!match && unmodified) {
    if (const auto t = parse_http_date(*unmodified); t && modified_seconds(a) > *t) {
      return S3Error(S3Code::kPreconditionFailed);
    }
  }
  if (none && etag_list_matches(*none, a.etag())) {
    return S3Error(S3Code::kNotModified);
  }
  if (!none && modified) {
    if (const auto t = parse_http_date(*modified); t && modified_seconds(a) <= *t) {
      return S3Error(S3Code::kNotModified);
    }
  }
  return std::nullopt;
}

S3Result<std::optional<drivers::ByteRange>> parse_range(std::optional<std::string_view> header,
                                                        uint64_t size) {
  const std::optional<drivers::ByteRange> whole;
  if (!header || header->substr(0, 6) != "bytes=") {
    return whole;
  }
  const std::string_view spec = header->substr(6);
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) {
    return whole;
  }
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  if (first_text.empty()) {
    const auto suffix = parse_u64(last_text);
    if (!suffix) {
      return whole;
    }
    if (*suffix == 0 || size == 0) {
      return S3Error(S3Code::kInvalidRange);
    }
    const uint64_t n = std::min(*suffix, size);
    return std::optional<drivers::ByteRange>(drivers::ByteRange{size - n, size - 1});
  }
  const auto first = parse_u64(first_text);
  if (!first) {
    return whole;
  }
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    const auto parsed = parse_u64(last_text);
    if (!parsed || *parsed < *first) {
      return whole;
    }
    last = std::min(*parsed, last);
  }
  if (*first >= size) {
    return S3Error(S3Code::kInvalidRange);
  }
  return std::optional<drivers::ByteRange>(drivers::ByteRange{*first, last});
}

S3Result<std::optional<drivers::ByteRange>> requested_range(const Request& r,
                                                            const proto::ArtifactRecord& a) {
  const QueryParam* part = r.param("partNumber");
  if (part == nullptr) {
    return parse_range(r.header("range"), a.size());
  }
  if (r.header("range")) {
    return S3Error(S3Code::kInvalidRequest,
                   "Cannot specify both Range header and partNumber "
                   "query parameter");
  }
  const auto n = parse_u64(part->value);
  if (!n || *n < 1 || *n > kMaxPartNumber) {
    return S3Error(S3Code::kInvalidArgument,
                   "Part number must be an integer between 1 and 10000, inclusive");
  }
  if (a.segments_size() == 0) {
    // A single-part object is its part 1.
    if (*n != 1) {
      return S3Error(S3Code::kInvalidPartNumber);
    }
    return std::optional<drivers::ByteRange>();
  }
  if (*n > static_cast<uint64_t>(a.segments_size())) {
    return S3Error(S3Code::kInvalidPartNumber);
  }
  uint64_t first = 0;
  for (uint64_t i = 0; i + 1 < *n; ++i) {
    first += a.segments(static_cast<int>(i)).size();
  }
  const uint64_t size = a.segments(static_cast<int>(*n - 1)).size();
  if (size == 0) {
    return std::optional<drivers::ByteRange>();
  }
  return std::optional<drivers::ByteRange>(drivers::ByteRange{first, first + size - 1});
}

std::optional<uint64_t> parse_size(std::string_view s) { return parse_u64(s); }

std::vector<actors::BlobPiece> pieces_of(const proto::ArtifactRecord& a) {
  std::vector<actors::BlobPiece> pieces;
  if (a.segments_size() == 0) {
    pieces.push_back({a.driver(), a.blob_id(), a.size()});
    return pieces;
  }
  for (const auto& s : a.segments()) {
    pieces.push_back({s.driver(), s.blob_id(), s.size()});
  }
  return pieces;
}

proto::BlobRef blob_ref(const std::string& driver, const std::string& blob_id) {
  proto::BlobRef ref;
  ref.set_driver(driver);
  ref.set_blob_id(blob_id);
  return ref;
}

bool has_checksum_header(const Request& r) {
  for (const auto& h : r.facts.headers) {
    if (h.name.compare(0, 15, "x-amz-checksum-") == 0) {
      return true;
    }
  }
  return false;
}

S3Result<std::optional<ChecksumRequest>> checksum_request(const Request& r) {
  std::optional<ChecksumRequest> out;
  auto take = [&](ChecksumAlgorithm a) -> S3Result<void> {
    if (out && out->algorithm != a) {
      return S3Error(S3Code::kInvalidRequest,
                     "Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
                     "allowed.");
    }
    if (!out) {
      out = ChecksumRequest{a, std::nullopt, false};
    }
    return {};
  };
  for (const auto& h : r.facts.headers) {
    if (h.name.compare(0, 15, "x-amz-checksum-") != 0 || h.name == "x-amz-checksum-mode" ||
        h.name == "x-amz-checksum-type" || h.name == "x-amz-checksum-algorithm") {
      continue;
    }
    const auto a = parse_checksum_algorithm(std::string_view(h.name).substr(15));
    if (!a) {
      return S3Error(S3Code::kInvalidRequest, "Unknown checksum header " + h.name);
    }
    auto raw = base64_decode(h.value);
    if (!raw || raw->size() != checksum_size(*a)) {
      return S3Error(S3Code::kInvalidRequest, "Value for " + h.name + " header is invalid.");
    }
    if (auto t = take(*a); !t) {
      return t.error();
    }
    out->expected = std::move(*raw);
  }
  if (const auto trailer = r.header("x-amz-trailer")) {
    std::string name(*trailer);
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (name.compare(0, 15, "x-amz-checksum-") == 0) {
      const auto a = parse_checksum_algorithm(std::string_view(name).substr(15));
      if (!a) {
        return S3Error(S3Code::kInvalidRequest, "Unknown trailer " + name);
      }
      if (auto t = take(*a); !t) {
        return t.error();
      }
      out->in_trailer = true;
    }
  }
  for (const char* name : {"x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"}) {
    if (const auto declared = r.header(name)) {
      const auto a = parse_checksum_algorithm(*declared);
      if (!a) {
        return S3Error(S3Code::kInvalidRequest,
                       "Value for " + std::string(name) + " header is invalid.");
      }
      if (auto t = take(*a); !t) {
        return t.error();
      }
    }
  }
  return out;
}

}  // namespace vaultaire::s3::internal
