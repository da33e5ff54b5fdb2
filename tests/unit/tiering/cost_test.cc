#include "tiering/cost.h"

#include <vector>

#include <gtest/gtest.h>

#include "tiering/test_tiers.h"
#include "tiering/tier.h"

namespace vaultaire::tiering {
namespace {

using testing::kGiB;
using testing::round_tiers;

constexpr uint32_t kA = 0;
constexpr uint32_t kB = 1;
constexpr uint32_t kC = 2;

TEST(CostModelTest, HotDaysPayStorageRequestsAndTheWrite) {
  const TierTable tiers = round_tiers();
  const std::vector<DayState> days = {{kA, 0}, {kA, 2}, {kA, 0}};
  const CostBreakdown cost = life_cost(tiers, kGiB, days, LifeEnd::kStillStored);
  // storage 3 days x $1 = 3; requests 2 x 0.001 = 0.002; the write: PUT on a = 0.002.
  EXPECT_DOUBLE_EQ(cost.storage, 3.0);
  EXPECT_DOUBLE_EQ(cost.requests, 0.002);
  EXPECT_DOUBLE_EQ(cost.retrieval, 0.0);
  EXPECT_DOUBLE_EQ(cost.transitions, 0.002);
  EXPECT_DOUBLE_EQ(cost.early_exit, 0.0);
  EXPECT_DOUBLE_EQ(cost.total(), 3.004);
}

TEST(CostModelTest, MovesDownAreTransitionsAndPromotionsReadTheArtifactOut) {
  const TierTable tiers = round_tiers();
  // a on day 0, b on days 1-2 (read once on day 1), back to a on day 3, deleted that day.
  const std::vector<DayState> days = {{kA, 0}, {kB, 1}, {kB, 0}, {kA, 0}};
  std::vector<double> daily(days.size(), 0.0);
  const CostBreakdown cost = life_cost(tiers, kGiB, days, LifeEnd::kRemoved, daily);
  // storage: 1 (a) + 0.5 + 0.5 (b) + 1 (a) = 3
  EXPECT_DOUBLE_EQ(cost.storage, 3.0);
  // the GET on b: request 0.01, retrieval 1 GB x 0.1 = 0.1
  EXPECT_DOUBLE_EQ(cost.requests, 0.01);
  EXPECT_DOUBLE_EQ(cost.retrieval, 0.1);
  // write 0.002; a -> b (down): PUT b 0.005; b -> a (promotion): read out of b (GET 0.01 +
  // retrieval 0.1) + PUT a 0.002. 0.002 + 0.005 + 0.112 = 0.119
  EXPECT_DOUBLE_EQ(cost.transitions, 0.119);
  // b was left after 2 of its 3 minimum days: 1 day x 0.5; a has no minimum.
  EXPECT_DOUBLE_EQ(cost.early_exit, 0.5);
  EXPECT_DOUBLE_EQ(cost.total(), 3.729);
  // Each day carries what was charged on it.
  EXPECT_DOUBLE_EQ(daily[0], 1.002);
  EXPECT_DOUBLE_EQ(daily[1], 0.005 + 0.5 + 0.11);
  EXPECT_DOUBLE_EQ(daily[2], 0.5);
  EXPECT_DOUBLE_EQ(daily[3], 0.5 + 0.112 + 1.0);
}

TEST(CostModelTest, SmallArtifactsAreBilledTheMinimumSize) {
  const TierTable tiers = round_tiers();
  const std::vector<DayState> days = {{kB, 0}, {kB, 0}, {kB, 0}};
  // 256 MiB on b is billed as 1 GiB: 3 days x 0.5 = 1.5 (on a it would be 3 x 0.25 = 0.75).
  EXPECT_DOUBLE_EQ(life_cost(tiers, kGiB / 4, days, LifeEnd::kStillStored).storage, 1.5);
  const std::vector<DayState> hot = {{kA, 0}, {kA, 0}, {kA, 0}};
  EXPECT_DOUBLE_EQ(life_cost(tiers, kGiB / 4, hot, LifeEnd::kStillStored).storage, 0.75);
}

TEST(CostModelTest, ReadsOnARestoreTierPayOneRestorePerDay) {
  const TierTable tiers = round_tiers();
  // c on days 0-3 with 3 GETs on day 1 and 1 on day 3; promoted to a on day 4, deleted then.
  const std::vector<DayState> days = {{kC, 0}, {kC, 3}, {kC, 0}, {kC, 1}, {kA, 0}};
  const CostBreakdown cost = life_cost(tiers, kGiB, days, LifeEnd::kRemoved);
  // storage: 4 x 0.1 + 1 = 1.4; requests: 4 GETs x 0.001 = 0.004
  EXPECT_DOUBLE_EQ(cost.storage, 1.4);
  EXPECT_DOUBLE_EQ(cost.requests, 0.004);
  // one restore per day with reads: 2 x (0.1 + 1 GB x 1) = 2.2
  EXPECT_DOUBLE_EQ(cost.restores, 2.2);
  // write on c 0.02; the promotion reads out of c with the copy restored on day 3: GET 0.001
  // and no restore; PUT a 0.002. 0.02 + 0.001 + 0.002 = 0.023
  EXPECT_DOUBLE_EQ(cost.transitions, 0.023);
  // c left after 4 of its 5 days: 1 x 0.1
  EXPECT_DOUBLE_EQ(cost.early_exit, 0.1);
  EXPECT_DOUBLE_EQ(cost.total(), 3.727);
}

TEST(CostModelTest, PromotionFromARestoreTierWithoutARecentReadPaysARestore) {
  const TierTable tiers = round_tiers();
  const std::vector<DayState> days = {{kC, 0}, {kC, 0}, {kC, 0}, {kC, 0}, {kC, 0}, {kA, 0}};
  const CostBreakdown cost = life_cost(tiers, kGiB, days, LifeEnd::kStillStored);
  // write 0.02; promotion: GET 0.001 + restore 1.1 + PUT a 0.002. c served its 5 days.
  EXPECT_DOUBLE_EQ(cost.transitions, 0.02 + 1.103);
  EXPECT_DOUBLE_EQ(cost.early_exit, 0.0);
  EXPECT_DOUBLE_EQ(cost.storage, 5 * 0.1 + 1.0);
}

TEST(CostModelTest, DeletionBeforeTheMinimumPaysTheRemainingDays) {
  const TierTable tiers = round_tiers();
  const std::vector<DayState> days = {{kB, 0}};
  // 1 day on b, deleted: storage 0.5 + 2 remaining days x 0.5 = 1.0, plus PUT 0.005.
  const CostBreakdown removed = life_cost(tiers, kGiB, days, LifeEnd::kRemoved);
  EXPECT_DOUBLE_EQ(removed.early_exit, 1.0);
  EXPECT_DOUBLE_EQ(removed.total(), 1.505);
  // Still stored at the end of the period: nothing more is owed yet.
  EXPECT_DOUBLE_EQ(life_cost(tiers, kGiB, days, LifeEnd::kStillStored).early_exit, 0.0);
}

TEST(CostModelTest, DefaultTiersArePricedLikeS3InUsEast1) {
  const TierTable& tiers = default_tiers();
  ASSERT_EQ(tiers.size(), 4u);
  const uint32_t hot = 0;
  const uint32_t frozen = 3;
  // 1 GB on hot for 30 days: one GB-month, $0.023, plus the PUT ($0.005 per 1,000).
  const std::vector<DayState> month(30, DayState{hot, 0});
  EXPECT_NEAR(life_cost(tiers, kGiB, month, LifeEnd::kStillStored).total(), 0.023 + 0.000005,
              1e-12);
  // A read day on frozen (Deep Archive): restore $0.10 per 1,000 + $0.02 per GB, GET $0.0004
  // per 1,000.
  EXPECT_NEAR(tiers.day_access_cost(frozen, kGiB, 1), 0.0001 + 0.02 + 0.0000004, 1e-12);
  // 1 KiB on warm (Standard-IA) is billed as 128 KiB.
  EXPECT_DOUBLE_EQ(tiers.daily_storage(1, 1024), tiers.daily_storage(1, 128 * 1024));
  EXPECT_EQ(tiers[0].name, "hot");
  EXPECT_EQ(tiers[1].min_storage_days, 30);
  EXPECT_EQ(tiers[2].min_storage_days, 90);
  EXPECT_EQ(tiers[3].min_storage_days, 180);
  EXPECT_FALSE(tiers[3].instant);
}

TEST(TierTableTest, RejectsDuplicateNamesAndNegativePrices) {
  EXPECT_FALSE(TierTable::create({}).has_value());
  EXPECT_FALSE(TierTable::create({{.name = "a"}, {.name = "a"}}).has_value());
  EXPECT_FALSE(TierTable::create({{.name = "a", .storage_per_gb_month = -1}}).has_value());
  const auto created = TierTable::create({{.name = "a"}, {.name = "b"}});
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->index_of("b"), 1u);
  EXPECT_FALSE(created->index_of("z").has_value());
}

}  // namespace
}  // namespace vaultaire::tiering
