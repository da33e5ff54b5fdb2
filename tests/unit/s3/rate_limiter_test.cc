#include "s3/rate_limiter.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"

namespace vaultaire::s3 {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kStart = 1'790'000'000 * kNanosPerSecond;

class RateLimiterTest : public ::testing::Test {
 protected:
  // How many of `n` requests by `key` pass, the clock standing still.
  int allowed_of(std::string_view key, int n, double rate, double burst) {
    int allowed = 0;
    for (int i = 0; i < n; ++i) {
      allowed += limiter_.take(key, rate, burst).allowed ? 1 : 0;
    }
    return allowed;
  }

  ManualClock clock_{kStart};
  RateLimiter limiter_{clock_};
};

TEST_F(RateLimiterTest, BurstIsAllowedThenRefused) {
  for (int i = 0; i < 5; ++i) {
    const RateLimiter::Decision d = limiter_.take("VKA", 1, 5);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.retry_after_seconds, 0);
  }
  const RateLimiter::Decision refused = limiter_.take("VKA", 1, 5);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1);
  // Refused requests take nothing and give nothing back.
  EXPECT_EQ(allowed_of("VKA", 10, 1, 5), 0);
}

TEST_F(RateLimiterTest, ZeroBurstMeansTheRateAndAtLeastOne) {
  EXPECT_EQ(allowed_of("VKA", 50, 20, 0), 20);
  EXPECT_EQ(allowed_of("VKB", 50, 0.5, 0), 1);
  EXPECT_EQ(allowed_of("VKC", 50, 10, 0.25), 1);  // a burst below one still lets one through
}

TEST_F(RateLimiterTest, RefillsAtTheRate) {
  EXPECT_EQ(allowed_of("VKA", 20, 10, 10), 10);
  clock_.advance(milliseconds(100));  // one token at 10/s
  EXPECT_EQ(allowed_of("VKA", 5, 10, 10), 1);
  clock_.advance(milliseconds(350));  // three and a half
  EXPECT_EQ(allowed_of("VKA", 5, 10, 10), 3);
  clock_.advance(milliseconds(50));  // the half left over and this half make one
  EXPECT_EQ(allowed_of("VKA", 5, 10, 10), 1);
  clock_.advance(seconds(3600));  // never more than the burst
  EXPECT_EQ(allowed_of("VKA", 50, 10, 10), 10);
}

TEST_F(RateLimiterTest, RetryAfterIsTheSecondsToTheNextTokenRoundedUp) {
  // 0.2/s: a token every five seconds.
  ASSERT_TRUE(limiter_.take("VKA", 0.2, 1).allowed);
  EXPECT_EQ(limiter_.take("VKA", 0.2, 1).retry_after_seconds, 5);
  clock_.advance(milliseconds(1500));
  EXPECT_EQ(limiter_.take("VKA", 0.2, 1).retry_after_seconds, 4);  // 3.5 s, rounded up
  clock_.advance(milliseconds(3000));
  EXPECT_EQ(limiter_.take("VKA", 0.2, 1).retry_after_seconds, 1);  // 0.5 s: at least one
  clock_.advance(milliseconds(500));
  EXPECT_TRUE(limiter_.take("VKA", 0.2, 1).allowed);

  // A fast rate still says at least one second.
  EXPECT_EQ(allowed_of("VKB", 200, 100, 100), 100);
  const RateLimiter::Decision d = limiter_.take("VKB", 100, 100);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 1);
}

