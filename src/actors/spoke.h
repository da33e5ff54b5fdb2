#pragma once

// The spoke: the S3 layer's way to bytes. It owns the driver instances of this process, picks
// where new blobs go, and removes blobs the hub released. Driver calls are asynchronous (blocking
// ones run on the blocking pool), so the network threads never wait on storage.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/runtime.h"
#include "drivers/driver.h"
#include "vaultaire/hub.pb.h"

namespace vaultaire::actors {

// A run of an artifact's bytes held by one blob.
struct BlobPiece {
  std::string driver;
  std::string blob_id;
  uint64_t size = 0;
};

// A tier as the spoke serves it: which driver holds its blobs, the storage classes S3 clients
// name it by, and whether its reads need a restore first. Prices live with the tiering actor.
struct TierInfo {
  std::string name;
  std::string driver;
  std::vector<std::string> storage_classes;  // the first is the one reported
  bool instant = true;
};

struct SpokeOptions {
  std::string id = "local";  // recorded in every event this spoke causes
  // Hottest first; new blobs go to the first unless a storage class picks another. Empty: one
  // tier "hot" (STANDARD) on the first driver.
  std::vector<TierInfo> tiers;
  // A released blob is removed this long after its release, and not while a read that opened
  // it is still going: a GET that looked the artifact up just before an overwrite, a delete
  // or a move committed still reads every byte of the version it started.
  std::chrono::milliseconds release_delay{2000};
};

class Spoke final : public Actor {
 public:
  Spoke(asio::any_io_executor executor, SpokeOptions options,
        std::vector<std::unique_ptr<drivers::Driver>> drivers);

  const std::string& id() const { return options_.id; }
  const std::string& default_tier() const { return options_.tiers.front().name; }
  const std::vector<TierInfo>& tiers() const { return options_.tiers; }
  // The tier called `name`, or nullptr.
  const TierInfo* tier(std::string_view name) const;
  // The tier S3 clients call `storage_class`, or nullptr.
  const TierInfo* tier_of_class(std::string_view storage_class) const;
  // What S3 clients see as the storage class of an artifact on `tier` (STANDARD for a tier
  // this spoke does not know, such as one a configuration change removed).
  std::string_view storage_class(std::string_view tier) const;
  // Whether reads of an artifact on `tier` need a restore first.
  bool needs_restore(std::string_view tier) const;

  // The driver new blobs are written to.
  drivers::Driver& default_driver() const;
  // The driver of `tier`.
  drivers::Driver& driver_of(const TierInfo& tier) const;
  // The driver instance called `name`, or nullptr.
  drivers::Driver* driver(std::string_view name) const;
  const std::map<std::string, std::unique_ptr<drivers::Driver>, std::less<>>& drivers() const {
    return drivers_;
  }

  // Removes `blobs` in the background, release_delay from now and once no read holds them. A
  // failure (or a crash first) leaves them to the startup sweep.
  void release(std::vector<proto::BlobRef> blobs);

  // Reads an artifact made of `pieces` in order (one for a plain object, one per part for a
  // multipart one), or `range` of it, opening each blob only when the read reaches it. The
  // reader holds every piece against release until it is destroyed.
  // Errors: Errc::kInvalidRange, kNoSuchBlob, kDriverUnavailable (unknown driver), driver errors.
  asio::awaitable<Result<std::unique_ptr<drivers::BlobReader>>> open(
      std::vector<BlobPiece> pieces, std::optional<drivers::ByteRange> range);

  // Blobs a reader holds: release() waits for them. Thread-safe.
  void hold(const std::vector<BlobPiece>& pieces);
  void unhold(const std::vector<BlobPiece>& pieces);

 private:
  void restart() override {}
  asio::awaitable<void> handle_release(std::vector<proto::BlobRef> blobs);
  asio::awaitable<void> remove_blob(const proto::BlobRef& blob);
  asio::awaitable<Result<std::unique_ptr<drivers::BlobReader>>> open_pieces(
      std::vector<BlobPiece> pieces, std::optional<drivers::ByteRange> range);
  bool held(const proto::BlobRef& blob) const;

  SpokeOptions options_;
  mutable std::mutex held_mu_;
  std::unordered_map<std::string, uint32_t> held_;  // driver \0 blob id -> readers
  std::map<std::string, std::unique_ptr<drivers::Driver>, std::less<>> drivers_;
};

}  // namespace vaultaire::actors
