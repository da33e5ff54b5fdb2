#pragma once

// The `local` driver: blobs as files under a root folder.
//
//   <root>/blobs/<abc>/<id>    a committed blob; abc = the id's last three hex digits (4096
//                              folders, made at open, so no folder grows past a few thousand
//                              entries per ten million blobs)
//   <root>/tmp/<id>.tmp        a blob being written
//
// A write goes to the temporary file; commit() fsyncs it, renames it into place and fsyncs the
// folder, so a committed blob survives a crash and a partial one is never visible. Small blobs
// are buffered and written in the same blocking call as the commit, so a 4 KiB PUT costs one
// trip to the blocking pool.
//
// Reads never block the calling thread either, without paying a thread hop when the data is in
// memory: blobs are immutable, so open descriptors are kept in a small cache, and a read first
// tries preadv2(RWF_NOWAIT), which returns only what the page cache holds. Whatever would wait
// for the disk (an open of an uncached blob, a read of uncached bytes) goes to the blocking pool.

#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "drivers/driver.h"

namespace vaultaire::drivers {

struct LocalDriverOptions {
  std::string name = "local";
  std::filesystem::path root;
  bool sync = true;               // fsync on commit; off only in benchmarks of the overhead
  size_t open_blob_cache = 8192;  // descriptors of recently read blobs kept open
};

namespace internal {
struct OpenBlob;
class OpenBlobCache;
}  // namespace internal

class LocalDriver final : public Driver {
 public:
  // Creates the folder layout if missing. Fails with Errc::kIo when the root is unusable.
  [[nodiscard]] static Result<std::unique_ptr<LocalDriver>> create(LocalDriverOptions options,
                                                                   const Clock& clock);

  const std::string& name() const override { return options_.name; }
  asio::awaitable<Result<std::unique_ptr<BlobWriter>>> create() override;
  asio::awaitable<Result<std::unique_ptr<BlobReader>>> open(
      std::string id, std::optional<ByteRange> range) override;
  asio::awaitable<Result<void>> remove(std::string id) override;
  asio::awaitable<Result<BlobInfo>> stat(std::string id) override;
  asio::awaitable<Result<void>> health() override;
  asio::awaitable<Result<SweepReport>> sweep(std::function<bool(std::string_view id)> referenced,
                                             int64_t older_than_unix_seconds) override;

  // The file a committed blob lives in (for tests and tools).
  std::filesystem::path blob_path(std::string_view id) const;
  std::filesystem::path temp_path(std::string_view id) const;
  const LocalDriverOptions& options() const { return options_; }
  const Clock& clock() const { return clock_; }

 private:
  LocalDriver(LocalDriverOptions options, const Clock& clock);

 public:
  ~LocalDriver() override;

 private:
  const LocalDriverOptions options_;
  const Clock& clock_;
  std::unique_ptr<internal::OpenBlobCache> open_blobs_;
};

}  // namespace vaultaire::drivers
