#include "vaultctl/event_formats.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <numeric>

#include "common/time_format.h"
#include "common/uri.h"
#include "events/event_log.h"

namespace vaultaire::vaultctl {
namespace {

enum Alias : unsigned {
  kPut = 1u << 0,
  kGet = 1u << 1,
  kHead = 1u << 2,
  kDelete = 1u << 3,
  kList = 1u << 4,
  kCopy = 1u << 5,
  kMigrate = 1u << 6,
  kRestore = 1u << 7,
};

constexpr std::pair<std::string_view, Alias> kAliases[] = {
    {"put", kPut},   {"get", kGet},   {"head", kHead},       {"delete", kDelete},
    {"list", kList}, {"copy", kCopy}, {"migrate", kMigrate}, {"restore", kRestore},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_copy(const proto::ArtifactCommitted& a) {
  return a.shares_blobs() || !a.copy_source().empty();
}

uint64_t segments_size(const google::protobuf::RepeatedPtrField<proto::Segment>& segments) {
  return std::accumulate(segments.begin(), segments.end(), uint64_t{0},
                         [](uint64_t n, const proto::Segment& s) { return n + s.size(); });
}

uint64_t committed_size(const proto::ArtifactCommitted& a) {
  // A multipart object's size is its segments'.
  return a.segments_size() == 0 ? a.size() : segments_size(a.segments());
}

// What the CSV's size, etag, tier and bytes_sent columns show for an event.
struct Facts {
  std::optional<uint64_t> size;
  std::string etag;
  std::string tier;
  std::optional<uint64_t> bytes_sent;
};

Facts facts_of(const proto::Event& e) {
  Facts f;
  switch (e.payload_case()) {
    case proto::Event::kArtifactCommitted:
      f.size = committed_size(e.artifact_committed());
      f.etag = e.artifact_committed().etag();
      f.tier = e.artifact_committed().tier();
      break;
    case proto::Event::kArtifactRead:
      f.size = e.artifact_read().size();
      f.tier = e.artifact_read().tier();
      f.bytes_sent = e.artifact_read().bytes_sent();
      break;
    case proto::Event::kArtifactMigrated:
      f.size = segments_size(e.artifact_migrated().from());
      f.tier = e.artifact_migrated().to_tier();
      break;
    case proto::Event::kPartUploaded:
      f.size = e.part_uploaded().part().size();
      f.etag = e.part_uploaded().part().etag();
      break;
    case proto::Event::kUploadCreated:
      f.tier = e.upload_created().artifact().tier();
      break;
    case proto::Event::kRestoreRequested:
      f.tier = e.restore_requested().tier();
      break;
    default:
      break;
  }
  return f;
}

std::string number(std::optional<uint64_t> n) { return n ? std::to_string(*n) : std::string(); }

// "203.0.113.7:51234" -> "203.0.113.7": the envelope's address always ends with ":port".
std::string ip_of(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return address;
  }
  std::string ip = address.substr(0, colon);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') {
    ip = ip.substr(1, ip.size() - 2);
  }
  return ip;
}

}  // namespace

std::set<std::string> event_type_names() {
  std::set<std::string> names;
  const google::protobuf::OneofDescriptor* payload =
      proto::Event::descriptor()->FindOneofByName("payload");
  for (int i = 0; payload != nullptr && i < payload->field_count(); ++i) {
    names.insert(std::string(payload->field(i)->name()));
  }
  return names;
}

std::optional<TypeFilter> TypeFilter::parse(std::string_view list, std::string* unknown) {
  static const std::set<std::string> kNames = event_type_names();
  TypeFilter filter;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view word = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (word.empty()) {
      continue;
    }
    const std::string name = lower(word);
    const auto alias = std::find_if(std::begin(kAliases), std::end(kAliases),
                                    [&](const auto& a) { return a.first == name; });
    if (alias != std::end(kAliases)) {
      filter.aliases_ |= alias->second;
    } else if (kNames.contains(name)) {
      filter.names_.insert(name);
    } else {
      if (unknown != nullptr) {
        *unknown = std::string(word);
      }
      return std::nullopt;
    }
  }
  return filter;
}

bool TypeFilter::matches(const proto::Event& e) const {
  if (all()) {
    return true;
  }
  if (names_.contains(events::event_type_name(e))) {
    return true;
  }
  switch (e.payload_case()) {
    case proto::Event::kArtifactCommitted:
      return (aliases_ & kPut) != 0 || ((aliases_ & kCopy) != 0 && is_copy(e.artifact_committed()));
    case proto::Event::kArtifactRead:
      return (aliases_ & (e.artifact_read().head() ? kHead : kGet)) != 0;
    case proto::Event::kArtifactDeleted:
      return (aliases_ & kDelete) != 0;
    case proto::Event::kContainerListed:
      return (aliases_ & kList) != 0;
    case proto::Event::kArtifactMigrated:
      return (aliases_ & kMigrate) != 0;
    case proto::Event::kRestoreRequested:
    case proto::Event::kArtifactRestored:
    case proto::Event::kRestoreExpired:
      return (aliases_ & kRestore) != 0;
    default:
      return false;
  }
}

