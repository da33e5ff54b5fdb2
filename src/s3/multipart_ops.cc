// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads.
//
// Each part is a blob. Completing commits one artifact made of the parts' blobs in order (no
// byte is copied); parts the completion does not list are released, and so are all parts of an
// aborted upload. The multipart ETag is the MD5 of the parts' binary MD5s, then "-N".

#include <charconv>

#include <pugixml.hpp>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "s3/internal/object_helpers.h"
#include "s3/internal/request.h"
#include "s3/s3_service.h"
#include "s3/xml.h"

namespace vaultaire::s3 {

using internal::Request;

namespace {

constexpr uint32_t kMaxListParts = 1000;
constexpr uint32_t kMaxListUploads = 1000;

// A query parameter as a number in [1, max]; nullopt when absent.
S3Result<std::optional<uint32_t>> bounded_param(const Request& r, std::string_view name,
                                                uint32_t max, std::string_view what) {
  const QueryParam* p = r.param(name);
  if (p == nullptr) {
    return std::optional<uint32_t>();
  }
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(p->value.data(), p->value.data() + p->value.size(), v);
  if (p->value.empty() || ec != std::errc() || end != p->value.data() + p->value.size() ||
      v > max) {
    return S3Error(S3Code::kInvalidArgument, std::string(what));
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(v));
}

}  // namespace

asio::awaitable<void> S3Service::create_multipart_upload(Request& r) {
  if (r.key.size() > internal::kMaxKeyBytes) {
    co_await internal::send_error(r, S3Code::kKeyTooLongError);
    co_return;
  }
  auto artifact = internal::artifact_from_headers(r);
  if (!artifact) {
    co_await internal::send_error(r, artifact.error());
    co_return;
  }
  auto tier = requested_tier(r);
  if (!tier) {
    co_await internal::send_error(r, tier.error());
    co_return;
  }
  artifact->set_tier((*tier)->name);
  // A checksum algorithm for the upload: every part gets one, and completing combines them,
  // composite (a checksum of the parts' checksums) or, for CRCs, of the full object.
  std::string algorithm;
  std::string type;
  if (const auto declared = r.header("x-amz-checksum-algorithm")) {
    const auto a = parse_checksum_algorithm(*declared);
    if (!a) {
      co_await internal::send_error(
          r, S3Error(S3Code::kInvalidRequest, "Checksum algorithm provided is unsupported."));
      co_return;
    }
    algorithm = std::string(checksum_name(*a));
    type = std::string(
        r.header("x-amz-checksum-type")
            .value_or(*a == ChecksumAlgorithm::kCrc64Nvme ? "FULL_OBJECT" : "COMPOSITE"));
    const bool crc = *a != ChecksumAlgorithm::kSha1 && *a != ChecksumAlgorithm::kSha256;
    if ((type != "COMPOSITE" && type != "FULL_OBJECT") || (type == "FULL_OBJECT" && !crc) ||
        (type == "COMPOSITE" && *a == ChecksumAlgorithm::kCrc64Nvme)) {
      co_await internal::send_error(
          r, S3Error(S3Code::kInvalidRequest, "The " + type +
                                                  " checksum type cannot be used with the " +
                                                  algorithm + " checksum algorithm."));
      co_return;
    }
  }
  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  proto::UploadCreated& upload = *c.mutable_create_upload()->mutable_upload();
  // Upload ids sort by creation time, as ListMultipartUploads lists a key's uploads.
  const std::string upload_id = new_ordered_id(clock_.now_unix_nanos());
  upload.set_upload_id(upload_id);
  *upload.mutable_artifact() = std::move(*artifact);
  upload.set_checksum_algorithm(algorithm);
  upload.set_checksum_type(type);
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  XmlWriter xml;
  if (!algorithm.empty()) {
    r.extra_headers.emplace_back("x-amz-checksum-algorithm", algorithm);
    r.extra_headers.emplace_back("x-amz-checksum-type", type);
  }
  xml.open("InitiateMultipartUploadResult", true)
      .element("Bucket", r.bucket)
      .element("Key", r.key)
      .element("UploadId", upload_id)
      .close("InitiateMultipartUploadResult");
  co_await internal::send_xml(r, xml.take());
}

asio::awaitable<void> S3Service::upload_part(Request& r, bool copy) {
  const std::string upload_id = r.param_value("uploadId");
  auto number = bounded_param(r, "partNumber", internal::kMaxPartNumber,
                              "Part number must be an integer between 1 and 10000, inclusive");
  if (!number || !*number || **number == 0) {
    const S3Error error(S3Code::kInvalidArgument,
                        "Part number must be an integer between 1 and 10000, inclusive");
    co_await internal::send_error(r, error);
    co_return;
  }
  // The upload must exist before a byte is accepted.
  std::optional<ChecksumAlgorithm> algorithm;
  const actors::TierInfo* tier = &spoke_.tiers().front();
  {
    proto::Query q;
    q.set_container(r.bucket);
    q.set_path(r.key);
    q.mutable_get_upload()->set_upload_id(upload_id);
    auto found = co_await query(r, std::move(q));
    if (!found) {
      co_await internal::send_error(r, from_error(found.error()));
      co_return;
    }
    algorithm = parse_checksum_algorithm(found->upload().checksum_algorithm());
    // Parts go where the object will be: the tier its storage class chose.
    if (const actors::TierInfo* t = spoke_.tier(found->upload().artifact().tier())) {
      tier = t;
    }
  }
  drivers::Driver& driver = spoke_.driver_of(*tier);

  S3Result<ReceivedBlob> blob = S3Error(S3Code::kInternalError);
  int64_t source_modified = 0;
  if (copy) {
    auto source = co_await copy_source(r);
    if (!source) {
      co_await internal::send_error(r, source.error());
      co_return;
    }
    auto range = internal::parse_range(r.header("x-amz-copy-source-range"), source->record.size());
    if (!range) {
      co_await internal::send_error(r, range.error());
      co_return;
    }
    std::optional<drivers::ByteRange> from = *range;
    if (source->record.size() == 0) {
      from.reset();
    }
    auto pieces = readable_pieces(source->record);
    if (!pieces) {
      co_await internal::send_error(r, pieces.error());
      co_return;
    }
    auto reader = co_await spoke_.open(std::move(*pieces), from);
    if (!reader) {
      co_await internal::send_error(r, from_error(reader.error()));
      co_return;
    }
    source_modified = source->record.modified_unix_nanos();
    blob = co_await copy_into_blob(r, **reader, driver, algorithm);
  } else {
    blob = co_await receive_blob(r, driver, algorithm);
  }
  if (!blob) {
    co_await internal::send_error(r, blob.error());
    co_return;
  }

  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  proto::PartUploaded& part = *c.mutable_upload_part()->mutable_part();
  part.set_upload_id(upload_id);
  part.set_part_number(**number);
  proto::Segment& segment = *part.mutable_part();
  segment.set_blob_id(blob->blob_id);
  segment.set_driver(blob->driver);
  segment.set_size(blob->size);
  segment.set_etag(to_hex(blob->md5));
  *segment.mutable_checksums() = {blob->checksums.begin(), blob->checksums.end()};
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    spoke_.release({internal::blob_ref(blob->driver, blob->blob_id)});
    const S3Error error =
        co_await command_error(r, reply.error(), static_cast<int64_t>(blob->size), 0, 0);
    co_await internal::send_error(r, error);
    co_return;
  }
  spoke_.release({reply->released().begin(), reply->released().end()});
  const std::string etag = "\"" + to_hex(blob->md5) + "\"";
  if (copy) {
    XmlWriter xml;
    xml.open("CopyPartResult", true)
        .element("LastModified", format_iso8601(source_modified))
        .element("ETag", etag);
    for (const auto& c : blob->checksums) {
      xml.element("Checksum" + c.algorithm(), c.value());
    }
    xml.close("CopyPartResult");
    co_await internal::send_xml(r, xml.take());
    co_return;
  }
  auto res = internal::make_response(r, http::status::ok);
  res.set(http::field::etag, etag);
  internal::set_checksum_headers(res, google::protobuf::RepeatedPtrField<proto::Checksum>(
                                          blob->checksums.begin(), blob->checksums.end()));
  co_await internal::send(r, std::move(res));
}

