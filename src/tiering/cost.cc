#include "tiering/cost.h"

#include "common/assert.h"

namespace vaultaire::tiering {

CostBreakdown& CostBreakdown::operator+=(const CostBreakdown& other) {
  storage += other.storage;
  requests += other.requests;
  retrieval += other.retrieval;
  restores += other.restores;
  transitions += other.transitions;
  early_exit += other.early_exit;
  return *this;
}

CostBreakdown life_cost(const TierTable& tiers, uint64_t size_bytes, std::span<const DayState> days,
                        LifeEnd end, std::span<double> daily) {
  VAULTAIRE_ASSERT(daily.empty() || daily.size() == days.size(),
                   "the daily breakdown has one slot per day");
  CostBreakdown cost;
  const double gb = static_cast<double>(size_bytes) / kBytesPerGb;
  size_t since = 0;  // the day the artifact entered its current tier
  for (size_t i = 0; i < days.size(); ++i) {
    const size_t k = days[i].tier;
    VAULTAIRE_ASSERT(k < tiers.size(), "day states name tiers of the table");
    const Tier& tier = tiers[k];
    double today = 0;
    if (i == 0) {
      today += tiers.put_cost(k);
      cost.transitions += tiers.put_cost(k);
    } else if (k != days[i - 1].tier) {
      const size_t from = days[i - 1].tier;
      const double early = tiers.early_exit_cost(from, size_bytes, static_cast<int64_t>(i - since));
      const bool restored = !tiers[from].instant && days[i - 1].gets > 0;
      const double read_out = k < from ? tiers.read_out_cost(from, size_bytes, restored) : 0.0;
      const double move = read_out + tiers.put_cost(k);
      cost.early_exit += early;
      cost.transitions += move;
      today += early + move;
      since = i;
    }
    const double storage = tiers.daily_storage(k, size_bytes);
    cost.storage += storage;
    today += storage;
    if (const uint32_t gets = days[i].gets; gets > 0) {
      const double requests = gets * tier.get_per_1000 / 1000.0;
      const double retrieval = gets * gb * tier.retrieval_per_gb;
      const double restore = tiers.restore_cost(k, size_bytes);
      cost.requests += requests;
      cost.retrieval += retrieval;
      cost.restores += restore;
      today += requests + retrieval + restore;
    }
    if (i + 1 == days.size() && end == LifeEnd::kRemoved) {
      const double early =
          tiers.early_exit_cost(k, size_bytes, static_cast<int64_t>(days.size() - since));
      cost.early_exit += early;
      today += early;
    }
    if (!daily.empty()) {
      daily[i] += today;
    }
  }
  return cost;
}

}  // namespace vaultaire::tiering
