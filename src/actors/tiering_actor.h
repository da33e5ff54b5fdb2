#pragma once

// The tiering actor: keeps every artifact on the tier its policy picks, and serves restores.
//
// It consumes the event log from its checkpoint (the `tiering` column family holds what it
// learned of each artifact, the moves it planned and the checkpoint, written together), feeds
// the policy with puts, reads and deletes, and in each decision pass asks the policy where every
// artifact should be. A move is planned (durably), then run with a concurrency and bandwidth
// limit:
//
//   1. copy each of the artifact's blobs to the target tier's driver, hashing as it goes; the
//      new blob ids are recorded in the plan first, so a crash leaves nothing unaccounted for;
//   2. verify: the bytes read match the artifact's MD5 (its ETag or its parts' ETags) and the
//      copy, read back from the target, matches them;
//   3. commit ArtifactMigrated through the container's actor: the projection applies it only
//      if the artifact still holds the blobs the copy was made from (an overwrite or delete in
//      between makes it refuse, and the copy is removed);
//   4. release the old blobs.
//
// A restart resumes planned moves: blobs a plan wrote that the views do not reference are
// removed and the move starts again; the old blobs of a move that committed are released.
// Whatever step a crash interrupts, the views point to one complete, verified copy.
//
// Restores (RestoreObject on a tier whose reads need one) are planned the same way: the copy
// goes to the hottest tier, ArtifactRestored makes it readable, and RestoreExpired releases it
// when its days are over.
//
// Time: the policy's days and the restore expiries come from the injected clock.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "actors/hub.h"
#include "actors/spoke.h"
#include "common/clock.h"
#include "events/event_log.h"
#include "events/store.h"
#include "events/view_reader.h"
#include "tiering/policy.h"
#include "tiering/tier.h"
#include "vaultaire/tiering.pb.h"

namespace vaultaire::actors {

struct TieringOptions {
  std::string policy = "cost-optimal";  // "none": nothing moves; restores are still served
  std::chrono::seconds pass_interval{3600};
  unsigned concurrency = 4;
  uint64_t bandwidth_bytes_per_second = 0;       // copies of all moves together; 0: unlimited
  std::chrono::milliseconds poll_interval{200};  // how often the log is checked for events
  size_t chunk_size = 1 << 20;
  std::vector<tiering::AgeRule> age_rules;  // age-rules: per bucket and prefix
};

struct PassReport {
  uint64_t examined = 0;   // artifacts the policy looked at
  uint64_t planned = 0;    // moves planned by this pass
  uint64_t moved = 0;      // moves committed while the pass waited
  uint64_t abandoned = 0;  // moves that found the artifact changed (or gone)
  uint64_t failed = 0;     // moves that failed (a driver error, a verification mismatch)
  uint64_t restored = 0;   // restores completed while the pass waited
  uint64_t expired = 0;    // restored copies released
};

class TieringActor {
 public:
  // `tiers` are the spoke's tiers in the same order, with their prices. Fails with
  // kInvalidArgument for an unknown policy.
  [[nodiscard]] static Result<std::unique_ptr<TieringActor>> create(
      asio::any_io_executor executor, events::Store& store, const events::EventLog& log,
      const events::ViewReader& views, Hub& hub, Spoke& spoke, tiering::TierTable tiers,
      TieringOptions options, const Clock& clock);
  ~TieringActor();

  // Relearns the policy from the log up to the checkpoint (blocking: call at startup), then
  // follows the log, runs a pass every pass_interval and resumes the planned moves.
  Result<void> start();
  void stop();

  // Catches up with the log, runs a decision pass now, and waits until every planned move and
  // restore has finished (for tests and `vaultctl tiers run`).
  asio::awaitable<Result<PassReport>> run_pass();

  // Why the artifact is where it is: its history, each tier's expected cost, the decision.
  asio::awaitable<Result<nlohmann::json>> explain(std::string tenant, std::string container,
                                                  std::string path);

  // Bytes and artifacts per tier, the monthly storage cost now and if everything were on the
  // hottest tier. Empty filters mean all.
  asio::awaitable<Result<nlohmann::json>> report(std::string tenant, std::string container);

  const tiering::TierTable& tiers() const { return tiers_; }

 private:
  struct Job {
    std::string key;  // the plan's key
    std::string tenant, container, path;
  };
  enum class Outcome { kDone, kMoved, kRestored, kAbandoned, kFailed };
  // A verified copy of an artifact's blobs on one driver.
  struct Copy {
    std::string driver;
    std::vector<proto::Segment> segments;  // new blob ids, with the originals' sizes and ETags
    std::vector<proto::Segment> from;      // the originals
  };

  TieringActor(asio::any_io_executor executor, events::Store& store, const events::EventLog& log,
               const events::ViewReader& views, Hub& hub, Spoke& spoke, tiering::TierTable tiers,
               TieringOptions options, const Clock& clock);

  int64_t today() const;
  // Reads the log after the checkpoint into the object states and the policy; returns the plans
  // it made (restores). Blocking; holds mu_.
  Result<std::vector<Job>> consume();
  // Asks the policy about every artifact; plans and returns the moves. Blocking; holds mu_.
  Result<std::vector<Job>> decide_all(PassReport& report);
  // Expired restored copies. Blocking; holds mu_.
  Result<std::vector<Job>> expired_restores();
  Result<std::vector<Job>> planned_jobs();

  asio::awaitable<void> main_loop();
  asio::awaitable<void> worker();
  asio::awaitable<void> run_job(Job job);
  asio::awaitable<Outcome> migrate(const Job& job, proto::TieringPlan plan);
  asio::awaitable<Outcome> restore(const Job& job, proto::TieringPlan plan);
  asio::awaitable<void> expire(const Job& job);
  // Copies the artifact's blobs to `target` and verifies them; the new blobs are recorded in
  // `plan` (saved) before they are written. On failure nothing of the copy is left.
  asio::awaitable<Result<Copy>> copy_verified(const Job& job, proto::TieringPlan& plan,
                                              const proto::ArtifactRecord& record,
                                              drivers::Driver& target);
  asio::awaitable<void> remove_copy(const Copy& copy);
  void release(const google::protobuf::RepeatedPtrField<proto::BlobRef>& blobs);
  proto::Command command_for(const Job& job) const;
  void enqueue(std::vector<Job> jobs);
  asio::awaitable<Result<void>> catch_up();
  asio::awaitable<void> drain();
  asio::awaitable<void> throttle(size_t bytes);

  asio::any_io_executor executor_;
  events::Store& store_;
  const events::EventLog& log_;
  const events::ViewReader& views_;
  Hub& hub_;
  Spoke& spoke_;
  const tiering::TierTable tiers_;
  const TieringOptions options_;
  const Clock& clock_;

  std::mutex mu_;  // the policy and the tiering column family's state
  std::unique_ptr<tiering::Policy> policy_;
  uint64_t checkpoint_ = 0;

  // On the executor (a strand):
  std::deque<Job> queue_;
  std::set<std::string> queued_;  // plan keys queued or running
  size_t running_ = 0;
  asio::steady_timer wake_;          // workers wait on it; cancelled when jobs arrive
  asio::steady_timer idle_;          // drain() waits on it; cancelled when a job ends
  int64_t throttle_next_nanos_ = 0;  // the bandwidth limiter's next free instant (steady)
  PassReport totals_;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<bool> alive_;
};

}  // namespace vaultaire::actors