std::string csv_field(std::string_view value) {
  const bool quote = value.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!quote) {
    return std::string(value);
  }
  std::string out;
  out.reserve(value.size() + 2);
  out += '"';
  for (const char c : value) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string csv_header() {
  return "seq,time,tenant,container,path,type,principal,source,request_id,user_agent,size,etag,"
         "tier,bytes_sent\n";
}

std::string csv_row(const proto::Event& e) {
  const Facts f = facts_of(e);
  const std::string fields[] = {std::to_string(e.sequence()),
                                format_iso8601(e.time_unix_nanos()),
                                e.tenant(),
                                e.container(),
                                e.path(),
                                std::string(events::event_type_name(e)),
                                e.principal(),
                                e.source_address(),
                                e.request_id(),
                                e.user_agent(),
                                number(f.size),
                                f.etag,
                                f.tier,
                                number(f.bytes_sent)};
  std::string row;
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (i > 0) {
      row += ',';
    }
    row += csv_field(fields[i]);
  }
  row += '\n';
  return row;
}

std::string_view s3_event_name(const proto::Event& e) {
  switch (e.payload_case()) {
    case proto::Event::kArtifactCommitted: {
      const auto& a = e.artifact_committed();
      if (!a.completed_upload_id().empty()) {
        return "ObjectCreated:CompleteMultipartUpload";
      }
      return is_copy(a) ? "ObjectCreated:Copy" : "ObjectCreated:Put";
    }
    case proto::Event::kArtifactDeleted:
      return "ObjectRemoved:Delete";
    case proto::Event::kArtifactTagged:
      return e.artifact_tagged().tags_size() == 0 ? "ObjectTagging:Delete" : "ObjectTagging:Put";
    case proto::Event::kRestoreRequested:
      return "ObjectRestore:Post";
    case proto::Event::kArtifactRestored:
      return "ObjectRestore:Completed";
    case proto::Event::kRestoreExpired:
      return "ObjectRestore:Delete";
    case proto::Event::kArtifactMigrated:
      return "LifecycleTransition";
    default:
      return {};
  }
}

std::string s3_event_key(std::string_view path) {
  const std::string encoded = uri_encode(path, /*keep_slash=*/true);
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded.compare(i, 3, "%20") == 0) {
      out += '+';
      i += 2;
    } else {
      out += encoded[i];
    }
  }
  return out;
}

std::string storage_class_of(const StorageClasses& classes, const std::string& tier) {
  const auto found = classes.find(tier);
  return found != classes.end() ? found->second : tier;
}

std::optional<nlohmann::json> s3_event_record(const proto::Event& e, std::string_view region,
                                              const StorageClasses& classes) {
  const std::string_view name = s3_event_name(e);
  if (name.empty()) {
    return std::nullopt;
  }
  char sequencer[17];
  std::snprintf(sequencer, sizeof sequencer, "%016" PRIX64, static_cast<uint64_t>(e.sequence()));
  nlohmann::json object = {{"key", s3_event_key(e.path())}, {"sequencer", sequencer}};
  const Facts f = facts_of(e);
  if (f.size && !e.has_artifact_read()) {
    object["size"] = *f.size;
  }
  if (!f.etag.empty()) {
    object["eTag"] = f.etag;
  }
  nlohmann::json record{
      {"eventVersion", "2.1"},
      {"eventSource", "aws:s3"},
      {"awsRegion", region},
      {"eventTime", format_iso8601(e.time_unix_nanos())},
      {"eventName", name},
      {"userIdentity", {{"principalId", e.principal()}}},
      {"requestParameters", {{"sourceIPAddress", ip_of(e.source_address())}}},
      {"responseElements", {{"x-amz-request-id", e.request_id()}, {"x-amz-id-2", e.spoke_id()}}},
      {"s3",
       {{"s3SchemaVersion", "1.0"},
        {"configurationId", "vaultaire"},
        {"bucket",
         {{"name", e.container()},
          {"ownerIdentity", {{"principalId", e.tenant()}}},
          {"arn", "arn:aws:s3:::" + e.container()}}},
        {"object", std::move(object)}}}};
  if (e.has_artifact_migrated()) {
    record["lifecycleEventData"] = {
        {"transitionEventData",
         {{"destinationStorageClass",
           storage_class_of(classes, e.artifact_migrated().to_tier())}}}};
  }
  return record;
}

}  // namespace vaultaire::vaultctl
