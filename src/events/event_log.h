#pragma once

// The event log: an append-only, totally ordered sequence of proto::Event in the `log` column
// family, with group commit.
//
// Two threads own all writes to the database, as a pipeline. Appenders enqueue an event and
// await it. The projector takes everything queued (up to max_batch_events), assigns consecutive
// sequence numbers and one commit time, and runs each event's projection; the records of one
// batch go into one WriteBatch with its log entries. The committer writes that batch with
// sync=true and only then completes the appenders, while the projector already builds the next
// batch on top of the records of the one being written. So an acknowledged append is durable,
// its views are updated in the same atomic write, and throughput grows with the number of
// concurrent appenders instead of being capped by one fsync per event.
//
// If a write fails, the batches projected on top of it fail too (their appenders get the
// error) and the projector starts again from the last durable state.
//
// Read events use append_detached(): they ride in the next batch but nobody waits for them.
// At most max_detached of them are pending at any time (queued or in the batch being written),
// which bounds what a crash can lose; past that, append_detached() refuses and the caller awaits
// a normal append instead, so a burst of reads is slowed down rather than forgotten.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "common/async.h"
#include "common/clock.h"
#include "common/errors.h"
#include "events/store.h"
#include "vaultaire/events.pb.h"
#include "vaultaire/hub.pb.h"

namespace vaultaire {
class Histogram;
}

namespace vaultaire::events {

struct EventLogOptions {
  bool sync = true;                // fsync each batch; off only in benchmarks of the overhead
  size_t max_batch_events = 8192;  // events merged into one WriteBatch at most
  size_t max_detached = 4096;      // read events pending without a waiter at most
  // When only read events are queued, wait up to this long for more before writing, so a
  // burst of GETs costs one fsync instead of one each. An awaited append ends the wait at once.
  std::chrono::microseconds detached_linger{1000};
};

struct Appended {
  uint64_t sequence = 0;
  int64_t time_unix_nanos = 0;
  std::vector<proto::BlobRef> released;  // blobs the projection found unreferenced
  bool no_op = false;                    // the projection changed no view
};

namespace internal {

// A type-erased completion for one appender; completed once, from the writer thread.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void complete(Result<Appended> result) = 0;
};

template <typename Handler>
class HandlerWaiter final : public Waiter {
 public:
  explicit HandlerWaiter(Handler handler)
      : work_(asio::make_work_guard(handler)), handler_(std::move(handler)) {}

  void complete(Result<Appended> result) override {
    auto ex = work_.get_executor();
    asio::post(ex, [h = std::move(handler_), r = std::move(result)]() mutable {
      std::move(h)(std::move(r));
    });
    work_.reset();
  }

 private:
  asio::executor_work_guard<asio::associated_executor_t<Handler>> work_;
  Handler handler_;
};

}  // namespace internal

class EventLog {
 public:
  // Opens the log over `store` (which must outlive it) and starts the writer thread.
  [[nodiscard]] static Result<std::unique_ptr<EventLog>> open(Store& store, const Clock& clock,
                                                              EventLogOptions options = {});
  // Drains the queue, then stops the writer.
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends `event` (its sequence and time are assigned here) and completes once it and its
  // view changes are durable. Fails with the projection's error (the event is then not in the
  // log), Errc::kIo when the write failed, Errc::kShuttingDown after stop().
  template <typename Token>
  auto async_append(proto::Event event, Token&& token) {
    return asio::async_initiate<Token, void(Result<Appended>)>(
        [this](auto handler, proto::Event e) {
          using H = decltype(handler);
          enqueue(std::move(e), std::make_unique<internal::HandlerWaiter<H>>(std::move(handler)));
        },
        token, std::move(event));
  }

  asio::awaitable<Result<Appended>> append(proto::Event event) {
    return async_append(std::move(event), asio::use_awaitable);
  }

  // Queues `event` without waiting for it. Returns false (and queues nothing, leaving `event`
  // as it was, for a normal append) when max_detached events are already pending or the log is
  // stopping; `event` is moved from only when it returns true.
  bool append_detached(proto::Event&& event);

  // The highest sequence number known durable (0 for an empty log).
  uint64_t last_sequence() const { return last_durable_.load(std::memory_order_acquire); }

  // Stops accepting appends, writes what is queued, joins the writer. Idempotent.
  void stop();

 private:
  struct Pending {
    proto::Event event;
    std::unique_ptr<internal::Waiter> waiter;  // null for detached appends
    int64_t enqueued_steady_nanos = 0;
  };

  // One projected batch on its way to disk.
  struct Stage;

  EventLog(Store& store, const Clock& clock, EventLogOptions options);
  void enqueue(proto::Event event, std::unique_ptr<internal::Waiter> waiter);
  void projector_loop();
  void committer_loop();
  std::shared_ptr<Stage> project_batch(std::vector<Pending> batch);
  void complete(Stage& stage);

  Store& store_;
  const Clock& clock_;
  const EventLogOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> queue_;  // guarded by mu_
  size_t queued_waiters_ = 0;   // entries of queue_ someone awaits; guarded by mu_
  bool lingering_ = false;      // the projector waits for more read events; guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::atomic<size_t> detached_pending_{0};

  // Projector-thread state.
  uint64_t next_sequence_ = 1;
  int64_t last_time_ = 0;

  // Stages projected and not yet retired, oldest first; the committer writes them in order.
  std::mutex stage_mu_;
  std::condition_variable stage_cv_;
  std::deque<std::shared_ptr<Stage>> stages_;  // guarded by stage_mu_
  size_t next_to_commit_ = 0;                  // index into stages_, guarded by stage_mu_
  bool projector_done_ = false;                // guarded by stage_mu_
  bool failed_ = false;  // a write failed; later stages fail too (guarded by stage_mu_)

  std::atomic<uint64_t> last_durable_{0};
  Histogram* append_latency_ = nullptr;
  std::thread projector_;
  std::thread committer_;
};

// Reads the event stored under `sequence`.
[[nodiscard]] Result<proto::Event> read_event(const Store& store, uint64_t sequence);

// Calls `fn` for each event with sequence >= `from`, in order, until it returns false.
// Fails with Errc::kCorruption on an undecodable entry.
[[nodiscard]] Result<void> for_each_event(const Store& store, uint64_t from,
                                          const std::function<bool(const proto::Event&)>& fn);

// The same, with the log read and parsed on a second thread a few thousand events ahead of
// `fn`, which runs on the calling thread. Pays for replay (parsing is a sixth of its work);
// measured no faster for the JSON export, whose cost per event is mostly building JSON.
[[nodiscard]] Result<void> for_each_event_pipelined(
    const Store& store, uint64_t from, const std::function<bool(const proto::Event&)>& fn);

// The last sequence number stored in the log (0 when empty).
[[nodiscard]] Result<uint64_t> stored_last_sequence(const Store& store);

// The type name of an event's payload ("artifact_committed", ...), "unknown" if none.
std::string_view event_type_name(const proto::Event& event);

}  // namespace vaultaire::events
