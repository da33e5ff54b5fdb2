#include "tiering/optimal.h"

#include <algorithm>
#include <limits>

#include "common/assert.h"

namespace vaultaire::tiering {
namespace {

constexpr double kUnreachable = std::numeric_limits<double>::infinity();
constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

}  // namespace

OptimalPlanner::OptimalPlanner(const TierTable& tiers) : tiers_(tiers) {
  group_of_tier_[0].assign(tiers_.size(), kNone);
  group_of_tier_[1].assign(tiers_.size(), kNone);
  for (size_t k = 0; k < tiers_.size(); ++k) {
    const auto cap = static_cast<uint32_t>(std::max<int64_t>(tiers_[k].min_storage_days, 1));
    for (const bool restored : {false, true}) {
      if (restored && tiers_[k].instant) {
        continue;
      }
      group_of_tier_[restored][k] = static_cast<uint32_t>(groups_.size());
      groups_.push_back({static_cast<uint32_t>(k), restored, states_, cap});
      tier_of_.insert(tier_of_.end(), cap, static_cast<uint32_t>(k));
      states_ += cap;
    }
  }
  VAULTAIRE_ASSERT(states_ < std::numeric_limits<uint16_t>::max(),
                   "state indexes fit the predecessor table");
  value_.resize(states_);
  next_.resize(states_);
  exit_cost_.resize(states_);
}

OptimalPlan OptimalPlanner::plan(uint64_t size_bytes, std::span<const uint32_t> gets, LifeEnd end) {
  OptimalPlan result;
  const size_t days = gets.size();
  if (days == 0) {
    return result;
  }
  const size_t tier_count = tiers_.size();
  for (const Group& g : groups_) {
    for (uint32_t d = 1; d <= g.cap; ++d) {
      exit_cost_[g.first + d - 1] = tiers_.early_exit_cost(g.tier, size_bytes, d);
    }
  }
  std::vector<double> storage(tier_count);
  std::vector<double> read_out(groups_.size());
  for (size_t k = 0; k < tier_count; ++k) {
    storage[k] = tiers_.daily_storage(k, size_bytes);
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    read_out[g] = tiers_.read_out_cost(groups_[g].tier, size_bytes, groups_[g].restored);
  }
  // The group an artifact on tier k is in after day i: restored when k is not instant and the
  // day had reads.
  const auto group_after = [&](size_t k, size_t i) {
    const bool restored = !tiers_[k].instant && gets[i] > 0;
    return group_of_tier_[restored][k];
  };
  predecessor_.assign(days * states_, 0);

  std::fill(value_.begin(), value_.end(), kUnreachable);
  for (size_t k = 0; k < tier_count; ++k) {
    value_[groups_[group_after(k, 0)].first] =
        tiers_.put_cost(k) + storage[k] + tiers_.day_access_cost(k, size_bytes, gets[0]);
  }

  std::vector<double> best_exit(groups_.size());
  std::vector<uint32_t> best_exit_state(groups_.size());
  for (size_t i = 1; i < days; ++i) {
    uint16_t* pred = &predecessor_[i * states_];
    // The cheapest way out of each group today, before paying today's costs and the read a
    // promotion adds (the same for every state of a group).
    for (size_t g = 0; g < groups_.size(); ++g) {
      best_exit[g] = kUnreachable;
      for (uint32_t s = groups_[g].first; s < groups_[g].first + groups_[g].cap; ++s) {
        const double v = value_[s] + exit_cost_[s];
        if (v < best_exit[g]) {
          best_exit[g] = v;
          best_exit_state[g] = s;
        }
      }
    }
    std::fill(next_.begin(), next_.end(), kUnreachable);
    for (size_t k = 0; k < tier_count; ++k) {
      const double today = storage[k] + tiers_.day_access_cost(k, size_bytes, gets[i]);
      const Group& to = groups_[group_after(k, i)];
      // Staying: (k, d, either flag) -> (k, min(d + 1, cap), today's flag).
      for (const uint32_t from_group : {group_of_tier_[0][k], group_of_tier_[1][k]}) {
        if (from_group == kNone) {
          continue;
        }
        const Group& from = groups_[from_group];
        for (uint32_t d = 1; d <= from.cap; ++d) {
          const uint32_t target = to.first + std::min(d + 1, to.cap) - 1;
          const uint32_t source = from.first + d - 1;
          const double v = value_[source] + today;
          if (v < next_[target]) {
            next_[target] = v;
            pred[target] = static_cast<uint16_t>(source);
          }
        }
      }
      // Entering k today from any other tier.
      for (size_t g = 0; g < groups_.size(); ++g) {
        if (groups_[g].tier == k) {
          continue;
        }
        const double promotion = groups_[g].tier > k ? read_out[g] : 0.0;
        const double v = best_exit[g] + promotion + tiers_.put_cost(k) + today;
        if (v < next_[to.first]) {
          next_[to.first] = v;
          pred[to.first] = static_cast<uint16_t>(best_exit_state[g]);
        }
      }
    }
    std::swap(value_, next_);
  }

  double best = kUnreachable;
  uint32_t state = 0;
  for (uint32_t s = 0; s < states_; ++s) {
    const double v = value_[s] + (end == LifeEnd::kRemoved ? exit_cost_[s] : 0.0);
    if (v < best) {
      best = v;
      state = s;
    }
  }
  result.cost = best;
  result.tiers.resize(days);
  for (size_t i = days; i-- > 0;) {
    result.tiers[i] = tier_of_[state];
    if (i > 0) {
      state = predecessor_[i * states_ + state];
    }
  }
  return result;
}

}  // namespace vaultaire::tiering
