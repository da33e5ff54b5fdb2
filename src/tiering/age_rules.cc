#include "tiering/age_rules.h"

#include <set>

#include <fmt/format.h>

namespace vaultaire::tiering {

std::optional<std::string> age_rules_problem(const TierTable& tiers,
                                             const std::vector<AgeRule>& rules) {
  std::set<std::string_view> prefixes;
  for (const AgeRule& rule : rules) {
    const std::string which = "the rule for prefix '" + rule.prefix + "'";
    if (!prefixes.insert(rule.prefix).second) {
      return "two rules for prefix '" + rule.prefix + "'";
    }
    if (rule.ladder.empty() || rule.ladder.front().from_day != 0) {
      return which + " must start with a step at days = 0";
    }
    for (size_t i = 0; i < rule.ladder.size(); ++i) {
      if (!tiers.index_of(rule.ladder[i].tier)) {
        return which + " names tier '" + rule.ladder[i].tier + "', which [[tiers]] does not have";
      }
      if (i > 0 && rule.ladder[i].from_day <= rule.ladder[i - 1].from_day) {
        return which + " has steps whose days do not ascend";
      }
    }
  }
  return std::nullopt;
}

std::vector<AgeRule> AgeRulesPolicy::default_rules() {
  return {AgeRule{.prefix = "", .ladder = {{0, "hot"}, {7, "warm"}, {30, "cold"}, {90, "frozen"}}}};
}

Result<std::unique_ptr<AgeRulesPolicy>> AgeRulesPolicy::create(const TierTable& tiers,
                                                               std::vector<AgeRule> rules) {
  if (rules.empty() || age_rules_problem(tiers, rules)) {
    return Errc::kInvalidArgument;
  }
  return std::unique_ptr<AgeRulesPolicy>(new AgeRulesPolicy(std::move(rules)));
}

const AgeRule* AgeRulesPolicy::rule_for(std::string_view key) const {
  const AgeRule* best = nullptr;
  for (const AgeRule& rule : rules_) {
    if (key.starts_with(rule.prefix) && (!best || rule.prefix.size() > best->prefix.size())) {
      best = &rule;
    }
  }
  return best;
}

Decision AgeRulesPolicy::decide(const ObjectState& object, int64_t today) {
  const AgeRule* rule = rule_for(object.key);
  if (!rule) {
    return {.tier = object.tier, .reason = "no rule matches the path: stays"};
  }
  const std::vector<AgeStep>& ladder = rule->ladder;
  if (object.size < rule->min_size_bytes) {
    return {.tier = object.tier,
            .reason = fmt::format("smaller than {} bytes: never moved", rule->min_size_bytes)};
  }
  size_t step = ladder.size();  // where the artifact is on the ladder (size: off it)
  for (size_t i = 0; i < ladder.size(); ++i) {
    if (ladder[i].tier == object.tier) {
      step = i;
      break;
    }
  }
  if (rule->promote_on_read && step != 0 && object.last_access_day >= object.tier_since_day) {
    return {.tier = ladder.front().tier,
            .reason = fmt::format("read on day {} while on {}: promoted", object.last_access_day,
                                  object.tier)};
  }
  const int64_t start =
      step < ladder.size() ? object.tier_since_day - ladder[step].from_day : object.created_day;
  const int64_t age = today - start;
  size_t target = 0;
  while (target + 1 < ladder.size() && ladder[target + 1].from_day <= age) {
    ++target;
  }
  if (step < ladder.size() && target < step) {
    target = step;  // the ladder only goes down; reads bring artifacts back up
  }
  return {.tier = ladder[target].tier,
          .reason = fmt::format("{} days on the ladder of rule '{}': {} from day {}", age,
                                rule->prefix, ladder[target].tier, ladder[target].from_day)};
}

}  // namespace vaultaire::tiering
