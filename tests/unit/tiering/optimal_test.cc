#include "tiering/optimal.h"

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tiering/cost.h"
#include "tiering/test_tiers.h"

namespace vaultaire::tiering {
namespace {

using testing::kGiB;

// The cheapest of every tier sequence, priced by the cost model.
double brute_force(const TierTable& tiers, uint64_t size, const std::vector<uint32_t>& gets,
                   LifeEnd end) {
  const size_t n = gets.size();
  std::vector<DayState> days(n);
  for (size_t i = 0; i < n; ++i) {
    days[i].gets = gets[i];
  }
  size_t combinations = 1;
  for (size_t i = 0; i < n; ++i) {
    combinations *= tiers.size();
  }
  double best = std::numeric_limits<double>::infinity();
  for (size_t code = 0; code < combinations; ++code) {
    size_t rest = code;
    for (size_t i = 0; i < n; ++i) {
      days[i].tier = static_cast<uint32_t>(rest % tiers.size());
      rest /= tiers.size();
    }
    best = std::min(best, life_cost(tiers, size, days, end).total());
  }
  return best;
}

void expect_optimal(const TierTable& tiers, OptimalPlanner& planner, uint64_t size,
                    const std::vector<uint32_t>& gets, LifeEnd end) {
  const OptimalPlan plan = planner.plan(size, gets, end);
  const double brute = brute_force(tiers, size, gets, end);
  ASSERT_EQ(plan.tiers.size(), gets.size());
  EXPECT_NEAR(plan.cost, brute, 1e-9 * std::max(1.0, brute));
  std::vector<DayState> days(gets.size());
  for (size_t i = 0; i < gets.size(); ++i) {
    days[i] = {plan.tiers[i], gets[i]};
  }
  EXPECT_NEAR(life_cost(tiers, size, days, end).total(), plan.cost,
              1e-9 * std::max(1.0, plan.cost));
}

TEST(OptimalPlannerTest, MatchesBruteForceOnRoundTiers) {
  const TierTable tiers = testing::round_tiers();
  OptimalPlanner planner(tiers);
  std::mt19937 rng(7);
  // Sizes below, at and above b's minimum billable size; gets make every tier worth a try.
  for (const uint64_t size : {kGiB / 8, kGiB, 3 * kGiB}) {
    for (size_t n = 1; n <= 7; ++n) {
      for (int trial = 0; trial < 6; ++trial) {
        std::vector<uint32_t> gets(n);
        for (uint32_t& g : gets) {
          g = rng() % 4 == 0 ? rng() % 3 + 1 : 0;
        }
        for (const LifeEnd end : {LifeEnd::kStillStored, LifeEnd::kRemoved}) {
          SCOPED_TRACE(::testing::Message() << "size " << size << " days " << n);
          expect_optimal(tiers, planner, size, gets, end);
        }
      }
    }
  }
}

TEST(OptimalPlannerTest, MatchesBruteForceOnDefaultTiers) {
  const TierTable& tiers = default_tiers();
  OptimalPlanner planner(tiers);
  std::mt19937 rng(11);
  for (const uint64_t size : {uint64_t{4096}, kGiB, 50 * kGiB}) {
    for (size_t n = 1; n <= 6; ++n) {
      for (int trial = 0; trial < 4; ++trial) {
        std::vector<uint32_t> gets(n);
        for (uint32_t& g : gets) {
          g = rng() % 3 == 0 ? rng() % 5 + 1 : 0;
        }
        for (const LifeEnd end : {LifeEnd::kStillStored, LifeEnd::kRemoved}) {
          expect_optimal(tiers, planner, size, gets, end);
        }
      }
    }
  }
}

TEST(OptimalPlannerTest, NeverReadLongLivedArtifactsGoStraightToTheColdestTier) {
  const TierTable& tiers = default_tiers();
  OptimalPlanner planner(tiers);
  const std::vector<uint32_t> gets(365, 0);
  const OptimalPlan plan = planner.plan(10 * kGiB, gets, LifeEnd::kStillStored);
  for (const uint32_t tier : plan.tiers) {
    EXPECT_EQ(tier, 3u);
  }
}

TEST(OptimalPlannerTest, AReadBurstIsServedHotAndTheRestWaitsFrozen) {
  const TierTable& tiers = default_tiers();
  OptimalPlanner planner(tiers);
  // Frozen for 200 days, then 10 days of daily reads, then quiet for 200 days.
  std::vector<uint32_t> gets(410, 0);
  for (size_t d = 200; d < 210; ++d) {
    gets[d] = 3;
  }
  const OptimalPlan plan = planner.plan(10 * kGiB, gets, LifeEnd::kStillStored);
  EXPECT_EQ(plan.tiers[0], 3u);
  EXPECT_EQ(plan.tiers[199], 3u);
  EXPECT_EQ(plan.tiers[205], 0u);
  EXPECT_EQ(plan.tiers[409], 3u);
}

TEST(OptimalPlannerTest, AnEmptyLifeCostsNothing) {
  OptimalPlanner planner(default_tiers());
  const OptimalPlan plan = planner.plan(kGiB, {}, LifeEnd::kRemoved);
  EXPECT_EQ(plan.cost, 0.0);
  EXPECT_TRUE(plan.tiers.empty());
}

}  // namespace
}  // namespace vaultaire::tiering
