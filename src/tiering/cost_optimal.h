#pragma once

// CostOptimal: learns how artifacts are read and keeps each on the tier with the lowest expected
// cost over a horizon.
//
// What it learns, from observe_* only (it never sees the future), per path prefix and, as the
// prior every prefix starts from, over all prefixes:
// - read hazards: the chance that an artifact gets its next read day on a given day, as a
//   function of how long it has gone without one: by age for artifacts never read, and by the
//   gap since the last read day for the others, separately for six classes of that last read
//   day (the first ever; the first after 30-89 or after 90+ quiet days; one of 2-3, 4-9 or 10+
//   read days in 30 days), and how read days move artifacts between those classes. Decreasing
//   hazards capture popularity that fades, a spike at 28-31 days a monthly report, a high
//   hazard after a read that ends a long quiet a revival;
// - deletions by age (for a median remaining life), and GETs per read day.
// Every estimate is Bayesian: events over exposure with pseudo-counts at the parent's value (the
// all-prefix estimate for a prefix; for the all-prefix one, all classes pooled, the previous
// age or gap bucket, and finally `base_hazard`). So a new artifact behaves like its prefix's
// artifacts of the same standing, and a new prefix like everything seen so far.
//
// How it decides: the hazards give the chance of the next read day on each of the next days;
// after it the artifact renews (a renewal process over the classes), which gives the expected
// read days in the first s days for every s. planner.h prices the plans "k now for s days, then
// k2" over the horizon, cut at the median remaining life when the prefix deletes artifacts; the
// artifact stays when the cheapest plan starts on its tier, and moves when the cheapest tier
// beats staying put for the whole horizon by the hysteresis margin (so near-equal costs do not
// make it flap).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/errors.h"
#include "tiering/policy.h"
#include "tiering/tier.h"

namespace vaultaire::tiering {

struct CostOptimalOptions {
  int64_t horizon_days = 180;
  double prefix_prior_days = 30;  // pseudo artifact-days at the parent's hazard, per bucket
  double base_hazard = 0.1;       // read days per artifact-day before anything is observed
  double hysteresis = 0.25;       // a move must save this share of staying's cost
};

class CostOptimalPolicy final : public Policy {
 public:
  // kInvalidArgument: a horizon outside 1..3650 days, a non-positive prior, a base hazard
  // outside [0, 1), a negative hysteresis. The table must outlive the policy.
  [[nodiscard]] static Result<std::unique_ptr<CostOptimalPolicy>> create(
      const TierTable& tiers, CostOptimalOptions options = {});
  ~CostOptimalPolicy() override;

  std::string_view name() const override { return "cost-optimal"; }
  void observe_read(const ObjectState& object, int64_t day) override;
  void observe_put(const ObjectState& object, int64_t day) override;
  void observe_delete(const ObjectState& object, int64_t day) override;
  Decision decide(const ObjectState& object, int64_t today) override;

  // The expected read days on each of the next `days` days (today first, at most the horizon),
  // as decide() sees them. For tests and `vaultctl tiers explain`.
  std::vector<double> forecast(const ObjectState& object, int64_t today, int64_t days);

 private:
  struct Stats;
  struct Profile;
  struct Prefix;

  CostOptimalPolicy(const TierTable& tiers, CostOptimalOptions options);
  Prefix& prefix(const std::string& name, int64_t day);
  const Profile& profile(Prefix& prefix, int64_t day);
  const Profile& global_profile(int64_t day);
  // Prepares expected_read_days() for `object` over the next `days` days.
  void start_forecast(const Profile& profile, const ObjectState& object, int64_t today,
                      int64_t days);
  // Expected read days in the first s days (s <= the days given to start_forecast).
  double expected_read_days(const Profile& profile, int64_t s) const;

  const TierTable& tiers_;
  const CostOptimalOptions options_;
  std::unordered_map<std::string, std::unique_ptr<Prefix>> prefixes_;
  std::unique_ptr<Stats> global_;  // every prefix's counts summed
  std::unique_ptr<Profile> global_profile_;
  // start_forecast() scratch: the chance of the next read day on each day ahead, and what it
  // follows.
  std::vector<double> next_read_;
  int last_class_ = -1;  // -1: never read
  int64_t gap_ = 0;
};

}  // namespace vaultaire::tiering
