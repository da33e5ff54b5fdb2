#pragma once

// The RocksDB instance that holds the event log and the metadata views, one column family each.
//
//   cf          key                                   value
//   log         big-endian u64 sequence               proto::Event (LZ4-compressed blocks)
//   containers  tenant \0 container                   proto::ContainerRecord
//   artifacts   tenant \0 container \0 path           proto::ArtifactRecord
//   blobs       driver \0 blob id                     proto::BlobRecord
//   meta        ascii name                            format version, consumer checkpoints
//   uploads     tenant \0 container \0 path \0 id      proto::UploadRecord (multipart in progress)
//   parts       tenant \0 container \0 id \0 BE u32    proto::PartRecord
//   tenants     tenant                                proto::TenantRecord (quotas, usage)
//   users       tenant \0 user                        proto::UserRecord
//   keys        access key id                         proto::KeyRecord (secret sealed)
//   grants      tenant \0 user \0 container           proto::GrantRecord
//
// Views are every column family but `log` and `meta`: they are a pure function of the log.
// A Store is opened read-write by the server (primary), as a secondary instance by vaultctl
// while the server runs, or fresh in a temp dir by replay.

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include "common/errors.h"

namespace vaultaire::events {

enum class Cf : int {
  kLog = 0,
  kContainers,
  kArtifacts,
  kBlobs,
  kMeta,
  kUploads,
  kParts,
  kTenants,
  kUsers,
  kKeys,
  kGrants,
  kTiering,  // the tiering actor's own state (not a view: not rebuilt by replay, not digested)
  kBilling,  // the billing actor's own state (likewise)
};
inline constexpr int kCfCount = 13;

// The view column families, in digest order.
inline constexpr std::array<Cf, 9> kViewCfs = {Cf::kContainers, Cf::kArtifacts, Cf::kBlobs,
                                               Cf::kUploads,    Cf::kParts,     Cf::kTenants,
                                               Cf::kUsers,      Cf::kKeys,      Cf::kGrants};

std::string_view cf_name(Cf cf) noexcept;

enum class OpenMode {
  kPrimary,    // read-write; creates the database if missing
  kSecondary,  // read-only follower of a running primary (catch_up() to refresh)
  kReadOnly,   // read-only snapshot of a stopped database
};

class Store {
 public:
  // `dir` holds the database. A secondary keeps its own bookkeeping in `secondary_dir`.
  [[nodiscard]] static Result<std::unique_ptr<Store>> open(
      const std::filesystem::path& dir, OpenMode mode, std::filesystem::path secondary_dir = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Cf which) const { return handles_[static_cast<int>(which)]; }
  OpenMode mode() const { return mode_; }

  // Secondary only: replays what the primary wrote since the last call.
  [[nodiscard]] Result<void> catch_up();

 private:
  Store() = default;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // indexed by Cf; owned, closed in ~Store
  std::vector<rocksdb::ColumnFamilyHandle*> extra_handles_;  // column families of newer builds
  OpenMode mode_ = OpenMode::kPrimary;
};

// Maps a RocksDB failure to our code, logging RocksDB's message with `what`.
boost::system::error_code to_error_code(const rocksdb::Status& s, std::string_view what);

}  // namespace vaultaire::events
