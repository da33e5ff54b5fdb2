#pragma once

// The rate oracle: an online policy told each generated object's true chance of a read on
// every day (ObjectTruth), though not the reads themselves. It prices the same plans as
// CostOptimal (tiering/planner.h) with those true rates instead of learned ones, so it shows
// how close any online policy can hope to get to the hindsight optimum: the rest of the gap is
// the dice. (On reborn traces it also knows when a revival starts, which no online policy can:
// there it is a loose bound.)

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "generator.h"
#include "tiering/policy.h"
#include "tiering/tier.h"

namespace vaultaire::tiering::bench {

class RateOraclePolicy final : public Policy {
 public:
  // Both must outlive the policy.
  RateOraclePolicy(const TierTable& tiers,
                   const std::unordered_map<std::string, ObjectTruth>& truth,
                   int64_t horizon_days = 180)
      : tiers_(tiers), truth_(truth), horizon_days_(horizon_days) {}

  std::string_view name() const override { return "rate-oracle"; }
  void observe_delete(const ObjectState& object, int64_t day) override { sums_.erase(object.key); }
  Decision decide(const ObjectState& object, int64_t today) override;

 private:
  // Running sums of an object's daily read chances and expected GETs from its creation day,
  // grown as needed (so each decision costs O(plan legs), not O(horizon)).
  struct Sums {
    std::vector<float> read_days{0.0f};  // [n]: over its first n days
    std::vector<float> gets{0.0f};
  };
  const Sums& sums(const std::string& key, const ObjectTruth& truth, int64_t through_day);

  const TierTable& tiers_;
  const std::unordered_map<std::string, ObjectTruth>& truth_;
  const int64_t horizon_days_;
  std::unordered_map<std::string, Sums> sums_;
};

}  // namespace vaultaire::tiering::bench
