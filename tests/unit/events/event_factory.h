#pragma once

// Builders for the events tests append: short, explicit, one per payload type.

#include <cstdint>
#include <string>
#include <vector>

#include "vaultaire/events.pb.h"

namespace vaultaire::testing {

inline proto::Event container_created(const std::string& container,
                                      const std::string& tenant = "t1") {
  proto::Event e;
  e.set_tenant(tenant);
  e.set_container(container);
  e.mutable_container_created()->set_region("us-east-1");
  return e;
}

inline proto::Event container_deleted(const std::string& container,
                                      const std::string& tenant = "t1") {
  proto::Event e;
  e.set_tenant(tenant);
  e.set_container(container);
  e.mutable_container_deleted();
  return e;
}

inline proto::Event committed(const std::string& path, const std::string& blob = "",
                              uint64_t size = 100, const std::string& container = "bucket",
                              const std::string& tenant = "t1") {
  proto::Event e;
  e.set_tenant(tenant);
  e.set_container(container);
  e.set_path(path);
  auto* put = e.mutable_artifact_committed();
  put->set_size(size);
  put->set_etag("etag-" + path);
  put->set_content_type("text/plain");
  put->set_blob_id(blob.empty() ? "blob-" + path : blob);
  put->set_driver("local");
  put->set_tier("hot");
  auto* meta = put->add_user_metadata();
  meta->set_key("owner");
  meta->set_value("tests");
  return e;
}

inline proto::Event deleted(const std::string& path, const std::string& container = "bucket",
                            const std::string& tenant = "t1") {
  proto::Event e;
  e.set_tenant(tenant);
  e.set_container(container);
  e.set_path(path);
  e.mutable_artifact_deleted();
  return e;
}

inline proto::Event read(const std::string& path, const std::string& container = "bucket") {
  proto::Event e;
  e.set_tenant("t1");
  e.set_container(container);
  e.set_path(path);
  e.mutable_artifact_read()->set_bytes_sent(10);
  return e;
}

// One blob of an artifact as events list it (a part, a migration's or a restore's `from`).
inline proto::Segment segment(const std::string& blob, uint64_t size,
                              const std::string& driver = "local", const std::string& etag = "") {
  proto::Segment s;
  s.set_blob_id(blob);
  s.set_driver(driver);
  s.set_size(size);
  s.set_etag(etag);
  return s;
}

// A multipart artifact made of `segments` (as a completed upload commits it, without the upload).
inline proto::Event multipart_committed(const std::string& path,
                                        const std::vector<proto::Segment>& segments,
                                        const std::string& container = "bucket") {
  proto::Event e = committed(path, "", 0, container);
  auto* put = e.mutable_artifact_committed();
  put->clear_blob_id();
  put->clear_driver();
  put->set_etag("etag-" + path + "-" + std::to_string(segments.size()));
  uint64_t size = 0;
  for (const proto::Segment& s : segments) {
    *put->add_segments() = s;
    size += s.size();
  }
  put->set_size(size);
  return e;
}

// Tiering moved a single-blob artifact from the blobs `from` to `blob` on `driver`.
inline proto::Event migrated(const std::string& path, const std::vector<proto::Segment>& from,
                             const std::string& blob, const std::string& driver = "cold",
                             const std::string& from_tier = "hot",
                             const std::string& to_tier = "cold",
                             const std::string& container = "bucket") {
  proto::Event e;
  e.set_tenant("t1");
  e.set_container(container);
  e.set_path(path);
  auto* m = e.mutable_artifact_migrated();
  m->set_from_tier(from_tier);
  m->set_to_tier(to_tier);
  for (const proto::Segment& s : from) {
    *m->add_from() = s;
  }
  m->set_driver(driver);
  m->set_blob_id(blob);
  m->set_policy("age");
  m->set_reason("tests");
  return e;
}

// Tiering moved a multipart artifact from the blobs `from` to the segments `to`.
inline proto::Event migrated_segments(const std::string& path,
                                      const std::vector<proto::Segment>& from,
                                      const std::vector<proto::Segment>& to,
                                      const std::string& from_tier = "hot",
                                      const std::string& to_tier = "cold",
                                      const std::string& container = "bucket") {
  proto::Event e = migrated(path, from, "", "", from_tier, to_tier, container);
  auto* m = e.mutable_artifact_migrated();
  if (!to.empty()) {
    m->set_driver(to.front().driver());
  }
  for (const proto::Segment& s : to) {
    *m->add_segments() = s;
  }
  return e;
}

inline proto::Event restore_requested(const std::string& path, uint32_t days,
                                      const std::string& tier = "frozen",
                                      const std::string& container = "bucket") {
  proto::Event e;
  e.set_tenant("t1");
  e.set_container(container);
  e.set_path(path);
  e.mutable_restore_requested()->set_days(days);
  e.mutable_restore_requested()->set_tier(tier);
  return e;
}

// The temporary copy of a single-blob artifact (made from `from`) is `blob` on `driver`.
inline proto::Event restored(const std::string& path, const std::vector<proto::Segment>& from,
                             const std::string& blob, const std::string& driver = "local",
                             const std::string& container = "bucket") {
  proto::Event e;
  e.set_tenant("t1");
  e.set_container(container);
  e.set_path(path);
  auto* r = e.mutable_artifact_restored();
  r->set_driver(driver);
  r->set_blob_id(blob);
  for (const proto::Segment& s : from) {
    *r->add_from() = s;
  }
  return e;
}

// The temporary copies of a multipart artifact's segments (made from `from`) are `copies`.
inline proto::Event restored_segments(const std::string& path,
                                      const std::vector<proto::Segment>& from,
                                      const std::vector<proto::Segment>& copies,
                                      const std::string& container = "bucket") {
  proto::Event e = restored(path, from, "", "", container);
  auto* r = e.mutable_artifact_restored();
  if (!copies.empty()) {
    r->set_driver(copies.front().driver());
  }
  for (const proto::Segment& s : copies) {
    *r->add_segments() = s;
  }
  return e;
}

inline proto::Event restore_expired(const std::string& path,
                                    const std::string& container = "bucket") {
  proto::Event e;
  e.set_tenant("t1");
  e.set_container(container);
  e.set_path(path);
  e.mutable_restore_expired();
  return e;
}

}  // namespace vaultaire::testing
