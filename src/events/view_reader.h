#pragma once

// Reads of the metadata views, for queries (S3 GET, HEAD, LIST) and for the container actors'
// precondition checks. Every call reads one consistent state: point reads see the latest
// committed batch, listings iterate an implicit snapshot. Thread-safe; never writes.

#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"
#include "events/store.h"
#include "vaultaire/hub.pb.h"
#include "vaultaire/views.pb.h"

namespace vaultaire::events {

class ViewReader {
 public:
  // `store` must outlive the reader.
  explicit ViewReader(const Store& store) : store_(store) {}

  // Errc::kNoSuchContainer when absent.
  [[nodiscard]] Result<proto::ContainerRecord> container(std::string_view tenant,
                                                         std::string_view name) const;
  // All containers of `tenant`, by name.
  [[nodiscard]] Result<proto::ContainerList> containers(std::string_view tenant) const;
  // Errc::kNoSuchArtifact when absent.
  [[nodiscard]] Result<proto::ArtifactRecord> artifact(std::string_view tenant,
                                                       std::string_view container,
                                                       std::string_view path) const;
  // True when the container holds at least one artifact.
  [[nodiscard]] Result<bool> has_artifacts(std::string_view tenant,
                                           std::string_view container) const;

  // A multipart upload in progress; Errc::kNoSuchUpload when absent (kNoSuchContainer when the
  // container is).
  [[nodiscard]] Result<proto::UploadRecord> upload(std::string_view tenant,
                                                   std::string_view container,
                                                   std::string_view path,
                                                   std::string_view upload_id) const;
  // Uploads in progress, by key then upload id (ids sort by creation time).
  [[nodiscard]] Result<proto::UploadList> list_uploads(std::string_view tenant,
                                                       std::string_view container,
                                                       const proto::ListUploads& request) const;
  // Parts of an upload by number, after `part_number_marker`; Errc::kNoSuchUpload when absent.
  [[nodiscard]] Result<proto::PartList> list_parts(std::string_view tenant,
                                                   std::string_view container,
                                                   std::string_view path,
                                                   const proto::ListParts& request) const;
  // Every upload of every container started before `before_unix_nanos` (the abandoned-upload
  // sweep): (tenant, container, path, upload id) for each.
  struct UploadRef {
    std::string tenant;
    std::string container;
    std::string path;
    std::string upload_id;
  };
  [[nodiscard]] Result<std::vector<UploadRef>> uploads_started_before(int64_t before_unix_nanos,
                                                                      size_t limit) const;

  // Identity. Errc::kNotFound when absent. A tenant's record exists once anything happened in
  // it (its usage); `created` says whether it was created by the admin API.
  [[nodiscard]] Result<proto::TenantRecord> tenant(std::string_view tenant) const;
  [[nodiscard]] Result<proto::TenantList> tenants() const;
  [[nodiscard]] Result<proto::UserRecord> user(std::string_view tenant,
                                               std::string_view user) const;
  [[nodiscard]] Result<proto::UserList> users(std::string_view tenant) const;
  [[nodiscard]] Result<proto::KeyRecord> access_key(std::string_view access_key) const;
  // Keys of one tenant, or of all tenants when `tenant` is empty.
  [[nodiscard]] Result<proto::KeyList> access_keys(std::string_view tenant) const;
  [[nodiscard]] Result<proto::GrantRecord> grant(std::string_view tenant, std::string_view user,
                                                 std::string_view container) const;
  [[nodiscard]] Result<proto::GrantList> grants(std::string_view tenant) const;

  // True when a view references the blob (the startup sweep keeps those).
  [[nodiscard]] Result<bool> blob_referenced(std::string_view driver,
                                             std::string_view blob_id) const;

  // One page of a container's artifacts in key order. With a delimiter, keys that contain it
  // after the prefix roll up into common prefixes, each counted once against max_entries.
  // `start_after` resumes after a key, or after every key of a common prefix.
  [[nodiscard]] Result<proto::ArtifactList> list(std::string_view tenant,
                                                 std::string_view container,
                                                 const proto::ListArtifacts& request) const;

 private:
  const Store& store_;
};

}  // namespace vaultaire::events
