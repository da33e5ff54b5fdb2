#pragma once

// The `s3` driver: blobs as objects of a bucket of any S3-compatible service (AWS, Backblaze B2,
// Wasabi, Lyve, GCS interop, Ceph, MinIO, another Vaultaire), under `prefix` + blob id: never
// under an S3 key of ours.
//
// - SigV4 signing of our own (common/sigv4.h), payloads UNSIGNED-PAYLOAD with an
//   x-amz-checksum-crc32c the service verifies.
// - A pool of kept-alive connections (Boost.Beast), at most max_connections at once.
// - Streaming both ways in bounded memory: a blob is buffered up to part_size; a larger one
//   becomes a multipart upload of part_size parts as it is written. Reads stream a GET (with a
//   Range for a range) and resume from where they stopped when the connection breaks.
// - Retries with exponential backoff and full jitter on connection errors, timeouts, 5xx and
//   503 SlowDown, for every request (each is idempotent: a blob id is never reused).
// - x-amz-storage-class per tier; health() is a HEAD of the bucket.

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "common/clock.h"
#include "drivers/driver.h"

namespace vaultaire::drivers {

struct S3DriverOptions {
  std::string name;      // the driver instance, as recorded in events
  std::string endpoint;  // http://host:port
  std::string bucket;
  std::string prefix = "vaultaire/blobs/";
  std::string access_key;
  std::string secret_key;
  std::string region = "us-east-1";
  std::string storage_class;  // sent as x-amz-storage-class when set
  size_t max_connections = 16;
  size_t part_size = 8 << 20;  // buffered per writer; above it, multipart
  int max_attempts = 5;
  std::chrono::milliseconds base_backoff{50};
  std::chrono::milliseconds max_backoff{2000};
  std::chrono::seconds timeout{60};  // any single request
};

namespace internal {
class S3Client;
}

class S3Driver final : public Driver {
 public:
  // Requests run on `executor`. Fails with Errc::kInvalidArgument on a malformed endpoint.
  [[nodiscard]] static Result<std::unique_ptr<S3Driver>> create(asio::any_io_executor executor,
                                                                S3DriverOptions options,
                                                                const Clock& clock);
  ~S3Driver() override;

  const std::string& name() const override;
  asio::awaitable<Result<std::unique_ptr<BlobWriter>>> create() override;
  asio::awaitable<Result<std::unique_ptr<BlobReader>>> open(
      std::string id, std::optional<ByteRange> range) override;
  asio::awaitable<Result<void>> remove(std::string id) override;
  asio::awaitable<Result<BlobInfo>> stat(std::string id) override;
  asio::awaitable<Result<void>> health() override;
  asio::awaitable<Result<SweepReport>> sweep(std::function<bool(std::string_view id)> referenced,
                                             int64_t older_than_unix_seconds) override;

  // Requests sent, including retries (for tests and metrics).
  uint64_t requests_sent() const;

 private:
  explicit S3Driver(std::shared_ptr<internal::S3Client> client);
  // Shared: a writer dropped without commit or abort aborts its upload in the background, and
  // that request keeps the client alive after the driver has gone.
  std::shared_ptr<internal::S3Client> client_;
};

}  // namespace vaultaire::drivers
