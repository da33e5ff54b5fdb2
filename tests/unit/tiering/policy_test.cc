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

}  // namespace
}  // namespace vaultaire::tiering
