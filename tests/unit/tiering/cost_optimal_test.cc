#include "tiering/cost_optimal.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tiering/policy.h"
#include "tiering/simulation.h"
#include "tiering/tier.h"
#include "tiering/trace.h"

namespace vaultaire::tiering {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

ObjectState written(std::string key, int64_t day, uint64_t size = 10 * kGiB) {
  ObjectState o;
  o.key = std::move(key);
  o.prefix = prefix_of(o.key);
  o.size = size;
  o.created_day = day;
  o.tier = "hot";
  o.tier_since_day = day;
  return o;
}

// "quiet/" artifacts are never read and "busy/" ones are read every day, 40 of each written on
// day 0.
Trace learning_trace(int64_t days) {
  Trace trace;
  trace.days = days;
  for (int i = 0; i < 40; ++i) {
    trace.events.push_back({0, TraceOp::kPut, "quiet/" + std::to_string(i), 10 * kGiB});
    trace.events.push_back({0, TraceOp::kPut, "busy/" + std::to_string(i), 10 * kGiB});
  }
  for (int64_t d = 0; d < days; ++d) {
    for (int i = 0; i < 40; ++i) {
      trace.events.push_back({d, TraceOp::kGet, "busy/" + std::to_string(i), 0});
    }
  }
  return trace;
}

// Runs the policy over the trace, then returns its decision for a new artifact `key` written
// on the day after.
Decision place_after(CostOptimalPolicy& policy, const Trace& trace, const std::string& key,
                     uint64_t size = 10 * kGiB) {
  Policy* policies[] = {&policy};
  simulate(default_tiers(), trace, policies, {.all_hot = false, .optimal = false});
  ObjectState fresh = written(key, trace.days, size);
  policy.observe_put(fresh, trace.days);
  return policy.decide(fresh, trace.days);
}

// Like place_after(), then follows the policy's decisions for a week (nothing read): where the
// artifact settles.
std::string settle(CostOptimalPolicy& policy, const Trace& trace, const std::string& key,
                   uint64_t size = 10 * kGiB) {
  ObjectState o = written(key, trace.days, size);
  o.tier = place_after(policy, trace, key, size).tier;
  for (int64_t day = trace.days + 1; day <= trace.days + 7; ++day) {
    const Decision d = policy.decide(o, day);
    if (d.tier != o.tier) {
      o.tier = d.tier;
      o.tier_since_day = day;
    }
  }
  return o.tier;
}

TEST(CostOptimalPolicyTest, ANewArtifactBorrowsItsPrefixsBehaviour) {
  const Trace trace = learning_trace(30);
  auto policy = CostOptimalPolicy::create(default_tiers()).value();
  Policy* policies[] = {policy.get()};
  simulate(default_tiers(), trace, policies, {.all_hot = false, .optimal = false});

  ObjectState quiet = written("quiet/new", 30);
  ObjectState busy = written("busy/new", 30);
  policy->observe_put(quiet, 30);
  policy->observe_put(busy, 30);
  // Nothing of their own yet: their prefixes say how they will be read. (A quiet artifact's
  // small chance of a first read counts the daily reads that followed first reads in busy/.)
  const std::vector<double> quiet_days = policy->forecast(quiet, 30, 30);
  const std::vector<double> busy_days = policy->forecast(busy, 30, 30);
  EXPECT_LT(std::accumulate(quiet_days.begin(), quiet_days.end(), 0.0), 1.0);
  EXPECT_GT(std::accumulate(busy_days.begin(), busy_days.end(), 0.0), 20.0);
  EXPECT_EQ(policy->decide(busy, 30).tier, "hot");
  EXPECT_EQ(settle(*policy, learning_trace(30), "quiet/other"), "frozen");
}

TEST(CostOptimalPolicyTest, APrefixNeverSeenBorrowsFromAllPrefixes) {
  auto policy = CostOptimalPolicy::create(default_tiers()).value();
  Trace trace = learning_trace(30);
  // Only never-read artifacts: everything seen says "not read".
  std::erase_if(trace.events, [](const TraceEvent& e) { return e.key.starts_with("busy/"); });
  EXPECT_EQ(settle(*policy, trace, "elsewhere/new"), "frozen");
}

TEST(CostOptimalPolicyTest, WithNothingLearnedANewArtifactStartsHot) {
  auto policy = CostOptimalPolicy::create(default_tiers()).value();
  ObjectState o = written("any/a", 0);
  policy->observe_put(o, 0);
  const Decision d = policy->decide(o, 0);
  // The prior (a read day every 10 days) makes restores dearer than hot storage.
  EXPECT_EQ(d.tier, "hot");
}

TEST(CostOptimalPolicyTest, ExplainsItselfWithACostPerTier) {
  auto policy = CostOptimalPolicy::create(default_tiers()).value();
  const Decision d = place_after(*policy, learning_trace(30), "busy/new");
  ASSERT_EQ(d.costs.size(), 4u);
  EXPECT_EQ(d.tier, "hot");
  EXPECT_EQ(d.costs[0].tier, "hot");
  EXPECT_EQ(d.costs[3].tier, "frozen");
  for (const TierCost& c : d.costs) {
    EXPECT_GT(c.expected_cost, 0.0) << c.tier;
    EXPECT_FALSE(c.note.empty()) << c.tier;
  }
  // Read daily: hot for the whole horizon, 10 GiB x 180 days x $0.023 / 30 = $1.38 of storage
  // (and $0.0004 per 1,000 GETs); any plan through frozen pays restores.
  EXPECT_EQ(d.costs[0].note, "180d");
  EXPECT_NEAR(d.costs[0].expected_cost, 1.38, 0.01);
  EXPECT_GT(d.costs[3].expected_cost, d.costs[0].expected_cost);
  EXPECT_NE(d.reason.find("hot is cheapest"), std::string::npos) << d.reason;
}

TEST(CostOptimalPolicyTest, HysteresisKeepsNearEqualChoicesWhereTheyAre) {
  // A quiet artifact a day old: frozen saves most of what a horizon on hot costs, but not 99%.
  const Trace trace = learning_trace(30);
  for (const double hysteresis : {0.05, 0.99}) {
    CostOptimalOptions options;
    options.hysteresis = hysteresis;
    auto policy = CostOptimalPolicy::create(default_tiers(), options).value();
    Policy* policies[] = {policy.get()};
    simulate(default_tiers(), trace, policies, {.all_hot = false, .optimal = false});
    ObjectState o = written("quiet/new", 29);
    policy->observe_put(o, 29);
    const Decision d = policy->decide(o, 31);
    if (hysteresis < 0.5) {
      EXPECT_EQ(d.tier, "frozen") << d.reason;
      EXPECT_NE(d.reason.find("frozen costs"), std::string::npos) << d.reason;
    } else {
      EXPECT_EQ(d.tier, "hot") << d.reason;
      EXPECT_NE(d.reason.find("saves less than 99%"), std::string::npos) << d.reason;
    }
  }
}

TEST(CostOptimalPolicyTest, DecisionsDoNotFlapForASteadyPattern) {
  // 20 artifacts read every 3rd day for a year: once the pattern is learned, nothing moves.
  Trace trace;
  trace.days = 365;
  for (int i = 0; i < 20; ++i) {
    trace.events.push_back({0, TraceOp::kPut, "steady/" + std::to_string(i), kGiB});
  }
  for (int64_t d = 0; d < 365; d += 3) {
    for (int i = 0; i < 20; ++i) {
      trace.events.push_back({d, TraceOp::kGet, "steady/" + std::to_string(i), 0});
    }
  }
  auto policy = CostOptimalPolicy::create(default_tiers()).value();
  Policy* policies[] = {policy.get()};
  int late_moves = 0;
  SimulationOptions options{.all_hot = false, .optimal = false};
  options.on_decision = [&](size_t, const ObjectState& o, int64_t day, const Decision& d) {
    late_moves += day >= 30 && d.tier != o.tier ? 1 : 0;
  };
  simulate(default_tiers(), trace, policies, options);
  EXPECT_EQ(late_moves, 0);
}

TEST(CostOptimalPolicyTest, AReadThatStartsABurstPromotes) {
  // In "bursty/", one artifact in ten is, some day, read daily for 10 days; the rest never.
  Trace trace;
  trace.days = 200;
  for (int i = 0; i < 200; ++i) {
    trace.events.push_back({0, TraceOp::kPut, "bursty/" + std::to_string(i), 10 * kGiB});
  }
  trace.events.push_back({0, TraceOp::kPut, "bursty/x", 10 * kGiB});
  for (int i = 0; i < 20; ++i) {
    for (int64_t d = 60 + 4 * i; d < 70 + 4 * i; ++d) {
      trace.events.push_back({d, TraceOp::kGet, "bursty/" + std::to_string(i), 0});
    }
  }
  trace.events.push_back({170, TraceOp::kGet, "bursty/x", 0});  // x's burst starts
  std::stable_sort(trace.events.begin(), trace.events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return a.day < b.day; });
  auto policy = CostOptimalPolicy::create(default_tiers()).value();
  Policy* policies[] = {policy.get()};
  std::vector<std::string> tiers(200);
  SimulationOptions options{.all_hot = false, .optimal = false};
  options.on_decision = [&](size_t, const ObjectState& o, int64_t day, const Decision& d) {
    if (o.key == "bursty/x") {
      tiers[day] = d.tier;
    }
  };
  simulate(default_tiers(), trace, policies, options);
  EXPECT_EQ(tiers[170], "frozen");  // never read: most of its peers never are
  EXPECT_EQ(tiers[171], "hot");     // read yesterday: its peers' first reads led to bursts
}

TEST(CostOptimalPolicyTest, SmallArtifactsStayWhereTransitionsCostMoreThanTheySave) {
  // Never read in quiet/: 10 GiB goes frozen; 4 KiB stays hot, since a year of hot storage
  // costs it $0.000001 and a PUT into frozen $0.00005.
  auto policy = CostOptimalPolicy::create(default_tiers()).value();
  EXPECT_EQ(settle(*policy, learning_trace(30), "quiet/big"), "frozen");
  auto again = CostOptimalPolicy::create(default_tiers()).value();
  EXPECT_EQ(settle(*again, learning_trace(30), "quiet/tiny", 4096), "hot");
}

TEST(CostOptimalPolicyTest, RejectsBadOptions) {
  EXPECT_FALSE(CostOptimalPolicy::create(default_tiers(), {.horizon_days = 0}).has_value());
  EXPECT_FALSE(CostOptimalPolicy::create(default_tiers(), {.base_hazard = 1.0}).has_value());
  EXPECT_FALSE(CostOptimalPolicy::create(default_tiers(), {.hysteresis = -0.1}).has_value());
}

}  // namespace
}  // namespace vaultaire::tiering
