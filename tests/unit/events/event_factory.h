#pragma once

// Builders for the events tests append: short, explicit, one per payload type.

#include <string>

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

}  // namespace vaultaire::testing
