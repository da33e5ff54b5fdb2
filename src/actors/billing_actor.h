#pragma once

// The billing actor: follows the event log into the billing column family (billing/usage.h)
// and answers usage and invoice queries for the admin API (docs/billing.md).
//
// It consumes the log from its checkpoint every poll interval, in batches written together
// with the checkpoint (events/consumer.h), so a crash makes it read again the events of the
// batch it was building: each event is counted exactly once. A query first catches up with the
// log, so it sees every event acknowledged before it was asked.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "billing/usage.h"
#include "common/async.h"
#include "common/clock.h"
#include "events/event_log.h"
#include "events/store.h"

namespace vaultaire::actors {

struct BillingOptions {
  std::chrono::milliseconds poll_interval{200};
};

class BillingActor {
 public:
  // `hottest` is the tier listings and restored copies are counted on. All references
  // outlive the actor.
  BillingActor(asio::any_io_executor executor, events::Store& store, const events::EventLog& log,
               std::string hottest, const Clock& clock, BillingOptions options = {});
  ~BillingActor();
  BillingActor(const BillingActor&) = delete;
  BillingActor& operator=(const BillingActor&) = delete;

  // Loads the checkpoint and starts following the log.
  Result<void> start();
  void stop();

  // Consumes the log up to its last event.
  asio::awaitable<Result<void>> catch_up();

  // Usage rows of `tenant` (empty: all) for hours [from_hour, to_hour), after catching up.
  // Hours after now are not reported; the current one is counted up to now.
  asio::awaitable<Result<std::vector<billing::UsageRow>>> usage(std::string tenant,
                                                                int64_t from_hour, int64_t to_hour);

  // The last sequence consumed.
  uint64_t checkpoint() const { return published_checkpoint_.load(); }

 private:
  Result<void> consume();
  asio::awaitable<void> main_loop();

  asio::any_io_executor executor_;
  events::Store& store_;
  const events::EventLog& log_;
  const std::string hottest_;
  const Clock& clock_;
  const BillingOptions options_;
  std::mutex mu_;  // one consumer at a time
  uint64_t checkpoint_ = 0;
  std::atomic<uint64_t> published_checkpoint_{0};
  std::atomic<bool> stopping_{false};
  asio::steady_timer wake_;
  std::shared_ptr<bool> alive_;
};

}  // namespace vaultaire::actors