TEST_F(RateLimiterTest, ZeroRateIsUnlimitedAndStoresNothing) {
  EXPECT_EQ(allowed_of("VKA", 10'000, 0, 0), 10'000);
  EXPECT_EQ(allowed_of("VKA", 100, 0, 5), 100);
  EXPECT_EQ(allowed_of("VKA", 100, -1, 5), 100);
  EXPECT_EQ(limiter_.size(), 0u);
}

TEST_F(RateLimiterTest, KeysAreIndependent) {
  EXPECT_EQ(allowed_of("VKA", 10, 1, 3), 3);
  EXPECT_EQ(allowed_of("VKB", 10, 1, 3), 3);
  EXPECT_EQ(allowed_of("VKC", 10, 1, 7), 7);
  EXPECT_EQ(limiter_.size(), 3u);
}

TEST_F(RateLimiterTest, ChangedLimitsApplyFromTheNextRequest) {
  EXPECT_EQ(allowed_of("VKA", 10, 1, 10), 10);
  // Raised: the bucket refills at the new rate.
  clock_.advance(seconds(1));
  EXPECT_EQ(allowed_of("VKA", 20, 5, 10), 5);
  // Lowered: tokens above the new burst are dropped.
  clock_.advance(seconds(10));
  EXPECT_EQ(allowed_of("VKA", 20, 1, 2), 2);
  // Made unlimited, then limited again: the bucket carries on.
  EXPECT_EQ(allowed_of("VKA", 20, 0, 0), 20);
  EXPECT_EQ(allowed_of("VKA", 20, 1, 2), 0);
}

TEST_F(RateLimiterTest, ClockGoingBackDoesNotFreezeABucket) {
  EXPECT_EQ(allowed_of("VKA", 10, 1, 1), 1);
  clock_.set(kStart - 3600 * kNanosPerSecond);  // the wall clock was set back an hour
  EXPECT_EQ(allowed_of("VKA", 10, 1, 1), 0);
  clock_.advance(seconds(1));
  EXPECT_EQ(allowed_of("VKA", 10, 1, 1), 1);
}

TEST_F(RateLimiterTest, ForgetIdleDropsOnlyIdleBuckets) {
  EXPECT_EQ(allowed_of("VKA", 5, 1, 5), 5);
  clock_.advance(seconds(30));
  EXPECT_EQ(allowed_of("VKB", 1, 1, 5), 1);
  clock_.advance(seconds(31));
  EXPECT_EQ(limiter_.forget_idle(seconds(60)), 1u);  // VKA: 61 s idle; VKB: 31 s
  EXPECT_EQ(limiter_.size(), 1u);
  EXPECT_EQ(limiter_.forget_idle(seconds(60)), 0u);
  // A refused request counts as activity too.
  EXPECT_EQ(allowed_of("VKB", 10, 1, 5), 5);
  clock_.advance(seconds(59));
  EXPECT_EQ(limiter_.forget_idle(seconds(60)), 0u);
  clock_.advance(seconds(2));
  EXPECT_EQ(limiter_.forget_idle(seconds(60)), 1u);
  EXPECT_EQ(limiter_.size(), 0u);
  // A forgotten key starts again with a full bucket.
  EXPECT_EQ(allowed_of("VKA", 10, 1, 5), 5);
}

TEST_F(RateLimiterTest, ManyKeysKeepOnlyBucketsThatAreNotFull) {
  // One key drained, then 100,000 one-off keys over a long time: memory must follow the keys
  // that still matter, and the drained key must stay drained until it has refilled.
  EXPECT_EQ(allowed_of("VKDRAINED", 10, 0.001, 5), 5);  // 5 tokens take 5,000 s to come back
  for (int i = 0; i < 100'000; ++i) {
    EXPECT_TRUE(limiter_.take("VK" + std::to_string(i), 10, 10).allowed);  // full after 1 s
    clock_.advance(milliseconds(10));
  }
  // 1,000 s have passed: only the keys of the last second are not yet full again, plus the
  // drained key, plus whatever arrived since a shard's last sweep.
  EXPECT_LT(limiter_.size(), 16u * 2 * 1024 + 1) << "buckets were never dropped";
  EXPECT_EQ(allowed_of("VKDRAINED", 10, 0.001, 5), 1) << "a bucket not yet full was dropped";
}

TEST_F(RateLimiterTest, ConcurrentRequestsAllowExactlyTheBurst) {
  constexpr int kThreads = 8;
  constexpr int kRequests = 2000;
  constexpr double kBurst = 500;
  std::atomic<int> shared_allowed{0};
  std::vector<int> own_allowed(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string own = "VKOWN" + std::to_string(t);
      int own_count = 0;
      for (int i = 0; i < kRequests; ++i) {
        if (limiter_.take("VKSHARED", 1, kBurst).allowed) {
          shared_allowed.fetch_add(1);
        }
        own_count += limiter_.take(own, 1, kBurst).allowed ? 1 : 0;
        // Also contend on keys of every shard, each taken by every thread once per round.
        limiter_.take("VKROUND" + std::to_string(i % 64), 1, 1e9);
      }
      own_allowed[t] = own_count;
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(shared_allowed.load(), static_cast<int>(kBurst));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(own_allowed[t], static_cast<int>(kBurst)) << "thread " << t;
  }
  EXPECT_EQ(limiter_.size(), 1u + kThreads + 64u);
}

}  // namespace
}  // namespace vaultaire::s3
