#include "events/event_log.h"

#include <algorithm>
#include <chrono>

#include "common/logging.h"
#include "common/metrics.h"
#include "events/keys.h"
#include "events/projection.h"

namespace vaultaire::events {
namespace {

int64_t steady_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<EventLog>> EventLog::open(Store& store, const Clock& clock,
                                                 EventLogOptions options) {
  auto log = std::unique_ptr<EventLog>(new EventLog(store, clock, options));
  auto last = stored_last_sequence(store);
  if (!last) {
    return last.error();
  }
  log->next_sequence_ = *last + 1;
  log->last_durable_.store(*last);
  if (*last > 0) {
    auto event = read_event(store, *last);
    if (!event) {
      return event.error();
    }
    log->last_time_ = event->time_unix_nanos();
  }
  log->append_latency_ = &metrics().histogram(
      "vaultaire_events_append_seconds", "Time from enqueue to durable commit of an event",
      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
  log->writer_ = std::thread([raw = log.get()] { raw->writer_loop(); });
  logger("events")->info("event log open last_sequence={}", *last);
  return log;
}

EventLog::EventLog(Store& store, const Clock& clock, EventLogOptions options)
    : store_(store), clock_(clock), options_(options) {}

EventLog::~EventLog() { stop(); }

void EventLog::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable()) {
    writer_.join();
  }
}

void EventLog::enqueue(proto::Event event, std::unique_ptr<internal::Waiter> waiter) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(event), std::move(waiter), steady_nanos()});
      waiter = nullptr;
    }
  }
  if (waiter) {
    waiter->complete(Errc::kShuttingDown);
    return;
  }
  cv_.notify_one();
}

bool EventLog::append_detached(proto::Event event) {
  size_t pending = detached_pending_.load(std::memory_order_relaxed);
  do {
    if (pending >= options_.max_detached) {
      return false;
    }
  } while (!detached_pending_.compare_exchange_weak(pending, pending + 1));
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      detached_pending_.fetch_sub(1);
      return false;
    }
    queue_.push_back(Pending{std::move(event), nullptr, steady_nanos()});
  }
  cv_.notify_one();
  return true;
}

void EventLog::writer_loop() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) {
        return;  // stopping, and everything queued is written
      }
      if (queue_.size() <= options_.max_batch_events) {
        batch.swap(queue_);
      } else {
        const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(options_.max_batch_events);
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
        queue_.erase(queue_.begin(), end);
      }
    }
    commit_batch(batch);
    batch.clear();
  }
}

void EventLog::commit_batch(std::vector<Pending>& batch) {
  ViewTxn txn(store_, store_.db());
  std::vector<Result<Appended>> outcomes;
  outcomes.reserve(batch.size());

  // One commit time per batch, never before the previous one.
  const int64_t time = std::max(clock_.now_unix_nanos(), last_time_);
  uint64_t sequence = next_sequence_;
  std::string encoded;
  for (Pending& p : batch) {
    p.event.set_sequence(sequence);
    p.event.set_time_unix_nanos(time);
    txn.set_save_point();
    auto projected = project(p.event, txn);
    if (!projected) {
      txn.rollback_to_save_point();
      logger("events")->warn("projection refused event seq={} type={} error={}", sequence,
                             event_type_name(p.event), projected.error().message());
      outcomes.emplace_back(projected.error());
      continue;
    }
    encoded.clear();
    p.event.SerializeToString(&encoded);
    txn.put_log(log_key(sequence), encoded);
    outcomes.emplace_back(Appended{.sequence = sequence,
                                   .time_unix_nanos = time,
                                   .released = std::move(projected->released),
                                   .no_op = projected->no_op});
    ++sequence;
  }

  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync;
  const rocksdb::Status s = store_.db()->Write(write_options, txn.write_batch());
  if (s.ok()) {
    next_sequence_ = sequence;
    last_time_ = time;
    last_durable_.store(sequence - 1, std::memory_order_release);
  } else {
    const auto ec = to_error_code(s, "append batch");
    for (auto& o : outcomes) {
      if (o) {
        o = ec;
      }
    }
  }

  const int64_t now = steady_nanos();
  size_t detached = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    Pending& p = batch[i];
    if (!p.waiter) {
      ++detached;
      continue;
    }
    append_latency_->observe(static_cast<double>(now - p.enqueued_steady_nanos) / 1e9);
    p.waiter->complete(std::move(outcomes[i]));
  }
  if (detached > 0) {
    detached_pending_.fetch_sub(detached, std::memory_order_relaxed);
  }
}

Result<proto::Event> read_event(const Store& store, uint64_t sequence) {
  std::string bytes;
  const rocksdb::Status s =
      store.db()->Get(rocksdb::ReadOptions(), store.cf(Cf::kLog), log_key(sequence), &bytes);
  if (s.IsNotFound()) {
    return Errc::kInvalidArgument;
  }
  if (!s.ok()) {
    return to_error_code(s, "read event");
  }
  proto::Event event;
  if (!event.ParseFromString(bytes)) {
    return Errc::kCorruption;
  }
  return event;
}

Result<void> for_each_event(const Store& store, uint64_t from,
                            const std::function<bool(const proto::Event&)>& fn) {
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(ro, store.cf(Cf::kLog)));
  proto::Event event;
  for (it->Seek(log_key(from)); it->Valid(); it->Next()) {
    if (!event.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Errc::kCorruption;
    }
    if (!fn(event)) {
      return {};
    }
  }
  if (!it->status().ok()) {
    return to_error_code(it->status(), "iterate log");
  }
  return {};
}

Result<uint64_t> stored_last_sequence(const Store& store) {
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(rocksdb::ReadOptions(), store.cf(Cf::kLog)));
  it->SeekToLast();
  if (!it->Valid()) {
    if (!it->status().ok()) {
      return to_error_code(it->status(), "seek last event");
    }
    return uint64_t{0};
  }
  const auto seq = parse_log_key(std::string_view(it->key().data(), it->key().size()));
  if (!seq) {
    return Errc::kCorruption;
  }
  return *seq;
}

std::string_view event_type_name(const proto::Event& event) {
  switch (event.payload_case()) {
    case proto::Event::kContainerCreated:
      return "container_created";
    case proto::Event::kContainerDeleted:
      return "container_deleted";
    case proto::Event::kArtifactCommitted:
      return "artifact_committed";
    case proto::Event::kArtifactDeleted:
      return "artifact_deleted";
    case proto::Event::kArtifactRead:
      return "artifact_read";
    case proto::Event::PAYLOAD_NOT_SET:
      break;
  }
  return "unknown";
}

}  // namespace vaultaire::events
