#pragma once

// A small tier table with round prices, so the tests' arithmetic can be done by hand. Sizes of
// kGiB make storage cost exactly the per-GB-day price.
//
//   tier  $/GB-day  retrieval $/GB  GET      PUT      min days  min billable  restore
//   a     1         0               0.001    0.002    0         -             -
//   b     0.5       0.1             0.01     0.005    3         1 GiB         -
//   c     0.1       0               0.001    0.02     5         -             0.1 + 1/GB

#include <cstdint>

#include "tiering/tier.h"

namespace vaultaire::tiering::testing {

inline constexpr uint64_t kGiB = uint64_t{1} << 30;

inline TierTable round_tiers() {
  std::vector<Tier> tiers = {
      {.name = "a", .storage_per_gb_month = 30, .get_per_1000 = 1, .put_per_1000 = 2},
      {.name = "b",
       .storage_per_gb_month = 15,
       .retrieval_per_gb = 0.1,
       .get_per_1000 = 10,
       .put_per_1000 = 5,
       .min_storage_days = 3,
       .min_billable_bytes = kGiB},
      {.name = "c",
       .storage_per_gb_month = 3,
       .get_per_1000 = 1,
       .put_per_1000 = 20,
       .min_storage_days = 5,
       .instant = false,
       .restore_per_gb = 1,
       .restore_per_1000 = 100,
       .restore_hours = 12},
  };
  return TierTable::create(std::move(tiers)).value();
}

}  // namespace vaultaire::tiering::testing
