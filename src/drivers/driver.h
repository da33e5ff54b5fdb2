#pragma once

// Where bytes live. A driver stores immutable blobs under generated ids (common/ids.h), never
// under S3 keys: an overwrite writes a new blob and the commit event switches the key to it.
//
// All operations are asynchronous and streaming. Drivers whose backing calls block (the local
// filesystem) run them on the blocking pool, so no network thread ever waits on the disk.
// Every method may be called from any executor; results resume on the caller's executor.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/async.h"
#include "common/errors.h"

namespace vaultaire::drivers {

struct BlobInfo {
  std::string id;
  uint64_t size = 0;
  int64_t modified_unix_seconds = 0;
};

// An inclusive byte range, already validated against the blob's size.
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t length() const { return last - first + 1; }
};

// One blob being written. Bytes go to a temporary place until commit() makes the blob durable
// under its id; a writer destroyed without commit() leaves nothing behind (or a temporary file
// the startup sweep removes).
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual const std::string& id() const = 0;
  // Appends `data`, which the writer owns from here on.
  virtual asio::awaitable<Result<void>> write(std::string data) = 0;
  // Makes the blob durable and visible under id(). After success the bytes survive a crash.
  virtual asio::awaitable<Result<BlobInfo>> commit() = 0;
  // Discards what was written.
  virtual asio::awaitable<void> abort() = 0;
};

// Reads one blob (or one range of it) front to back.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Bytes this reader will return in total.
  virtual uint64_t size() const = 0;
  // The next chunk, at most `max` bytes; empty once size() bytes were returned.
  virtual asio::awaitable<Result<std::string>> read(size_t max) = 0;
};

struct SweepReport {
  uint64_t examined = 0;
  uint64_t removed = 0;
  uint64_t removed_bytes = 0;
  uint64_t temp_removed = 0;
};

class Driver {
 public:
  virtual ~Driver() = default;
  // The instance name, as recorded in events ("local", "hot", ...).
  virtual const std::string& name() const = 0;

  virtual asio::awaitable<Result<std::unique_ptr<BlobWriter>>> create() = 0;
  // Errc::kNoSuchBlob when absent; Errc::kInvalidRange when the range is outside the blob.
  virtual asio::awaitable<Result<std::unique_ptr<BlobReader>>> open(
      std::string id, std::optional<ByteRange> range) = 0;
  // Removing an absent blob succeeds.
  virtual asio::awaitable<Result<void>> remove(std::string id) = 0;
  virtual asio::awaitable<Result<BlobInfo>> stat(std::string id) = 0;
  // Ok when the backing store accepts reads and writes.
  virtual asio::awaitable<Result<void>> health() = 0;

  // Removes blobs for which `referenced(id)` is false and that are older than
  // `older_than_unix_seconds`, and temporary leftovers older than that. `referenced` is called
  // from the blocking pool.
  virtual asio::awaitable<Result<SweepReport>> sweep(
      std::function<bool(std::string_view id)> referenced, int64_t older_than_unix_seconds) = 0;
};

}  // namespace vaultaire::drivers
