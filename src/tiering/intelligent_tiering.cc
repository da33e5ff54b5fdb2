#include "tiering/intelligent_tiering.h"

#include <algorithm>

#include <fmt/format.h>

namespace vaultaire::tiering {

Result<std::unique_ptr<IntelligentTieringPolicy>> IntelligentTieringPolicy::create(
    const TierTable& tiers, IntelligentTieringOptions options) {
  const bool known = tiers.index_of(options.frequent) && tiers.index_of(options.infrequent) &&
                     tiers.index_of(options.archive_instant) &&
                     (!options.deep_archive_after_days || tiers.index_of(options.deep_archive));
  const bool ascending = options.infrequent_after_days > 0 &&
                         options.archive_instant_after_days > options.infrequent_after_days &&
                         (!options.deep_archive_after_days ||
                          *options.deep_archive_after_days > options.archive_instant_after_days);
  if (!known || !ascending) {
    return Errc::kInvalidArgument;
  }
  return std::unique_ptr<IntelligentTieringPolicy>(
      new IntelligentTieringPolicy(std::move(options)));
}

Decision IntelligentTieringPolicy::decide(const ObjectState& object, int64_t today) {
  const IntelligentTieringOptions& o = options_;
  if (object.size < o.min_size_bytes) {
    return {.tier = object.tier,
            .reason = fmt::format("smaller than {} bytes: not monitored", o.min_size_bytes)};
  }
  if (object.tier != o.frequent && object.last_access_day >= object.tier_since_day) {
    return {.tier = o.frequent,
            .reason = fmt::format("read on day {} while on {}: back to {}", object.last_access_day,
                                  object.tier, o.frequent)};
  }
  const int64_t idle = today - std::max(object.created_day, object.last_access_day);
  std::string_view target = o.frequent;
  int64_t threshold = 0;
  if (o.deep_archive_after_days && idle >= *o.deep_archive_after_days) {
    target = o.deep_archive;
    threshold = *o.deep_archive_after_days;
  } else if (idle >= o.archive_instant_after_days) {
    target = o.archive_instant;
    threshold = o.archive_instant_after_days;
  } else if (idle >= o.infrequent_after_days) {
    target = o.infrequent;
    threshold = o.infrequent_after_days;
  }
  // Tiers only get colder with idleness; an artifact placed colder by someone else stays.
  const auto rank = [&](std::string_view tier) {
    if (tier == o.frequent) {
      return 0;
    }
    if (tier == o.infrequent) {
      return 1;
    }
    if (tier == o.archive_instant) {
      return 2;
    }
    return 3;
  };
  if (rank(target) < rank(object.tier)) {
    return {.tier = object.tier,
            .reason = fmt::format("{} days without a read: stays on {}", idle, object.tier)};
  }
  return {.tier = std::string(target),
          .reason = fmt::format("{} days without a read (>= {}): {}", idle, threshold, target)};
}

}  // namespace vaultaire::tiering
