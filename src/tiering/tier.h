#pragma once

// Storage tiers and their prices. Pure data: no I/O, no clock.
//
// A tier is one place an artifact can live (in production, a named driver instance) together
// with what the provider bills for it. Prices are in US dollars. Sizes are billed in GB of
// 2^30 bytes, as AWS bills them; storage is prorated per day over a billing month of
// kDaysPerMonth days.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"

namespace vaultaire::tiering {

inline constexpr double kBytesPerGb = 1024.0 * 1024.0 * 1024.0;
inline constexpr double kDaysPerMonth = 30.0;
inline constexpr size_t kMaxTiers = 16;

struct Tier {
  std::string name;
  double storage_per_gb_month = 0;  // stored bytes, prorated per day
  double retrieval_per_gb = 0;      // bytes read by a GET while the artifact is on this tier
  double get_per_1000 = 0;          // GET requests
  double put_per_1000 = 0;          // writing an artifact INTO this tier: a PUT or a transition
  int64_t min_storage_days = 0;     // leaving (move or delete) earlier pays the remaining days
  uint64_t min_billable_bytes = 0;  // smaller artifacts are billed as this size (storage only)
  bool instant = true;              // false: a read first needs a restore
  double restore_per_gb = 0;        // non-instant tiers: per GB restored
  double restore_per_1000 = 0;      // non-instant tiers: per restore request
  double restore_hours = 0;         // non-instant tiers: how long a restore takes (informative)
};

// Tiers ordered hot -> coldest. Index 0 is where new artifacts land by default.
class TierTable {
 public:
  // Fails with kInvalidArgument on: no tiers or more than kMaxTiers, an empty or duplicate
  // name, a negative price or duration.
  [[nodiscard]] static Result<TierTable> create(std::vector<Tier> tiers);

  size_t size() const { return tiers_.size(); }
  const Tier& operator[](size_t index) const { return tiers_[index]; }
  const Tier& hottest() const { return tiers_.front(); }
  const std::vector<Tier>& tiers() const { return tiers_; }
  std::optional<size_t> index_of(std::string_view name) const;

  // Storage billed for one day on tier `index` for an artifact of `size_bytes`, with the tier's
  // minimum billable size applied.
  double daily_storage(size_t index, uint64_t size_bytes) const;
  // One GET while on tier `index`: the request and the retrieval of the artifact's bytes.
  double get_cost(size_t index, uint64_t size_bytes) const;
  // The restore a day with reads needs on a non-instant tier (0 on an instant tier): one
  // restore request and the bytes restored; the restored copy serves every read that day.
  double restore_cost(size_t index, uint64_t size_bytes) const;
  // What a day with `gets` GETs on tier `index` costs beyond storage.
  double day_access_cost(size_t index, uint64_t size_bytes, uint32_t gets) const;
  // Writing the artifact into tier `index` (its PUT price for one request).
  double put_cost(size_t index) const { return tiers_[index].put_per_1000 / 1000.0; }
  // Reading the artifact out of tier `index` to copy it elsewhere: one GET with its retrieval
  // and, on a non-instant tier, a restore, unless `restored` (a restored copy from the day
  // before is still there: a read on a restore-only tier can promote the artifact without a
  // second restore).
  double read_out_cost(size_t index, uint64_t size_bytes, bool restored = false) const {
    return get_cost(index, size_bytes) + (restored ? 0.0 : restore_cost(index, size_bytes));
  }
  // Leaving tier `index` after `days_stored` days: the remaining minimum days' storage.
  double early_exit_cost(size_t index, uint64_t size_bytes, int64_t days_stored) const;

 private:
  explicit TierTable(std::vector<Tier> tiers) : tiers_(std::move(tiers)) {}

  std::vector<Tier> tiers_;
};

// hot, warm, cold, frozen priced like AWS S3 Standard, Standard-IA, Glacier Instant Retrieval
// and Glacier Deep Archive (Standard restores) in us-east-1. Sources and the date the prices
// were read: docs/tiering.md.
const TierTable& default_tiers();

}  // namespace vaultaire::tiering
