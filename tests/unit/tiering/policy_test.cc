#include "tiering/policy.h"

#include <gtest/gtest.h>

#include "tiering/tier.h"

namespace vaultaire::tiering {
namespace {

TEST(PolicyTest, PrefixIsThePathUpToItsLastSlash) {
  EXPECT_EQ(prefix_of("logs/2025/a.txt"), "logs/2025/");
  EXPECT_EQ(prefix_of("a.txt"), "");
  EXPECT_EQ(prefix_of("dir/"), "dir/");
}

TEST(PolicyTest, RecordReadKeepsDistinctDaysBounded) {
  ObjectState o;
  record_read(o, 3);
  record_read(o, 3);
  EXPECT_EQ(o.read_count, 2u);
  EXPECT_EQ(o.read_day_count, 1u);
  EXPECT_EQ(o.last_access_day, 3);
  for (int64_t d = 4; d < 4 + 100; ++d) {
    record_read(o, d);
  }
  EXPECT_EQ(o.access_days.size(), kMaxAccessDays);
  EXPECT_EQ(o.access_days.back(), 103);
  EXPECT_EQ(o.access_days.front(), 103 - static_cast<int64_t>(kMaxAccessDays) + 1);
  EXPECT_EQ(o.read_day_count, 101u);
}

TEST(PolicyTest, MakesThePoliciesByName) {
  for (const char* name : {"age-rules", "intelligent-tiering", "cost-optimal"}) {
    auto policy = make_policy(name, default_tiers());
    ASSERT_TRUE(policy.has_value()) << name;
    EXPECT_EQ((*policy)->name(), name);
  }
  EXPECT_FALSE(make_policy("magic", default_tiers()).has_value());
}

TEST(PolicyTest, ConfiguredAgeRulesApplyToTheirPrefixAndTheDefaultLadderToTheRest) {
  const TierTable& tiers = default_tiers();
  std::vector<AgeRule> rules = {
      AgeRule{.prefix = "backups/", .ladder = {{0, "hot"}, {1, "frozen"}}, .min_size_bytes = 0}};
  auto policy = make_policy("age-rules", tiers, rules);
  ASSERT_TRUE(policy.has_value());
  ObjectState backup;
  backup.key = "backups/db.dump";
  backup.prefix = prefix_of(backup.key);
  backup.size = 1 << 20;
  backup.tier = "hot";
  ObjectState photo = backup;
  photo.key = "photos/cat.jpg";
  photo.prefix = prefix_of(photo.key);
  EXPECT_EQ((*policy)->decide(backup, 2).tier, "frozen");
  EXPECT_EQ((*policy)->decide(photo, 2).tier, "hot");  // the default ladder: warm from day 7
  EXPECT_EQ((*policy)->decide(photo, 8).tier, "warm");

  // A rule with the empty prefix replaces the default ladder.
  rules.push_back(AgeRule{.prefix = "", .ladder = {{0, "hot"}, {1, "cold"}}, .min_size_bytes = 0});
  auto replaced = make_policy("age-rules", tiers, rules);
  ASSERT_TRUE(replaced.has_value());
  EXPECT_EQ((*replaced)->decide(photo, 2).tier, "cold");

  // Ladders are checked: a tier the table does not have, steps not starting at day 0.
  EXPECT_FALSE(make_policy("age-rules", tiers, {AgeRule{.prefix = "x/", .ladder = {{0, "ice"}}}})
                   .has_value());
  EXPECT_FALSE(make_policy("age-rules", tiers,
                           {AgeRule{.prefix = "x/", .ladder = {{3, "hot"}, {5, "cold"}}}})
                   .has_value());
}

}  // namespace
}  // namespace vaultaire::tiering
