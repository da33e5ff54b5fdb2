#include "tiering/planner.h"

#include <array>

#include <fmt/format.h>

#include "common/assert.h"

namespace vaultaire::tiering {

PlanPrices price_plans(const TierTable& tiers, const PlanInput& in) {
  const size_t tier_count = tiers.size();
  struct Priced {
    double storage;       // per day
    double per_read_day;  // expected GETs' requests and retrieval, and a restore
    double put;
    double read_out;  // reading the artifact out for a promotion
  };
  std::array<Priced, kMaxTiers> priced{};
  VAULTAIRE_ASSERT(tier_count <= priced.size(), "TierTable::create() caps the tiers");
  for (size_t k = 0; k < tier_count; ++k) {
    priced[k] = {tiers.daily_storage(k, in.size),
                 in.gets_per_read_day * tiers.get_cost(k, in.size) + tiers.restore_cost(k, in.size),
                 tiers.put_cost(k), tiers.read_out_cost(k, in.size)};
  }
  const double leave_current = tiers.read_out_cost(in.current, in.size, in.restored);
  // TierTable::early_exit_cost(), with the storage price computed once per tier.
  const auto exit_cost = [&](size_t k, int64_t days) {
    const int64_t remaining = tiers[k].min_storage_days - days;
    return remaining > 0 ? static_cast<double>(remaining) * priced[k].storage : 0.0;
  };

  PlanPrices out;
  out.tiers.resize(tier_count);
  for (size_t k = 0; k < tier_count; ++k) {
    const bool stay = k == in.current;
    const double entry = stay ? 0.0
                              : exit_cost(in.current, in.days_on_current) +
                                    (k < in.current ? leave_current : 0.0) + priced[k].put;
    const int64_t already = stay ? in.days_on_current : 0;
    TierPlan best{.cost = entry + in.span * priced[k].storage +
                          priced[k].per_read_day * in.read_days +
                          (in.removed ? exit_cost(k, already + in.span) : 0.0),
                  .days = in.span,
                  .then = k};
    if (stay) {
      out.staying = best.cost;
    }
    for (size_t i = 0; i < kPlanLegDays.size() && kPlanLegDays[i] < in.span; ++i) {
      const int64_t s = kPlanLegDays[i];
      const double first = entry + s * priced[k].storage +
                           priced[k].per_read_day * in.read_days_by[i] + exit_cost(k, already + s);
      for (size_t k2 = 0; k2 < tier_count; ++k2) {
        if (k2 == k) {
          continue;
        }
        const double cost = first + (k2 < k ? priced[k].read_out : 0.0) + priced[k2].put +
                            (in.span - s) * priced[k2].storage +
                            priced[k2].per_read_day * (in.read_days - in.read_days_by[i]) +
                            (in.removed ? exit_cost(k2, in.span - s) : 0.0);
        if (cost < best.cost) {
          best = {.cost = cost, .days = s, .then = k2};
        }
      }
    }
    out.tiers[k] = best;
  }
  return out;
}

Decision choose_tier(const TierTable& tiers, const PlanInput& in, const PlanPrices& prices,
                     double hysteresis) {
  Decision decision;
  size_t cheapest = in.current;
  for (size_t k = 0; k < tiers.size(); ++k) {
    const TierPlan& plan = prices.tiers[k];
    decision.costs.push_back({.tier = tiers[k].name,
                              .expected_cost = plan.cost,
                              .note = plan.days == in.span ? fmt::format("{}d", in.span)
                                                           : fmt::format("{}d then {}", plan.days,
                                                                         tiers[plan.then].name)});
    if (plan.cost < prices.tiers[cheapest].cost) {
      cheapest = k;
    }
  }
  const std::string expected = fmt::format("{:.3g} read days expected in {}d{}", in.read_days,
                                           in.span, in.removed ? " (then deleted)" : "");
  const std::string_view current = tiers[in.current].name;
  if (cheapest == in.current) {
    decision.tier = current;
    decision.reason =
        fmt::format("{}: {} is cheapest ({:.3g})", expected, current, prices.tiers[cheapest].cost);
  } else if (prices.tiers[cheapest].cost < prices.staying * (1 - hysteresis)) {
    decision.tier = tiers[cheapest].name;
    decision.reason =
        fmt::format("{}: {} costs {:.3g}, staying on {} {:.3g}", expected, tiers[cheapest].name,
                    prices.tiers[cheapest].cost, current, prices.staying);
  } else {
    decision.tier = current;
    decision.reason = fmt::format("{}: {} ({:.3g}) saves less than {:g}% of staying on {} ({:.3g})",
                                  expected, tiers[cheapest].name, prices.tiers[cheapest].cost,
                                  hysteresis * 100, current, prices.staying);
  }
  return decision;
}

}  // namespace vaultaire::tiering
