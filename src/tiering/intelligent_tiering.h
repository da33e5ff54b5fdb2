#pragma once

// IntelligentTiering: tiers by days since the last read, like AWS S3 Intelligent-Tiering.
// 30 days without a read -> infrequent (warm), 90 -> archive instant (cold), optionally 180 ->
// deep archive (frozen); a read while off the frequent tier moves the artifact back to it at
// the next decision. Artifacts smaller than 128 KiB always stay frequent, as in AWS.
// Stateless.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/errors.h"
#include "tiering/policy.h"
#include "tiering/tier.h"

namespace vaultaire::tiering {

struct IntelligentTieringOptions {
  std::string frequent = "hot";
  std::string infrequent = "warm";
  std::string archive_instant = "cold";
  std::string deep_archive = "frozen";
  int64_t infrequent_after_days = 30;
  int64_t archive_instant_after_days = 90;
  std::optional<int64_t> deep_archive_after_days = 180;  // AWS: opt-in, 180 to 730 days
  uint64_t min_size_bytes = 128 * 1024;
};

class IntelligentTieringPolicy final : public Policy {
 public:
  // kInvalidArgument: a tier the table does not have, or thresholds not ascending.
  [[nodiscard]] static Result<std::unique_ptr<IntelligentTieringPolicy>> create(
      const TierTable& tiers, IntelligentTieringOptions options = {});

  std::string_view name() const override { return "intelligent-tiering"; }
  Decision decide(const ObjectState& object, int64_t today) override;

 private:
  explicit IntelligentTieringPolicy(IntelligentTieringOptions options)
      : options_(std::move(options)) {}

  IntelligentTieringOptions options_;
};

}  // namespace vaultaire::tiering
