#include "s3/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace vaultaire::s3 {
namespace {

// Tokens are doubles; a refill that should land on a whole token may fall short of it by a
// rounding error, which must not cost the client a second.
constexpr double kEpsilon = 1e-9;

// A refused client is never told to wait longer than a day (a tiny rate would say years).
constexpr double kMaxRetryAfterSeconds = 86'400;

}  // namespace

RateLimiter::RateLimiter(const Clock& clock) : clock_(clock) {}

RateLimiter::Decision RateLimiter::take(std::string_view key, double rate_per_second,
                                        double burst) {
  if (!(rate_per_second > 0) || !std::isfinite(rate_per_second)) {
    return {true, 0};
  }
  if (!(burst > 0) || !std::isfinite(burst)) {
    burst = rate_per_second;
  }
  burst = std::max(burst, 1.0);
  // Read before locking: the lock is held for the arithmetic only.
  const int64_t now = clock_.now_unix_nanos();

  // Capped at about 30 years, so that a tiny rate cannot overflow it.
  const auto refill_nanos = static_cast<int64_t>(
      std::min(std::ceil(burst * static_cast<double>(kNanosPerSecond) / rate_per_second), 1e18));

  Shard& shard = shard_of(key);
  const std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= shard.sweep_at) {
      // A bucket idle for its whole refill time is full: dropping it changes nothing, since a
      // new key starts full too.
      std::erase_if(shard.buckets, [now](const auto& entry) {
        return now - entry.second.last_nanos >= entry.second.refill_nanos;
      });
      shard.sweep_at = std::max(kFirstSweep, 2 * shard.buckets.size());
    }
    it = shard.buckets.emplace(std::string(key), Bucket{burst, now, refill_nanos}).first;
  }
  Bucket& bucket = it->second;
  bucket.refill_nanos = refill_nanos;
  if (now > bucket.last_nanos) {
    // Multiplying before dividing keeps whole refills exact (100 ms at 10/s is one token).
    bucket.tokens += static_cast<double>(now - bucket.last_nanos) * rate_per_second /
                     static_cast<double>(kNanosPerSecond);
  }
  // Also when the clock went back (a wall clock set back, or another thread that read it
  // earlier but locked later): no refill then, and the bucket is not frozen until the clock
  // catches up again.
  bucket.last_nanos = now;
  bucket.tokens = std::min(bucket.tokens, burst);
  if (bucket.tokens + kEpsilon >= 1.0) {
    bucket.tokens = std::max(bucket.tokens - 1.0, 0.0);
    return {true, 0};
  }
  const double wait = (1.0 - bucket.tokens) / rate_per_second;
  const double seconds = std::clamp(std::ceil(wait - kEpsilon), 1.0, kMaxRetryAfterSeconds);
  return {false, static_cast<int64_t>(seconds)};
}

size_t RateLimiter::forget_idle(std::chrono::nanoseconds idle) {
  const int64_t now = clock_.now_unix_nanos();
  size_t dropped = 0;
  for (Shard& shard : shards_) {
    const std::lock_guard lock(shard.mutex);
    dropped += std::erase_if(shard.buckets, [&](const auto& entry) {
      return now - entry.second.last_nanos > idle.count();
    });
  }
  return dropped;
}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    const std::lock_guard lock(shard.mutex);
    n += shard.buckets.size();
  }
  return n;
}

}  // namespace vaultaire::s3
