#pragma once

// AgeRules: the classic lifecycle ladder. Per path prefix, a list of (age, tier) steps; an
// artifact walks down the ladder as it ages, and a read while it is off the ladder's first
// tier promotes it back there at the next decision, where its ladder starts again.
//
// Stateless: the ladder's start is reconstructed from where the artifact is. On the first step
// it is tier_since_day (the write or the last promotion); on step s it is tier_since_day minus
// step s's age, since the ladder moved it there at exactly that age.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"
#include "tiering/policy.h"
#include "tiering/tier.h"

namespace vaultaire::tiering {

class AgeRulesPolicy final : public Policy {
 public:
  // One rule for every path: hot from 0, warm from 7, cold from 30, frozen from 90 days.
  static std::vector<AgeRule> default_rules();
  // kInvalidArgument: no rules, or age_rules_problem() finds one. The table must outlive the
  // policy.
  [[nodiscard]] static Result<std::unique_ptr<AgeRulesPolicy>> create(const TierTable& tiers,
                                                                      std::vector<AgeRule> rules);

  std::string_view name() const override { return "age-rules"; }
  Decision decide(const ObjectState& object, int64_t today) override;

 private:
  explicit AgeRulesPolicy(std::vector<AgeRule> rules) : rules_(std::move(rules)) {}
  const AgeRule* rule_for(std::string_view key) const;

  std::vector<AgeRule> rules_;
};

}  // namespace vaultaire::tiering