asio::awaitable<void> S3Service::complete_multipart_upload(Request& r) {
  auto body = co_await internal::read_small_body(r, 4 << 20);
  if (!body) {
    co_await internal::send_error(r, body.error());
    co_return;
  }
  pugi::xml_document doc;
  const pugi::xml_node root = doc.load_buffer(body->data(), body->size())
                                  ? doc.child("CompleteMultipartUpload")
                                  : pugi::xml_node();
  if (!root) {
    co_await internal::send_error(r, S3Code::kMalformedXML);
    co_return;
  }
  auto condition = internal::write_condition(r);
  if (!condition) {
    co_await internal::send_error(r, condition.error());
    co_return;
  }
  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  proto::CompleteUpload& complete = *c.mutable_complete_upload();
  complete.set_upload_id(r.param_value("uploadId"));
  complete.set_min_part_size(internal::kMinPartSize);
  *complete.mutable_condition() = *condition;
  for (pugi::xml_node p = root.child("Part"); p; p = p.next_sibling("Part")) {
    const std::string number = p.child_value("PartNumber");
    uint32_t n = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
    if (number.empty() || ec != std::errc() || end != number.data() + number.size()) {
      co_await internal::send_error(r, S3Code::kMalformedXML);
      co_return;
    }
    proto::CompletedPart& part = *complete.add_parts();
    part.set_part_number(n);
    part.set_etag(std::string(internal::unquote_etag(p.child_value("ETag"))));
    for (const auto a :
         {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c, ChecksumAlgorithm::kCrc64Nvme,
          ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256}) {
      const std::string element = "Checksum" + std::string(checksum_name(a));
      if (const pugi::xml_node v = p.child(element.c_str())) {
        proto::Checksum& c = *part.add_checksums();
        c.set_algorithm(std::string(checksum_name(a)));
        c.set_value(v.child_value());
      }
    }
  }
  if (complete.parts_size() == 0) {
    co_await internal::send_error(
        r, S3Error(S3Code::kMalformedXML,
                   "The XML you provided was not well-formed or did not validate against our "
                   "published schema: it lists no parts."));
    co_return;
  }
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    const S3Error error = co_await command_error(r, reply.error(), 0, 1, 0);
    co_await internal::send_error(r, error);
    co_return;
  }
  spoke_.release({reply->released().begin(), reply->released().end()});
  XmlWriter xml;
  xml.open("CompleteMultipartUploadResult", true)
      .element("Location", "/" + r.bucket + "/" + r.key)
      .element("Bucket", r.bucket)
      .element("Key", r.key)
      .element_quoted("ETag", reply->etag());
  for (const auto& c : reply->checksums()) {
    xml.element("Checksum" + c.algorithm(), c.value()).element("ChecksumType", c.type());
  }
  xml.close("CompleteMultipartUploadResult");
  co_await internal::send_xml(r, xml.take());
}

