#include "tiering/policy.h"

#include <algorithm>

#include "tiering/age_rules.h"
#include "tiering/cost_optimal.h"
#include "tiering/intelligent_tiering.h"

namespace vaultaire::tiering {

std::string prefix_of(std::string_view key) {
  const size_t slash = key.rfind('/');
  if (slash == std::string_view::npos) {
    return {};
  }
  return std::string(key.substr(0, slash + 1));
}

void record_read(ObjectState& object, int64_t day) {
  object.read_count += 1;
  if (object.last_access_day == day) {
    return;
  }
  object.last_access_day = day;
  object.read_day_count += 1;
  if (object.access_days.size() == kMaxAccessDays) {
    object.access_days.erase(object.access_days.begin());
  }
  object.access_days.push_back(day);
}

Result<std::unique_ptr<Policy>> make_policy(std::string_view name, const TierTable& tiers,
                                            std::vector<AgeRule> age_rules) {
  if (name == "age-rules") {
    const bool has_default = std::any_of(age_rules.begin(), age_rules.end(),
                                         [](const AgeRule& r) { return r.prefix.empty(); });
    if (!has_default) {
      for (AgeRule& r : AgeRulesPolicy::default_rules()) {
        age_rules.push_back(std::move(r));
      }
    }
    auto policy = AgeRulesPolicy::create(tiers, std::move(age_rules));
    if (!policy) {
      return policy.error();
    }
    return std::unique_ptr<Policy>(std::move(*policy));
  }
  if (name == "intelligent-tiering") {
    auto policy = IntelligentTieringPolicy::create(tiers);
    if (!policy) {
      return policy.error();
    }
    return std::unique_ptr<Policy>(std::move(*policy));
  }
  if (name == "cost-optimal") {
    auto policy = CostOptimalPolicy::create(tiers);
    if (!policy) {
      return policy.error();
    }
    return std::unique_ptr<Policy>(std::move(*policy));
  }
  return Errc::kInvalidArgument;
}

}  // namespace vaultaire::tiering
