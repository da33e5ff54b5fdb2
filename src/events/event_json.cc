#include "events/event_json.h"

#include <numeric>

#include "common/time_format.h"
#include "events/event_log.h"

namespace vaultaire::events {

namespace {
nlohmann::json tags_json(const google::protobuf::RepeatedPtrField<proto::Tag>& tags) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& t : tags) {
    out[t.key()] = t.value();
  }
  return out;
}
}  // namespace

nlohmann::json event_to_json(const proto::Event& e) {
  nlohmann::json j;
  j["sequence"] = e.sequence();
  j["time"] = format_iso8601(e.time_unix_nanos());
  j["time_unix_nanos"] = e.time_unix_nanos();
  j["type"] = std::string(event_type_name(e));
  j["tenant"] = e.tenant();
  j["container"] = e.container();
  j["path"] = e.path();
  j["request_id"] = e.request_id();
  j["principal"] = e.principal();
  j["source_address"] = e.source_address();
  j["user_agent"] = e.user_agent();
  j["spoke_id"] = e.spoke_id();
  nlohmann::json p = nlohmann::json::object();
  switch (e.payload_case()) {
    case proto::Event::kContainerCreated:
      p["region"] = e.container_created().region();
      break;
    case proto::Event::kArtifactCommitted: {
      const auto& a = e.artifact_committed();
      // A multipart object's size is its segments'.
      p["size"] =
          a.segments_size() == 0
              ? a.size()
              : std::accumulate(a.segments().begin(), a.segments().end(), uint64_t{0},
                                [](uint64_t n, const proto::Segment& s) { return n + s.size(); });
      p["etag"] = a.etag();
      p["content_type"] = a.content_type();
      p["blob_id"] = a.blob_id();
      p["driver"] = a.driver();
      p["tier"] = a.tier();
      nlohmann::json meta = nlohmann::json::object();
      for (const auto& m : a.user_metadata()) {
        meta[m.key()] = m.value();
      }
      p["user_metadata"] = std::move(meta);
      p["tags"] = tags_json(a.tags());
      if (a.segments_size() > 0) {
        nlohmann::json segments = nlohmann::json::array();
        for (const auto& seg : a.segments()) {
          segments.push_back({{"blob_id", seg.blob_id()},
                              {"driver", seg.driver()},
                              {"size", seg.size()},
                              {"etag", seg.etag()}});
        }
        p["segments"] = std::move(segments);
      }
      if (!a.completed_upload_id().empty()) {
        p["completed_upload_id"] = a.completed_upload_id();
      }
      if (!a.copy_source().empty()) {
        p["copy_source"] = a.copy_source();
      }
      if (a.shares_blobs()) {
        p["shares_blobs"] = true;
      }
      for (const auto& c : a.checksums()) {
        p["checksums"][c.algorithm()] = c.value();
      }
      break;
    }
    case proto::Event::kArtifactTagged:
      p["tags"] = tags_json(e.artifact_tagged().tags());
      break;
    case proto::Event::kUploadCreated:
      p["upload_id"] = e.upload_created().upload_id();
      p["tier"] = e.upload_created().artifact().tier();
      p["checksum_algorithm"] = e.upload_created().checksum_algorithm();
      break;
    case proto::Event::kPartUploaded: {
      const auto& part = e.part_uploaded();
      p["upload_id"] = part.upload_id();
      p["part_number"] = part.part_number();
      p["size"] = part.part().size();
      p["etag"] = part.part().etag();
      p["blob_id"] = part.part().blob_id();
      break;
    }
    case proto::Event::kUploadAborted:
      p["upload_id"] = e.upload_aborted().upload_id();
      p["reason"] = e.upload_aborted().reason();
      break;
    case proto::Event::kTenantCreated:
    case proto::Event::kTenantQuotasChanged: {
      const proto::Quotas& q =
          e.has_tenant_created() ? e.tenant_created().quotas() : e.tenant_quotas_changed().quotas();
      p["quotas"] = {{"max_bytes", q.max_bytes()},
                     {"max_objects", q.max_objects()},
                     {"max_buckets", q.max_buckets()}};
      break;
    }
    case proto::Event::kUserCreated:
      p["user"] = e.user_created().user();
      p["role"] = e.user_created().role();
      break;
    case proto::Event::kUserDeleted:
      p["user"] = e.user_deleted().user();
      break;
    case proto::Event::kAccessKeyCreated:
      // The sealed secret stays out of exports: only the master key id is shown.
      p["access_key"] = e.access_key_created().access_key();
      p["user"] = e.access_key_created().user();
      p["master_key_id"] = e.access_key_created().secret().key_id();
      break;
    case proto::Event::kAccessKeyChanged:
      p["access_key"] = e.access_key_changed().access_key();
      if (e.access_key_changed().has_enabled()) {
        p["enabled"] = e.access_key_changed().enabled();
      }
      break;
    case proto::Event::kAccessKeyDeleted:
      p["access_key"] = e.access_key_deleted().access_key();
      break;
    case proto::Event::kGrantChanged:
      p["user"] = e.grant_changed().user();
      p["read"] = e.grant_changed().read();
      p["write"] = e.grant_changed().write();
      break;
    case proto::Event::kContainerAclChanged:
      p["acl"] = e.container_acl_changed().acl();
      break;
    case proto::Event::kAccessDenied:
      p["action"] = e.access_denied().action();
      p["resource"] = e.access_denied().resource();
      p["reason"] = e.access_denied().reason();
      break;
    case proto::Event::kSecretsReencrypted:
      p["master_key_id"] = e.secrets_reencrypted().key_id();
      p["keys"] = e.secrets_reencrypted().secrets_size();
      break;
    case proto::Event::kArtifactRead: {
      const auto& r = e.artifact_read();
      p["bytes_sent"] = r.bytes_sent();
      p["size"] = r.size();
      p["tier"] = r.tier();
      if (r.head()) {
        p["head"] = true;
      }
      if (r.ranged()) {
        p["range_first"] = r.range_first();
        p["range_last"] = r.range_last();
      }
      break;
    }
    case proto::Event::kArtifactMigrated: {
      const auto& m = e.artifact_migrated();
      p["from_tier"] = m.from_tier();
      p["to_tier"] = m.to_tier();
      p["size"] = std::accumulate(m.from().begin(), m.from().end(), uint64_t{0},
                                  [](uint64_t n, const proto::Segment& s) { return n + s.size(); });
      p["driver"] = m.driver();
      if (m.segments_size() > 0) {
        p["segments"] = m.segments_size();
      } else {
        p["blob_id"] = m.blob_id();
      }
      p["policy"] = m.policy();
      p["reason"] = m.reason();
      break;
    }
    case proto::Event::kContainerListed:
      p["operation"] = e.container_listed().operation();
      p["prefix"] = e.container_listed().prefix();
      p["entries"] = e.container_listed().entries();
      break;
    case proto::Event::kRestoreRequested:
      p["days"] = e.restore_requested().days();
      p["tier"] = e.restore_requested().tier();
      break;
    case proto::Event::kArtifactRestored:
      p["driver"] = e.artifact_restored().driver();
      if (e.artifact_restored().segments_size() > 0) {
        p["segments"] = e.artifact_restored().segments_size();
      } else {
        p["blob_id"] = e.artifact_restored().blob_id();
      }
      break;
    case proto::Event::kTenantDeleted:
    case proto::Event::kContainerDeleted:
    case proto::Event::kArtifactDeleted:
      break;
    case proto::Event::kRestoreExpired:
      if (e.restore_expired().expired_before_unix_nanos() != 0) {
        p["expired_before"] = format_iso8601(e.restore_expired().expired_before_unix_nanos());
      }
      break;
    case proto::Event::PAYLOAD_NOT_SET:
      break;
  }
  j["payload"] = std::move(p);
  return j;
}

}  // namespace vaultaire::events
