// Service and bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
// ListObjects (v1) and ListObjectsV2.

#include <array>
#include <charconv>
#include <optional>
#include <set>

#include <pugixml.hpp>

#include "common/crypto.h"
#include "common/time_format.h"
#include "s3/internal/request.h"
#include "s3/s3_service.h"
#include "s3/xml.h"

namespace vaultaire::s3 {

using internal::Request;

namespace {

constexpr uint32_t kMaxKeys = 1000;

// The canned ACLs buckets support: private (the default) and public-read.
S3Result<std::string> canned_acl(const Request& r) {
  const std::string acl(r.header("x-amz-acl").value_or("private"));
  if (acl == "private") {
    return std::string();
  }
  if (acl == "public-read") {
    return acl;
  }
  return S3Error(S3Code::kNotImplemented,
                 "Only the private and public-read canned ACLs are supported.");
}

}  // namespace

asio::awaitable<void> S3Service::list_buckets(Request& r) {
  proto::Query q;
  q.mutable_list_containers();
  auto reply = co_await query(r, std::move(q));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  // Members see the buckets they have a grant on.
  std::optional<std::set<std::string>> visible;
  if (r.auth.identity.role == "member") {
    proto::Query uq;
    uq.mutable_get_user()->set_user(r.auth.identity.user);
    auto user = co_await query(r, std::move(uq));
    visible.emplace();
    if (user) {
      visible->insert(user->user().grants().begin(), user->user().grants().end());
    }
  }
  XmlWriter xml;
  xml.open("ListAllMyBucketsResult", true)
      .open("Owner")
      .element("ID", r.tenant)
      .element("DisplayName", r.tenant)
      .close("Owner")
      .open("Buckets");
  for (const auto& c : reply->containers().containers()) {
    if (visible && !visible->contains(c.name())) {
      continue;
    }
    xml.open("Bucket")
        .element("Name", c.name())
        .element("CreationDate", format_iso8601(c.record().created_unix_nanos()))
        .close("Bucket");
  }
  xml.close("Buckets").close("ListAllMyBucketsResult");
  co_await internal::send_xml(r, xml.take());
  co_await record_listing(r, {}, reply->containers().containers_size());
}

asio::awaitable<void> S3Service::create_bucket(Request& r) {
  auto acl = canned_acl(r);
  if (!acl) {
    co_await internal::send_error(r, acl.error());
    co_return;
  }
  auto body = co_await internal::read_small_body(r, 64 * 1024);
  if (!body) {
    co_await internal::send_error(r, body.error());
    co_return;
  }
  if (!body->empty()) {
    pugi::xml_document doc;
    const auto parsed = doc.load_buffer(body->data(), body->size());
    const pugi::xml_node root = doc.child("CreateBucketConfiguration");
    if (!parsed || !root) {
      co_await internal::send_error(r, S3Code::kMalformedXML);
      co_return;
    }
    const std::string constraint = root.child_value("LocationConstraint");
    if (!constraint.empty() && constraint != options_.auth.region) {
      co_await internal::send_error(
          r, S3Error(S3Code::kInvalidArgument,
                     "The specified location-constraint is not valid for this endpoint."));
      co_return;
    }
  }
  proto::Command c;
  c.set_container(r.bucket);
  c.mutable_create_container()->set_region(options_.auth.region);
  c.mutable_create_container()->set_acl(*acl);
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    const S3Error error = co_await command_error(r, reply.error(), 0, 0, 1);
    co_await internal::send_error(r, error);
    co_return;
  }
  auto res = internal::make_response(r, http::status::ok);
  res.set(http::field::location, "/" + r.bucket);
  co_await internal::send(r, std::move(res));
}

asio::awaitable<void> S3Service::head_bucket(Request& r) {
  proto::Query q;
  q.set_container(r.bucket);
  q.mutable_get_container();
  auto reply = co_await query(r, std::move(q));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  auto res = internal::make_response(r, http::status::ok);
  res.set("x-amz-bucket-region", reply->container().region());
  co_await internal::send(r, std::move(res));
}

