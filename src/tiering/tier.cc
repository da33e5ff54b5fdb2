#include "tiering/tier.h"

#include <algorithm>
#include <set>

#include "common/assert.h"

namespace vaultaire::tiering {

Result<TierTable> TierTable::create(std::vector<Tier> tiers) {
  if (tiers.empty() || tiers.size() > kMaxTiers) {
    return Errc::kInvalidArgument;
  }
  std::set<std::string_view> names;
  for (const Tier& t : tiers) {
    if (t.name.empty() || !names.insert(t.name).second) {
      return Errc::kInvalidArgument;
    }
    const bool negative = t.storage_per_gb_month < 0 || t.retrieval_per_gb < 0 ||
                          t.get_per_1000 < 0 || t.put_per_1000 < 0 || t.min_storage_days < 0 ||
                          t.restore_per_gb < 0 || t.restore_per_1000 < 0 || t.restore_hours < 0;
    if (negative) {
      return Errc::kInvalidArgument;
    }
  }
  return TierTable(std::move(tiers));
}

std::optional<size_t> TierTable::index_of(std::string_view name) const {
  for (size_t i = 0; i < tiers_.size(); ++i) {
    if (tiers_[i].name == name) {
      return i;
    }
  }
  return std::nullopt;
}

double TierTable::daily_storage(size_t index, uint64_t size_bytes) const {
  const Tier& t = tiers_[index];
  const double billed = static_cast<double>(std::max(size_bytes, t.min_billable_bytes));
  return billed / kBytesPerGb * t.storage_per_gb_month / kDaysPerMonth;
}

double TierTable::get_cost(size_t index, uint64_t size_bytes) const {
  const Tier& t = tiers_[index];
  return t.get_per_1000 / 1000.0 +
         static_cast<double>(size_bytes) / kBytesPerGb * t.retrieval_per_gb;
}

double TierTable::restore_cost(size_t index, uint64_t size_bytes) const {
  const Tier& t = tiers_[index];
  if (t.instant) {
    return 0;
  }
  return t.restore_per_1000 / 1000.0 +
         static_cast<double>(size_bytes) / kBytesPerGb * t.restore_per_gb;
}

double TierTable::day_access_cost(size_t index, uint64_t size_bytes, uint32_t gets) const {
  if (gets == 0) {
    return 0;
  }
  return gets * get_cost(index, size_bytes) + restore_cost(index, size_bytes);
}

double TierTable::early_exit_cost(size_t index, uint64_t size_bytes, int64_t days_stored) const {
  const int64_t remaining = tiers_[index].min_storage_days - days_stored;
  if (remaining <= 0) {
    return 0;
  }
  return static_cast<double>(remaining) * daily_storage(index, size_bytes);
}

const TierTable& default_tiers() {
  // us-east-1, first 50 TB/month storage band; read 2026-11-21 (docs/tiering.md lists sources).
  static const TierTable table = [] {
    constexpr uint64_t k128KiB = 128 * 1024;
    std::vector<Tier> tiers = {
        {.name = "hot",  // S3 Standard
         .storage_per_gb_month = 0.023,
         .get_per_1000 = 0.0004,
         .put_per_1000 = 0.005},
        {.name = "warm",  // S3 Standard-IA
         .storage_per_gb_month = 0.0125,
         .retrieval_per_gb = 0.01,
         .get_per_1000 = 0.001,
         .put_per_1000 = 0.01,
         .min_storage_days = 30,
         .min_billable_bytes = k128KiB},
        {.name = "cold",  // S3 Glacier Instant Retrieval
         .storage_per_gb_month = 0.004,
         .retrieval_per_gb = 0.03,
         .get_per_1000 = 0.01,
         .put_per_1000 = 0.02,
         .min_storage_days = 90,
         .min_billable_bytes = k128KiB},
        {.name = "frozen",  // S3 Glacier Deep Archive, Standard restores
         .storage_per_gb_month = 0.00099,
         .get_per_1000 = 0.0004,
         .put_per_1000 = 0.05,
         .min_storage_days = 180,
         .instant = false,
         .restore_per_gb = 0.02,
         .restore_per_1000 = 0.10,
         .restore_hours = 12},
    };
    Result<TierTable> created = TierTable::create(std::move(tiers));
    VAULTAIRE_ASSERT(created.has_value(), "the default tiers are valid");
    return *std::move(created);
  }();
  return table;
}

}  // namespace vaultaire::tiering
