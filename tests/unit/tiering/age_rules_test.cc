#include "tiering/age_rules.h"

#include <gtest/gtest.h>

#include "tiering/policy.h"
#include "tiering/tier.h"

namespace vaultaire::tiering {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

ObjectState written(std::string key, int64_t day, uint64_t size = 10 * kMiB) {
  ObjectState o;
  o.key = std::move(key);
  o.prefix = prefix_of(o.key);
  o.size = size;
  o.created_day = day;
  o.tier = "hot";
  o.tier_since_day = day;
  return o;
}

// Applies decisions day by day from `from` to `to` (inclusive), like the simulator.
void run_days(Policy& policy, ObjectState& o, int64_t from, int64_t to) {
  for (int64_t day = from; day <= to; ++day) {
    const Decision d = policy.decide(o, day);
    if (d.tier != o.tier) {
      o.tier = d.tier;
      o.tier_since_day = day;
    }
  }
}

std::unique_ptr<AgeRulesPolicy> defaults() {
  return AgeRulesPolicy::create(default_tiers(), AgeRulesPolicy::default_rules()).value();
}

TEST(AgeRulesPolicyTest, WalksTheClassicLadder) {
  auto policy = defaults();
  ObjectState o = written("logs/a", 0);
  run_days(*policy, o, 0, 6);
  EXPECT_EQ(o.tier, "hot");
  run_days(*policy, o, 7, 7);
  EXPECT_EQ(o.tier, "warm");
  EXPECT_EQ(o.tier_since_day, 7);
  run_days(*policy, o, 8, 29);
  EXPECT_EQ(o.tier, "warm");
  run_days(*policy, o, 30, 30);
  EXPECT_EQ(o.tier, "cold");
  run_days(*policy, o, 31, 89);
  EXPECT_EQ(o.tier, "cold");
  run_days(*policy, o, 90, 90);
  EXPECT_EQ(o.tier, "frozen");
  run_days(*policy, o, 91, 400);
  EXPECT_EQ(o.tier, "frozen");
}

TEST(AgeRulesPolicyTest, AReadOffTheFirstTierPromotesAndRestartsTheLadder) {
  auto policy = defaults();
  ObjectState o = written("logs/a", 0);
  run_days(*policy, o, 0, 40);
  ASSERT_EQ(o.tier, "cold");
  record_read(o, 40);  // served from cold on day 40
  const Decision promoted = policy->decide(o, 41);
  EXPECT_EQ(promoted.tier, "hot");
  EXPECT_NE(promoted.reason.find("promoted"), std::string::npos) << promoted.reason;
  o.tier = "hot";
  o.tier_since_day = 41;
  run_days(*policy, o, 42, 47);
  EXPECT_EQ(o.tier, "hot");  // 6 days since the promotion
  run_days(*policy, o, 48, 48);
  EXPECT_EQ(o.tier, "warm");  // 7 days since
  run_days(*policy, o, 49, 71);
  EXPECT_EQ(o.tier, "cold");  // 30 days since, at day 71
  EXPECT_EQ(o.tier_since_day, 71);
}

TEST(AgeRulesPolicyTest, ReadsOnTheFirstTierDoNotHoldTheLadder) {
  auto policy = defaults();
  ObjectState o = written("logs/a", 0);
  record_read(o, 3);
  run_days(*policy, o, 0, 7);
  EXPECT_EQ(o.tier, "warm");  // a lifecycle rule counts age, not reads
}

TEST(AgeRulesPolicyTest, SmallArtifactsNeverMove) {
  auto policy = defaults();
  ObjectState o = written("logs/tiny", 0, 4096);
  run_days(*policy, o, 0, 365);
  EXPECT_EQ(o.tier, "hot");
}

TEST(AgeRulesPolicyTest, TheLongestMatchingPrefixWins) {
  std::vector<AgeRule> rules = AgeRulesPolicy::default_rules();
  rules.push_back({.prefix = "backups/", .ladder = {{0, "hot"}, {1, "frozen"}}});
  auto policy = AgeRulesPolicy::create(default_tiers(), std::move(rules)).value();
  ObjectState backup = written("backups/db.tar", 0);
  ObjectState log = written("logs/a", 0);
  run_days(*policy, backup, 0, 1);
  run_days(*policy, log, 0, 1);
  EXPECT_EQ(backup.tier, "frozen");
  EXPECT_EQ(log.tier, "hot");
}

TEST(AgeRulesPolicyTest, RejectsBadRules) {
  const TierTable& tiers = default_tiers();
  EXPECT_FALSE(AgeRulesPolicy::create(tiers, {}).has_value());
  EXPECT_FALSE(AgeRulesPolicy::create(tiers, {{.prefix = "", .ladder = {{1, "hot"}}}}).has_value());
  EXPECT_FALSE(AgeRulesPolicy::create(tiers, {{.prefix = "", .ladder = {{0, "hot"}, {0, "warm"}}}})
                   .has_value());
  EXPECT_FALSE(
      AgeRulesPolicy::create(tiers, {{.prefix = "", .ladder = {{0, "lukewarm"}}}}).has_value());
  EXPECT_FALSE(AgeRulesPolicy::create(tiers, {{.prefix = "a/", .ladder = {{0, "hot"}}},
                                              {.prefix = "a/", .ladder = {{0, "hot"}}}})
                   .has_value());
}

TEST(AgeRulesPolicyTest, ProblemsAreNamedForThePersonWhoWroteTheRules) {
  const TierTable& tiers = default_tiers();
  EXPECT_EQ(age_rules_problem(tiers, AgeRulesPolicy::default_rules()), std::nullopt);
  EXPECT_EQ(age_rules_problem(tiers, {}), std::nullopt);  // none configured: the defaults apply
  EXPECT_EQ(age_rules_problem(tiers, {{.prefix = "b/", .ladder = {{1, "hot"}}}}),
            "the rule for prefix 'b/' must start with a step at days = 0");
  EXPECT_EQ(age_rules_problem(tiers, {{.prefix = "b/", .ladder = {{0, "hot"}, {0, "warm"}}}}),
            "the rule for prefix 'b/' has steps whose days do not ascend");
  EXPECT_EQ(age_rules_problem(tiers, {{.prefix = "b/", .ladder = {{0, "lukewarm"}}}}),
            "the rule for prefix 'b/' names tier 'lukewarm', which [[tiers]] does not have");
  EXPECT_EQ(age_rules_problem(tiers, {{.prefix = "a/", .ladder = {{0, "hot"}}},
                                      {.prefix = "a/", .ladder = {{0, "hot"}}}}),
            "two rules for prefix 'a/'");
}

}  // namespace
}  // namespace vaultaire::tiering
