#pragma once

// The policy interface: from what is known of one artifact today, the tier it should be on.
//
// Policies are pure code: no I/O, no clock (days come from the caller, so a 180-day policy is
// tested in microseconds). The tiering actor and the simulator (simulation.h) drive them the
// same way: observe_put / observe_read / observe_delete as events happen, and decide() once per
// artifact per decision pass. A policy may learn from what it observes; it never sees the
// future. Not thread-safe: one caller at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"
#include "tiering/tier.h"

namespace vaultaire::tiering {

// How many read days ObjectState::access_days keeps.
inline constexpr size_t kMaxAccessDays = 64;

// What a policy sees of one artifact at decision time. Days are whole days on the caller's
// clock (the simulator counts from 0; the actor uses days since the Unix epoch).
struct ObjectState {
  std::string key;     // the artifact's path (the tiering actor: "BUCKET/PATH")
  std::string prefix;  // the path up to and including its last '/' ("" when it has none)
  uint64_t size = 0;
  int64_t created_day = 0;
  std::string tier;  // where it is now
  int64_t tier_since_day = 0;
  int64_t last_access_day = -1;      // -1 if never read
  std::vector<int64_t> access_days;  // distinct days with reads, most recent last, bounded
  uint64_t read_count = 0;           // GETs since written
  uint64_t read_day_count = 0;       // distinct days with reads since written
};

// The path up to and including its last '/'.
std::string prefix_of(std::string_view key);

// Records one GET on `day` (days never decrease) into the state.
void record_read(ObjectState& object, int64_t day);

struct TierCost {
  std::string tier;
  double expected_cost = 0;  // over the policy's horizon, in dollars
  std::string note;
};

struct Decision {
  std::string tier;             // where the artifact should be (may equal ObjectState::tier)
  std::string reason;           // one line for `vaultctl tiers explain`
  std::vector<TierCost> costs;  // per tier, when the policy prices them
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const = 0;
  // Access events, for learning. `object` is the state before the event is applied: for a
  // read, before record_read(); for a put, the new artifact on the hottest tier, observed
  // before the decide() that places it; for a delete (or an overwrite), the artifact leaving.
  virtual void observe_read(const ObjectState& object, int64_t day) {}
  virtual void observe_put(const ObjectState& object, int64_t day) {}
  virtual void observe_delete(const ObjectState& object, int64_t day) {}
  // The tier `object` should be on from `today` on. Called for a new artifact before it is
  // written (object.tier is then the table's hottest tier and tier_since_day == today) and in
  // every decision pass; a move it asks for takes effect on `today`.
  virtual Decision decide(const ObjectState& object, int64_t today) = 0;
};

// The age-rules policy's ladders (tiering/age_rules.h), here so configuration can pass them.
struct AgeStep {
  int64_t from_day = 0;  // age (days since written or promoted) at which the step starts
  std::string tier;
};

struct AgeRule {
  std::string prefix;  // applies to paths starting with it; the longest matching prefix wins
  std::vector<AgeStep> ladder;  // from_day strictly ascending, the first one 0
  bool promote_on_read = true;
  // Smaller artifacts are never moved (AWS lifecycle's default since 2024: 128 KiB).
  uint64_t min_size_bytes = 128 * 1024;
};

// What is wrong with `rules` for `tiers`, for a person to read (two rules for one prefix, a
// ladder empty, not starting at day 0 or not ascending, a tier the table does not have), or
// nullopt when nothing is.
std::optional<std::string> age_rules_problem(const TierTable& tiers,
                                             const std::vector<AgeRule>& rules);

// "age-rules", "intelligent-tiering" or "cost-optimal" with their defaults; kInvalidArgument
// for another name. `age_rules` (age-rules only) replace the default ladder for the paths they
// match; the default still applies to the others unless a rule has the empty prefix. The table
// must outlive the policy.
[[nodiscard]] Result<std::unique_ptr<Policy>> make_policy(std::string_view name,
                                                          const TierTable& tiers,
                                                          std::vector<AgeRule> age_rules = {});

}  // namespace vaultaire::tiering
