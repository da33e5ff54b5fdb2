#pragma once

// The cost model: what one artifact's life costs, given which tier it is on each day and how
// many GETs it gets each day. Every policy, the offline optimum and the simulator are priced by
// this one function.
//
// Rules (all prices from the TierTable; docs/tiering.md works an example):
// - storage: each day on tier k costs TierTable::daily_storage(k, size) (prorated GB-month,
//   with k's minimum billable size);
// - requests: each GET costs k's GET price; retrieval: each GET also reads the artifact's bytes
//   at k's retrieval price per GB (0 on hot);
// - restores: a day with at least one GET on a non-instant tier costs one restore (request and
//   bytes); the restored copy serves every GET of that day, which counts as served;
// - transitions: day 0 pays the PUT price of the first tier (the write), and every change of
//   tier the PUT price of the tier entered. A move to a hotter tier (a promotion) also reads the
//   artifact out of the tier left: one GET and its retrieval there and, when that tier is not
//   instant, a restore, unless the artifact was restored there the day before (the restored
//   copy is still there, so a read can promote an artifact for the price of the PUT). Moves to
//   colder tiers pay no read, like AWS lifecycle transitions;
// - early exit: leaving a tier (a move, or removal when the life ends with kRemoved) after
//   fewer days than its minimum storage duration pays the remaining days at its storage price.
//   A life that ends with kStillStored owes nothing more: its bill stops at the last day.

#include <cstdint>
#include <span>

#include "tiering/tier.h"

namespace vaultaire::tiering {

struct DayState {
  uint32_t tier = 0;  // index into the TierTable
  uint32_t gets = 0;
};

enum class LifeEnd {
  kStillStored,  // the artifact outlives the period priced
  kRemoved,      // deleted or overwritten on the last day (that day is billed)
};

struct CostBreakdown {
  double storage = 0;
  double requests = 0;
  double retrieval = 0;
  double restores = 0;
  double transitions = 0;  // the first write and every move (the copy's read and write)
  double early_exit = 0;   // minimum storage durations not served

  double total() const {
    return storage + requests + retrieval + restores + transitions + early_exit;
  }
  CostBreakdown& operator+=(const CostBreakdown& other);
};

// Prices one life: days[0] is the day the artifact was written. When `daily` is not empty it
// must have days.size() elements; each day's cost (everything charged on that day, including
// the move or removal made that day) is added to daily[i].
CostBreakdown life_cost(const TierTable& tiers, uint64_t size_bytes, std::span<const DayState> days,
                        LifeEnd end, std::span<double> daily = {});

}  // namespace vaultaire::tiering
