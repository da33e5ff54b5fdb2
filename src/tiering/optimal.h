#pragma once

// The offline optimum: with hindsight of every day's GETs, the cheapest tier for each day of
// one artifact's life under the cost model (cost.h). The only code in tiering/ that sees the
// future; the simulator uses it as the yardstick for the online policies.
//
// A dynamic program over days. The state after a day is (tier, days spent on it so far capped
// at its minimum storage duration, and, on a non-instant tier, whether that day restored the
// artifact): enough to price every choice exactly, since an exit after d days costs
// (minimum - d) days of storage and nothing once d reaches the minimum, and a move out of a
// non-instant tier needs no restore of its own the day after one. Every state may stay (one
// more day on its tier) or move to any other tier (paying the early exit, for a promotion the
// read out of the tier left, the write into the tier entered, and that day's cost there).
// States: the
// sum over tiers of max(minimum days, 1), twice for non-instant tiers: 484 for the defaults.

#include <cstdint>
#include <span>
#include <vector>

#include "tiering/cost.h"
#include "tiering/tier.h"

namespace vaultaire::tiering {

struct OptimalPlan {
  double cost = 0;              // equal to life_cost() of `tiers` (up to rounding)
  std::vector<uint32_t> tiers;  // the tier index on each day
};

// Reusable: keeps its buffers between calls. Not thread-safe; one per thread. The table must
// outlive the planner.
class OptimalPlanner {
 public:
  explicit OptimalPlanner(const TierTable& tiers);

  // gets[i]: the GETs on day i of the life (day 0 = the write). An empty life costs 0.
  OptimalPlan plan(uint64_t size_bytes, std::span<const uint32_t> gets, LifeEnd end);

 private:
  // States of one tier with one restored flag: (tier, d) for d = 1 .. cap.
  struct Group {
    uint32_t tier = 0;
    bool restored = false;
    uint32_t first = 0;  // index of d = 1
    uint32_t cap = 1;
  };

  const TierTable& tiers_;
  std::vector<Group> groups_;
  std::vector<uint32_t> group_of_tier_[2];  // [restored][tier]; only instant tiers lack [1]
  std::vector<uint32_t> tier_of_;           // per state
  uint32_t states_ = 0;
  std::vector<double> value_;
  std::vector<double> next_;
  std::vector<double> exit_cost_;      // early exit from each state
  std::vector<uint16_t> predecessor_;  // per day and state: the state the best path came from
};

}  // namespace vaultaire::tiering