asio::awaitable<void> S3Service::abort_multipart_upload(Request& r) {
  proto::Command c;
  c.set_container(r.bucket);
  c.set_path(r.key);
  c.mutable_abort_upload()->set_upload_id(r.param_value("uploadId"));
  c.mutable_abort_upload()->set_reason("aborted by the client");
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  spoke_.release({reply->released().begin(), reply->released().end()});
  co_await internal::send_empty(r, http::status::no_content);
}

asio::awaitable<void> S3Service::list_parts(Request& r) {
  auto max = bounded_param(r, "max-parts", UINT32_MAX, "max-parts must be an integer");
  auto marker =
      bounded_param(r, "part-number-marker", UINT32_MAX, "part-number-marker must be an integer");
  if (!max || !marker) {
    S3Error error = max ? marker.error() : max.error();
    co_await internal::send_error(r, std::move(error));
    co_return;
  }
  const uint32_t max_parts = std::min(max->value_or(kMaxListParts), kMaxListParts);
  proto::Query q;
  q.set_container(r.bucket);
  q.set_path(r.key);
  proto::ListParts& list = *q.mutable_list_parts();
  list.set_upload_id(r.param_value("uploadId"));
  list.set_part_number_marker(marker->value_or(0));
  list.set_max_parts(max_parts);
  auto reply = co_await query(r, std::move(q));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  const proto::PartList& parts = reply->parts();
  XmlWriter xml;
  xml.open("ListPartsResult", true)
      .element("Bucket", r.bucket)
      .element("Key", r.key)
      .element("UploadId", parts.upload().upload_id())
      .open("Initiator")
      .element("ID", parts.upload().principal())
      .element("DisplayName", parts.upload().principal())
      .close("Initiator")
      .open("Owner")
      .element("ID", r.tenant)
      .element("DisplayName", r.tenant)
      .close("Owner")
      .element("StorageClass", spoke_.storage_class(parts.upload().artifact().tier()));
  if (!parts.upload().checksum_algorithm().empty()) {
    xml.element("ChecksumAlgorithm", parts.upload().checksum_algorithm())
        .element("ChecksumType", parts.upload().checksum_type());
  }
  xml.element("PartNumberMarker", static_cast<uint64_t>(marker->value_or(0)))
      .element("NextPartNumberMarker", static_cast<uint64_t>(parts.next_part_number_marker()))
      .element("MaxParts", static_cast<uint64_t>(max_parts))
      .element("IsTruncated", parts.truncated() ? "true" : "false");
  for (const auto& p : parts.parts()) {
    xml.open("Part")
        .element("PartNumber", static_cast<uint64_t>(p.part_number()))
        .element("LastModified", format_iso8601(p.modified_unix_nanos()))
        .element_quoted("ETag", p.part().etag())
        .element("Size", p.part().size());
    for (const auto& c : p.part().checksums()) {
      xml.element("Checksum" + c.algorithm(), c.value());
    }
    xml.close("Part");
  }
  xml.close("ListPartsResult");
  co_await internal::send_xml(r, xml.take());
  co_await record_listing(r, {}, parts.parts_size());
}

