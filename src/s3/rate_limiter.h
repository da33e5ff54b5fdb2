#pragma once

// Per-access-key request rate limits: one token bucket per key, in memory (a restart refills
// every bucket). Thread-safe: the S3 service calls take() on every request from its network
// threads. Buckets live in 16 shards chosen by key hash, each under its own mutex held only for
// the arithmetic of one bucket, so requests of different keys rarely wait on each other.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/string_hash.h"

namespace vaultaire::s3 {

class RateLimiter {
 public:
  // `clock` (a ManualClock in tests) must outlive the limiter.
  explicit RateLimiter(const Clock& clock);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  struct Decision {
    bool allowed;
    int64_t retry_after_seconds;  // 0 when allowed; when refused, >= 1: whole seconds until
                                  // the bucket holds a token again, rounded up
  };

  // Accounts one request by `key`, limited to `rate_per_second` with bursts of `burst`.
  // A rate of 0 (or below, or not finite) means unlimited: always allowed, nothing stored.
  // A burst of 0 (or below) means max(1, rate); a burst below 1 counts as 1, so that a request
  // can ever pass. A new key starts with a full bucket. A key whose limits change uses the new
  // ones from its next request (tokens above a smaller burst are dropped; a bucket that was full
  // under the old limits and dropped by the sweep below starts full under the new ones, so a
  // change of limits may give a key up to one extra burst).
  Decision take(std::string_view key, double rate_per_second, double burst);

  // Drops the buckets of keys that made no request for longer than `idle`; returns how many.
  // A dropped key starts again with a full bucket, so `idle` should be at least the longest
  // time a bucket takes to refill (burst / rate), e.g. minutes. take() itself drops, whenever a
  // shard has doubled in size, the buckets that have refilled completely (which changes no
  // decision), so memory follows the keys in use without any caller.
  size_t forget_idle(std::chrono::nanoseconds idle);

  // How many keys have a bucket (for metrics and tests).
  size_t size() const;

 private:
  struct Bucket {
    double tokens;
    int64_t last_nanos;    // when tokens were last brought up to date: the key's last request
    int64_t refill_nanos;  // how long an empty bucket takes to fill up at the current limits
  };

  // Shards sit on separate cache lines so that their mutexes do not contend through sharing.
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Bucket, StringHash, std::equal_to<>> buckets;  // under mutex
    size_t sweep_at = kFirstSweep;  // under mutex: the size at which full buckets are dropped
  };

  static constexpr size_t kShards = 16;
  static constexpr size_t kFirstSweep = 1024;

  Shard& shard_of(std::string_view key) { return shards_[StringHash{}(key) % kShards]; }

  const Clock& clock_;
  std::array<Shard, kShards> shards_;
};

}  // namespace vaultaire::s3
