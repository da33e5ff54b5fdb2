#include "tiering/simulation.h"

#include <numeric>

#include <gtest/gtest.h>

#include "tiering/age_rules.h"
#include "tiering/test_tiers.h"
#include "tiering/trace.h"

namespace vaultaire::tiering {
namespace {

using testing::kGiB;

TEST(SimulationTest, TotalsMatchTheHandWorkedBill) {
  // Round tiers (test_tiers.h): a $1/GB-day, b $0.5 (min 3 days), c $0.1 (min 5, restores).
  const TierTable tiers = testing::round_tiers();
  // x: written day 0, read day 4, deleted day 6. y: written day 1, never read, kept.
  Trace trace;
  trace.days = 8;
  trace.events = {{0, TraceOp::kPut, "x", kGiB},
                  {1, TraceOp::kPut, "y", kGiB},
                  {4, TraceOp::kGet, "x", 0},
                  {6, TraceOp::kDelete, "x", 0},
                  {7, TraceOp::kGet, "gone", 0}};
  // a from age 0, b from age 2; a read off a promotes.
  auto rules = AgeRulesPolicy::create(
                   tiers, {{.prefix = "", .ladder = {{0, "a"}, {2, "b"}}, .min_size_bytes = 0}})
                   .value();
  Policy* policies[] = {rules.get()};
  const SimulationResult result = simulate(tiers, trace, policies);

  EXPECT_EQ(result.days, 8);
  EXPECT_EQ(result.lives, 2u);
  EXPECT_EQ(result.gets, 1u);
  EXPECT_EQ(result.ignored, 1u);
  ASSERT_EQ(result.outcomes.size(), 3u);
  EXPECT_EQ(result.outcomes[0].name, "age-rules");
  EXPECT_EQ(result.outcomes[1].name, "all-hot");
  EXPECT_EQ(result.outcomes[2].name, "optimal");

  // age-rules. x: a a b b b a a (days 0-6): b from day 2 (age 2), read on b on day 4,
  // promoted on day 5, deleted day 6.
  //   storage 4 x 1 + 3 x 0.5 = 5.5; GET on b 0.01 + retrieval 0.1;
  //   write 0.002 + PUT b 0.005 + promotion (GET 0.01 + retrieval 0.1 + PUT a 0.002) = 0.119;
  //   b left after its 3 days: no early exit. x = 5.729.
  // y: a a b b b b b (days 1-7): storage 2 + 2.5 = 4.5, write 0.002 + PUT b 0.005. y = 4.507.
  const CostBreakdown& rules_cost = result.outcomes[0].cost;
  EXPECT_NEAR(rules_cost.storage, 10.0, 1e-12);
  EXPECT_NEAR(rules_cost.requests, 0.01, 1e-12);
  EXPECT_NEAR(rules_cost.retrieval, 0.1, 1e-12);
  EXPECT_NEAR(rules_cost.transitions, 0.126, 1e-12);
  EXPECT_NEAR(rules_cost.early_exit, 0.0, 1e-12);
  EXPECT_NEAR(rules_cost.total(), 10.236, 1e-12);
  EXPECT_EQ(result.outcomes[0].moves, 3u);

  // all-hot. x: 7 days + write 0.002 + GET 0.001 = 7.003; y: 7 days + 0.002 = 7.002.
  EXPECT_NEAR(result.outcomes[1].cost.total(), 14.005, 1e-12);

  // optimal. x on c throughout: 7 x 0.1 + PUT 0.02 + one restore (0.1 + 1) + GET 0.001, kept
  // 7 >= 5 days = 1.821 (serving the read from b instead costs more: leaving c early and b's
  // storage). y on c: 7 x 0.1 + 0.02 = 0.72.
  EXPECT_NEAR(result.outcomes[2].cost.total(), 2.541, 1e-12);
  EXPECT_EQ(result.outcomes[2].moves, 0u);

  // Each day's charges add up to the totals.
  for (const PolicyOutcome& o : result.outcomes) {
    ASSERT_EQ(o.daily.size(), 8u);
    EXPECT_NEAR(std::accumulate(o.daily.begin(), o.daily.end(), 0.0), o.cost.total(), 1e-12);
  }
  // Day 5 under age-rules: x's promotion (0.112) and a day on a; y's day on b.
  EXPECT_NEAR(result.outcomes[0].daily[5], 0.112 + 1.0 + 0.5, 1e-12);
}

TEST(SimulationTest, AnOverwriteEndsTheOldVersion) {
  const TierTable tiers = testing::round_tiers();
  Trace trace;
  trace.days = 3;
  trace.events = {{0, TraceOp::kPut, "k", kGiB}, {1, TraceOp::kPut, "k", 2 * kGiB}};
  auto rules =
      AgeRulesPolicy::create(tiers, {{.prefix = "", .ladder = {{0, "a"}}, .min_size_bytes = 0}})
          .value();
  Policy* policies[] = {rules.get()};
  const SimulationResult result = simulate(tiers, trace, policies, {.optimal = false});
  EXPECT_EQ(result.lives, 2u);
  // Old version: days 0-1 (1 GiB), new one: days 1-2 (2 GiB): 2 + 4 storage, two writes.
  EXPECT_NEAR(result.outcomes[0].cost.total(), 6.004, 1e-12);
}

}  // namespace
}  // namespace vaultaire::tiering
