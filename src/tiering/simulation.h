#pragma once

// The tiering simulator: runs policies over a trace on a simulated clock and prices what each
// did with the cost model, next to "all hot" and the offline optimum.
//
// Each simulated day d:
//   1. a decision pass: every live artifact written before d gets decide(state, d) from every
//      policy; a move takes effect on d (d is billed on the new tier);
//   2. the day's events, in trace order. PUT: observe_put, then decide() places the artifact
//      (it is written straight to the tier chosen, one PUT at that tier's price); a PUT of a
//      live key first removes the old version. GET: served from the tier of the day,
//      observe_read, then the state records the read (a policy sees it from the next pass).
//      DELETE: observe_delete; the artifact is billed for d and owes any early exit.
// Artifacts alive at the end are priced through the last day and owe nothing more.
// Deterministic: the same trace and policies give the same result.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tiering/cost.h"
#include "tiering/policy.h"
#include "tiering/tier.h"
#include "tiering/trace.h"

namespace vaultaire::tiering {

// One artifact version's life after pricing, for SimulationOptions::on_life.
struct LifeReport {
  std::string_view key;
  uint64_t size = 0;
  int64_t start = 0;  // the day it was written
  LifeEnd end = LifeEnd::kStillStored;
  std::span<const uint32_t> gets;            // per day of life
  std::vector<std::vector<uint32_t>> tiers;  // per outcome, per day of life
  std::vector<double> costs;                 // per outcome
};

struct SimulationOptions {
  int64_t days = 0;     // days to simulate; 0: the trace's own length
  bool all_hot = true;  // add the "all-hot" baseline
  bool optimal = true;  // add the offline optimum ("optimal")
  // Called with every decision made (policy index, state, day, decision), when set.
  std::function<void(size_t, const ObjectState&, int64_t, const Decision&)> on_decision;
  // Called with every life once it is priced, when set.
  std::function<void(const LifeReport&)> on_life;
};

struct PolicyOutcome {
  std::string name;
  CostBreakdown cost;
  std::vector<double> daily;  // what was charged on each day
  uint64_t moves = 0;         // tier changes after the first write
};

struct SimulationResult {
  int64_t days = 0;
  uint64_t lives = 0;                   // artifact versions written
  uint64_t gets = 0;                    // GETs served
  uint64_t ignored = 0;                 // GETs and DELETEs of keys that were not live
  std::vector<PolicyOutcome> outcomes;  // the policies in order, then all-hot, then optimal
};

// Policies are observed and asked in the order given; none is owned. A decision naming a tier
// the table does not have is ignored (the artifact stays).
SimulationResult simulate(const TierTable& tiers, const Trace& trace,
                          std::span<Policy* const> policies, const SimulationOptions& options = {});

}  // namespace vaultaire::tiering
