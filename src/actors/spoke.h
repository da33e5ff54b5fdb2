#pragma once

// The spoke: the S3 layer's way to bytes. It owns the driver instances of this process, picks
// where new blobs go, and removes blobs the hub released. Driver calls are asynchronous (blocking
// ones run on the blocking pool), so the network threads never wait on storage.

#include <map>
#include <memory>
#include <string>
#include <string_view>
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

struct SpokeOptions {
  std::string id = "local";    // recorded in every event this spoke causes
  std::string default_driver;  // where new blobs go
  std::string default_tier = "hot";
};

class Spoke final : public Actor {
 public:
  Spoke(asio::any_io_executor executor, SpokeOptions options,
        std::vector<std::unique_ptr<drivers::Driver>> drivers);

  const std::string& id() const { return options_.id; }
  const std::string& default_tier() const { return options_.default_tier; }

  // The driver new blobs are written to.
  drivers::Driver& default_driver() const;
  // The driver instance called `name`, or nullptr.
  drivers::Driver* driver(std::string_view name) const;
  const std::map<std::string, std::unique_ptr<drivers::Driver>, std::less<>>& drivers() const {
    return drivers_;
  }

  // Removes `blobs` in the background. A failure is logged; the startup sweep finds leftovers.
  void release(std::vector<proto::BlobRef> blobs);

  // Reads an artifact made of `pieces` in order (one for a plain object, one per part for a
  // multipart one), or `range` of it, opening each blob only when the read reaches it.
  // Errors: Errc::kInvalidRange, kNoSuchBlob, kDriverUnavailable (unknown driver), driver errors.
  asio::awaitable<Result<std::unique_ptr<drivers::BlobReader>>> open(
      std::vector<BlobPiece> pieces, std::optional<drivers::ByteRange> range);

 private:
  void restart() override {}
  asio::awaitable<void> handle_release(std::vector<proto::BlobRef> blobs);

  SpokeOptions options_;
  std::map<std::string, std::unique_ptr<drivers::Driver>, std::less<>> drivers_;
};

}  // namespace vaultaire::actors
