#include "rate_oracle.h"

#include <algorithm>

#include "tiering/planner.h"

namespace vaultaire::tiering::bench {

Decision RateOraclePolicy::decide(const ObjectState& object, int64_t today) {
  const auto truth = truth_.find(object.key);
  const auto current = tiers_.index_of(object.tier);
  if (truth == truth_.end() || !current) {
    return {.tier = object.tier, .reason = "no truth for this key"};
  }
  const ObjectTruth& t = truth->second;
  PlanInput in;
  in.size = object.size;
  in.current = *current;
  in.days_on_current = std::max<int64_t>(today - object.tier_since_day, 0);
  in.restored = !tiers_[*current].instant && object.last_access_day == today - 1 &&
                object.tier_since_day < today;
  in.span = horizon_days_;
  if (t.deleted >= 0 && t.deleted - today + 1 <= horizon_days_) {
    in.span = std::max<int64_t>(t.deleted - today + 1, 1);
    in.removed = true;
  }
  const Sums& s = sums(object.key, t, today + in.span);
  const auto from = static_cast<size_t>(std::max<int64_t>(today - t.created, 0));
  for (size_t leg = 0; leg < kPlanLegDays.size() && kPlanLegDays[leg] < in.span; ++leg) {
    in.read_days_by[leg] = s.read_days[from + kPlanLegDays[leg]] - s.read_days[from];
  }
  in.read_days = s.read_days[from + in.span] - s.read_days[from];
  const double gets = s.gets[from + in.span] - s.gets[from];
  in.gets_per_read_day = in.read_days > 0 ? gets / in.read_days : 1.0;
  return choose_tier(tiers_, in, price_plans(tiers_, in), 0.0);
}

const RateOraclePolicy::Sums& RateOraclePolicy::sums(const std::string& key,
                                                     const ObjectTruth& truth,
                                                     int64_t through_day) {
  Sums& s = sums_[key];
  if (s.read_days.size() == 1) {  // a year and a horizon, without doubling past it
    s.read_days.reserve(static_cast<size_t>(366 + horizon_days_));
    s.gets.reserve(static_cast<size_t>(366 + horizon_days_));
  }
  // s.read_days[n] sums days created .. created + n - 1.
  while (truth.created + static_cast<int64_t>(s.read_days.size()) - 1 < through_day) {
    const DayOutlook o =
        outlook(truth, truth.created + static_cast<int64_t>(s.read_days.size()) - 1);
    s.read_days.push_back(s.read_days.back() + static_cast<float>(o.read_chance));
    s.gets.push_back(s.gets.back() + static_cast<float>(o.expected_gets));
  }
  return s;
}

}  // namespace vaultaire::tiering::bench