asio::awaitable<void> S3Service::delete_bucket(Request& r) {
  proto::Command c;
  c.set_container(r.bucket);
  c.mutable_delete_container();
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  co_await internal::send(r, internal::make_response(r, http::status::no_content));
}

asio::awaitable<void> S3Service::get_bucket_acl(Request& r) {
  proto::Query q;
  q.set_container(r.bucket);
  q.mutable_get_container();
  auto reply = co_await query(r, std::move(q));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  XmlWriter xml;
  xml.open("AccessControlPolicy", true)
      .open("Owner")
      .element("ID", r.tenant)
      .element("DisplayName", r.tenant)
      .close("Owner")
      .open("AccessControlList")
      .open("Grant")
      .open(
          "Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
          "xsi:type=\"CanonicalUser\"")
      .element("ID", r.tenant)
      .element("DisplayName", r.tenant)
      .close("Grantee")
      .element("Permission", "FULL_CONTROL")
      .close("Grant");
  if (reply->container().acl() == "public-read") {
    xml.open("Grant")
        .open("Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"")
        .element("URI", "http://acs.amazonaws.com/groups/global/AllUsers")
        .close("Grantee")
        .element("Permission", "READ")
        .close("Grant");
  }
  xml.close("AccessControlList").close("AccessControlPolicy");
  co_await internal::send_xml(r, xml.take());
}

asio::awaitable<void> S3Service::put_bucket_acl(Request& r) {
  auto acl = canned_acl(r);
  if (!acl) {
    co_await internal::send_error(r, acl.error());
    co_return;
  }
  auto body = co_await internal::read_small_body(r, 64 * 1024);
  if (!body) {
    co_await internal::send_error(r, body.error());
    co_return;
  }
  if (!body->empty()) {
    co_await internal::send_error(
        r, S3Error(S3Code::kNotImplemented, "Set a canned ACL with the x-amz-acl header."));
    co_return;
  }
  proto::Command c;
  c.set_container(r.bucket);
  c.mutable_set_container_acl()->set_acl(*acl);
  auto reply = co_await execute(r, std::move(c));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  co_await internal::send_empty(r, http::status::ok);
}

asio::awaitable<void> S3Service::get_bucket_location(Request& r) {
  proto::Query q;
  q.set_container(r.bucket);
  q.mutable_get_container();
  auto reply = co_await query(r, std::move(q));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  // S3 answers an empty constraint for us-east-1.
  const std::string& region = reply->container().region();
  XmlWriter xml;
  xml.element("LocationConstraint", region == "us-east-1" ? "" : region);
  std::string body = xml.take();
  const std::string plain = "<LocationConstraint>";
  body.replace(body.find(plain), plain.size(),
               "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
  co_await internal::send_xml(r, std::move(body));
}

asio::awaitable<void> S3Service::get_bucket_versioning(Request& r) {
  proto::Query q;
  q.set_container(r.bucket);
  q.mutable_get_container();
  auto reply = co_await query(r, std::move(q));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  // Versioning has never been enabled: S3 then answers an empty configuration.
  XmlWriter xml;
  xml.open("VersioningConfiguration", true).close("VersioningConfiguration");
  co_await internal::send_xml(r, xml.take());
}

asio::awaitable<void> S3Service::list_objects(Request& r, bool v2) {
  auto value = [&](std::string_view name) -> std::string {
    const QueryParam* p = r.param(name);
    return p != nullptr ? p->value : std::string();
  };
  const std::string prefix = value("prefix");
  const std::string delimiter = value("delimiter");
  const std::string encoding = value("encoding-type");
  if (!encoding.empty() && encoding != "url") {
    co_await internal::send_error(
        r, S3Error(S3Code::kInvalidArgument, "Invalid Encoding Method specified in Request"));
    co_return;
  }
  const bool url = encoding == "url";

  uint32_t max_keys = kMaxKeys;
  if (const QueryParam* p = r.param("max-keys")) {
    int64_t parsed = -1;
    const auto [end, ec] =
        std::from_chars(p->value.data(), p->value.data() + p->value.size(), parsed);
    if (ec != std::errc() || end != p->value.data() + p->value.size() || parsed < 0) {
      co_await internal::send_error(r, S3Error(S3Code::kInvalidArgument,
                                               "Provided max-keys not an integer or within "
                                               "integer range"));
      co_return;
    }
    max_keys = static_cast<uint32_t>(std::min<int64_t>(parsed, kMaxKeys));
  }

  std::string start_after;
  const QueryParam* token = v2 ? r.param("continuation-token") : nullptr;
  if (token != nullptr) {
    auto decoded = base64_decode(token->value);
    if (!decoded || decoded->empty()) {
      co_await internal::send_error(
          r, S3Error(S3Code::kInvalidArgument, "The continuation token provided is incorrect"));
      co_return;
    }
    start_after = std::move(*decoded);
  } else {
    start_after = value(v2 ? "start-after" : "marker");
  }

  proto::Query q;
  q.set_container(r.bucket);
  auto* list = q.mutable_list_artifacts();
  list->set_prefix(prefix);
  list->set_delimiter(delimiter);
  list->set_start_after(start_after);
  list->set_max_entries(max_keys);
  auto reply = co_await query(r, std::move(q));
  if (!reply) {
    co_await internal::send_error(r, from_error(reply.error()));
    co_return;
  }
  const proto::ArtifactList& page = reply->artifacts();

  auto enc = [url](std::string_view s) { return url ? uri_encode(s, true) : std::string(s); };
  const bool owner = !v2 || value("fetch-owner") == "true";

  XmlWriter xml;
  xml.open("ListBucketResult", true).element("Name", r.bucket).element("Prefix", enc(prefix));
  if (v2) {
    xml.element("KeyCount",
                static_cast<uint64_t>(page.artifacts_size() + page.common_prefixes_size()));
    if (token != nullptr) {
      xml.element("ContinuationToken", token->value);
    }
    if (page.truncated()) {
      xml.element("NextContinuationToken", base64_encode(page.last()));
    }
    if (const QueryParam* sa = r.param("start-after")) {
      xml.element("StartAfter", enc(sa->value));
    }
  } else {
    xml.element("Marker", enc(value("marker")));
    if (page.truncated()) {
      xml.element("NextMarker", enc(page.last()));
    }
  }
  xml.element("MaxKeys", static_cast<uint64_t>(max_keys));
  if (!delimiter.empty()) {
    xml.element("Delimiter", enc(delimiter));
  }
  if (url) {
    xml.element("EncodingType", "url");
  }
  xml.element("IsTruncated", page.truncated() ? "true" : "false");
  // About 300 bytes per entry with an owner: one allocation for the page.
  xml.reserve(static_cast<size_t>(page.artifacts_size()) * (owner ? 360 : 260) +
              static_cast<size_t>(page.common_prefixes_size()) * 80);
  std::array<char, kIso8601Size> modified;
  for (const auto& a : page.artifacts()) {
    xml.open("Contents");
    if (url) {
      xml.element("Key", uri_encode(a.path(), true));
    } else {
      xml.element("Key", a.path());
    }
    xml.element("LastModified", write_iso8601(a.record().modified_unix_nanos(), modified))
        .element_quoted("ETag", a.record().etag())
        .element("Size", a.record().size());
    if (owner) {
      xml.open("Owner").element("ID", r.tenant).element("DisplayName", r.tenant).close("Owner");
    }
    xml.element("StorageClass", spoke_.storage_class(a.record().tier())).close("Contents");
  }
  for (const auto& p : page.common_prefixes()) {
    xml.open("CommonPrefixes").element("Prefix", enc(p)).close("CommonPrefixes");
  }
  xml.close("ListBucketResult");
  co_await internal::send_xml(r, xml.take());
  co_await record_listing(r, prefix, page.artifacts_size() + page.common_prefixes_size());
}

}  // namespace vaultaire::s3
