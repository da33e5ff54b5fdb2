#include "tiering/intelligent_tiering.h"

#include <gtest/gtest.h>

#include "tiering/policy.h"
#include "tiering/tier.h"

namespace vaultaire::tiering {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

ObjectState written(int64_t day, uint64_t size = 10 * kMiB) {
  ObjectState o;
  o.key = "data/a";
  o.prefix = "data/";
  o.size = size;
  o.created_day = day;
  o.tier = "hot";
  o.tier_since_day = day;
  return o;
}

void run_days(Policy& policy, ObjectState& o, int64_t from, int64_t to) {
  for (int64_t day = from; day <= to; ++day) {
    const Decision d = policy.decide(o, day);
    if (d.tier != o.tier) {
      o.tier = d.tier;
      o.tier_since_day = day;
    }
  }
}

TEST(IntelligentTieringPolicyTest, TiersByDaysWithoutARead) {
  auto policy = IntelligentTieringPolicy::create(default_tiers()).value();
  ObjectState o = written(0);
  run_days(*policy, o, 0, 29);
  EXPECT_EQ(o.tier, "hot");
  run_days(*policy, o, 30, 30);
  EXPECT_EQ(o.tier, "warm");
  run_days(*policy, o, 31, 89);
  EXPECT_EQ(o.tier, "warm");
  run_days(*policy, o, 90, 90);
  EXPECT_EQ(o.tier, "cold");
  run_days(*policy, o, 91, 179);
  EXPECT_EQ(o.tier, "cold");
  run_days(*policy, o, 180, 180);
  EXPECT_EQ(o.tier, "frozen");
}

TEST(IntelligentTieringPolicyTest, ReadsResetTheClock) {
  auto policy = IntelligentTieringPolicy::create(default_tiers()).value();
  ObjectState o = written(0);
  record_read(o, 20);
  run_days(*policy, o, 0, 49);
  EXPECT_EQ(o.tier, "hot");  // 29 days since the read
  run_days(*policy, o, 50, 50);
  EXPECT_EQ(o.tier, "warm");
}

TEST(IntelligentTieringPolicyTest, AReadOffTheFrequentTierMovesItBack) {
  auto policy = IntelligentTieringPolicy::create(default_tiers()).value();
  ObjectState o = written(0);
  run_days(*policy, o, 0, 200);
  ASSERT_EQ(o.tier, "frozen");
  record_read(o, 200);
  const Decision d = policy->decide(o, 201);
  EXPECT_EQ(d.tier, "hot");
  EXPECT_NE(d.reason.find("back to hot"), std::string::npos) << d.reason;
}

TEST(IntelligentTieringPolicyTest, DeepArchiveIsOptional) {
  IntelligentTieringOptions options;
  options.deep_archive_after_days.reset();
  auto policy = IntelligentTieringPolicy::create(default_tiers(), options).value();
  ObjectState o = written(0);
  run_days(*policy, o, 0, 400);
  EXPECT_EQ(o.tier, "cold");
}

TEST(IntelligentTieringPolicyTest, ArtifactsUnder128KiBStayFrequent) {
  auto policy = IntelligentTieringPolicy::create(default_tiers()).value();
  ObjectState o = written(0, 100 * 1024);
  run_days(*policy, o, 0, 365);
  EXPECT_EQ(o.tier, "hot");
}

TEST(IntelligentTieringPolicyTest, RejectsUnknownTiersAndUnorderedThresholds) {
  EXPECT_FALSE(
      IntelligentTieringPolicy::create(default_tiers(), {.infrequent = "lukewarm"}).has_value());
  EXPECT_FALSE(IntelligentTieringPolicy::create(
                   default_tiers(), {.infrequent_after_days = 90, .archive_instant_after_days = 30})
                   .has_value());
}

}  // namespace
}  // namespace vaultaire::tiering
