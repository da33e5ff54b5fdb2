#pragma once

// Pricing tier plans from expected reads: the part of CostOptimal that does not learn, shared
// with the simulator's rate oracle (an online policy told each artifact's true read rates).
//
// A plan is "tier k now for s days, then tier k2 for the rest of the span" (s from
// kPlanLegDays) or "k for the whole span". Its expected cost: storage, requests, retrieval and
// restores for the expected read days, the move now (the early exit from the current tier, for
// a promotion the read out of it, the PUT into k), the second move the same way, and, when the
// artifact is expected to be deleted at the end of the span, the minimum duration it would not
// have served there. Costs follow the cost model (cost.h).

#include <array>
#include <cstdint>
#include <vector>

#include "tiering/policy.h"
#include "tiering/tier.h"

namespace vaultaire::tiering {

inline constexpr std::array<int64_t, 15> kPlanLegDays = {1,  2,  3,  4,  5,  7,   10, 14,
                                                         21, 30, 45, 60, 90, 120, 150};

struct PlanInput {
  uint64_t size = 0;
  size_t current = 0;           // the tier the artifact is on
  int64_t days_on_current = 0;  // days it has spent there
  bool restored = false;        // a read yesterday on a restore-only tier left a restored copy
  int64_t span = 0;             // days priced: a horizon or the expected remaining life
  bool removed = false;         // the artifact is deleted at the end of the span
  double gets_per_read_day = 1;
  // read_days_by[i]: expected read days in the first kPlanLegDays[i] days (legs < span only).
  std::array<double, kPlanLegDays.size()> read_days_by{};
  double read_days = 0;  // expected read days in the whole span
};

struct TierPlan {
  double cost = 0;
  int64_t days = 0;  // days on this tier before the second move; `span` when there is none
  size_t then = 0;   // the tier of the second leg (this tier when there is none)
};

struct PlanPrices {
  std::vector<TierPlan> tiers;  // the cheapest plan starting on each tier
  double staying = 0;           // the current tier for the whole span
};

PlanPrices price_plans(const TierTable& tiers, const PlanInput& input);

// Stays when the cheapest plan starts on the current tier (waiting for a later move is a plan
// too); otherwise moves to the cheapest tier if it beats staying for the whole span by the
// share `hysteresis`. The reason states the expected reads and costs; costs lists every tier.
Decision choose_tier(const TierTable& tiers, const PlanInput& input, const PlanPrices& prices,
                     double hysteresis);

}  // namespace vaultaire::tiering