asio::awaitable<void> S3Service::list_multipart_uploads(Request& r) {
  auto max = bounded_param(r, "max-uploads", UINT32_MAX, "max-uploads must be an integer");
  if (!max) {
    co_await internal::send_error(r, max.error());
    co_return;
  }
  const uint32_t max_uploads = std::min(max->value_or(kMaxListUploads), kMaxListUploads);
  const std::string prefix = r.param_value("prefix");
  const std::string delimiter = r.param_value("delimiter");
  const std::string key_marker = r.param_value("key-marker");
  const std::string upload_id_marker = r.param_value("upload-id-marker");
  const bool url = r.param_value("encoding-type") == "url";
  proto::Query q;
  q.set_container(r.bucket);
  proto::ListUploads& list = *q.mutable_list_uploads();
  list.set_prefix(prefix);
  list.set_delimiter(delimiter);
  list.set_key_marker(key_marker);
  list.set_upload_id_marker(upload_id_marker);
  list.set_max_uploads(max_uploads);
  auto reply = co_await query(r, std::move(q));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  const proto::UploadList& uploads = reply->uploads();
  auto enc = [url](std::string_view s) { return url ? uri_encode(s, true) : std::string(s); };
  XmlWriter xml;
  xml.open("ListMultipartUploadsResult", true)
      .element("Bucket", r.bucket)
      .element("KeyMarker", enc(key_marker))
      .element("UploadIdMarker", upload_id_marker)
      .element("NextKeyMarker", enc(uploads.next_key_marker()))
      .element("NextUploadIdMarker", uploads.next_upload_id_marker())
      .element("Prefix", enc(prefix));
  if (!delimiter.empty()) {
    xml.element("Delimiter", enc(delimiter));
  }
  if (url) {
    xml.element("EncodingType", "url");
  }
  xml.element("MaxUploads", static_cast<uint64_t>(max_uploads))
      .element("IsTruncated", uploads.truncated() ? "true" : "false");
  for (const auto& u : uploads.uploads()) {
    xml.open("Upload")
        .element("Key", enc(u.path()))
        .element("UploadId", u.record().upload_id())
        .open("Initiator")
        .element("ID", u.record().principal())
        .element("DisplayName", u.record().principal())
        .close("Initiator")
        .open("Owner")
        .element("ID", r.tenant)
        .element("DisplayName", r.tenant)
        .close("Owner")
        .element("StorageClass", spoke_.storage_class(u.record().artifact().tier()))
        .element("Initiated", format_iso8601(u.record().initiated_unix_nanos()))
        .close("Upload");
  }
  for (const auto& p : uploads.common_prefixes()) {
    xml.open("CommonPrefixes").element("Prefix", enc(p)).close("CommonPrefixes");
  }
  xml.close("ListMultipartUploadsResult");
  co_await internal::send_xml(r, xml.take());
  co_await record_listing(r, prefix, uploads.uploads_size() + uploads.common_prefixes_size());
}

}  // namespace vaultaire::s3
