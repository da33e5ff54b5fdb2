#include "events/event_log.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <pthread.h>

#include "common/logging.h"
#include "common/metrics.h"
#include "common/utf8.h"
#include "events/keys.h"
#include "events/projection.h"

namespace vaultaire::events {
namespace {

namespace pb = google::protobuf;

// Replaces what is not UTF-8 in the string fields of `m` and of its sub-messages with U+FFFD;
// true when there was any. Protobuf refuses to parse a message whose string field is not UTF-8
// (the log would read as corrupt from there on), and clients put any bytes they like in
// headers: a User-Agent, a metadata value, a tag.
bool make_strings_utf8(pb::Message& m) {
  const pb::Reflection* r = m.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  std::string scratch;
  bool replaced = false;
  for (const pb::FieldDescriptor* f : fields) {
    const int n = f->is_repeated() ? r->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      if (f->type() == pb::FieldDescriptor::TYPE_STRING) {
        const std::string& v = f->is_repeated() ? r->GetRepeatedStringReference(m, f, i, &scratch)
                                                : r->GetStringReference(m, f, &scratch);
        if (!is_valid_utf8(v)) {
          std::string fixed = to_valid_utf8(v);
          f->is_repeated() ? r->SetRepeatedString(&m, f, i, std::move(fixed))
                           : r->SetString(&m, f, std::move(fixed));
          replaced = true;
        }
      } else if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE) {
        replaced |= make_strings_utf8(f->is_repeated() ? *r->MutableRepeatedMessage(&m, f, i)
                                                       : *r->MutableMessage(&m, f));
      }
    }
  }
  return replaced;
}

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
  log->committer_ = std::thread([raw = log.get()] {
    pthread_setname_np(pthread_self(), "log-commit");
    raw->committer_loop();
  });
  log->projector_ = std::thread([raw = log.get()] {
    pthread_setname_np(pthread_self(), "log-project");
    raw->projector_loop();
  });
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
  if (projector_.joinable()) {
    projector_.join();  // it drains the queue, then tells the committer it is done
  }
  if (committer_.joinable()) {
    committer_.join();
  }
}

void EventLog::enqueue(proto::Event event, std::unique_ptr<internal::Waiter> waiter) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      // The projector takes the whole queue when it wakes: only the first event needs to wake
      // it, or the first awaited one while it lingers over read events.
      wake = queue_.empty() || (lingering_ && queued_waiters_ == 0);
      ++queued_waiters_;
      queue_.push_back(Pending{std::move(event), std::move(waiter), steady_nanos()});
      waiter = nullptr;
    }
  }
  if (waiter) {
    waiter->complete(Errc::kShuttingDown);
    return;
  }
  if (wake) {
    cv_.notify_one();
  }
}

bool EventLog::append_detached(proto::Event&& event) {
  size_t pending = detached_pending_.load(std::memory_order_relaxed);
  do {
    if (pending >= options_.max_detached) {
      return false;
    }
  } while (!detached_pending_.compare_exchange_weak(pending, pending + 1));
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      detached_pending_.fetch_sub(1);
      return false;
    }
    wake = queue_.empty();
    queue_.push_back(Pending{std::move(event), nullptr, steady_nanos()});
  }
  if (wake) {
    cv_.notify_one();
  }
  return true;
}

struct EventLog::Stage {
  explicit Stage(const Store& store, const ViewTxn* base) : txn(store, base) {}
  ViewTxn txn;
  std::vector<Pending> entries;
  std::vector<Result<Appended>> outcomes;
  uint64_t last_sequence = 0;  // of the last event projected into this stage
  int64_t time = 0;
  bool written = false;  // durable (or failed): the projector may drop it
};

void EventLog::projector_loop() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) {
        break;  // stopping, and everything queued is projected
      }
      if (queued_waiters_ == 0 && !stopping_ && options_.detached_linger.count() > 0) {
        lingering_ = true;
        cv_.wait_for(lock, options_.detached_linger, [this] {
          return queued_waiters_ > 0 || stopping_ || queue_.size() >= options_.max_batch_events;
        });
        lingering_ = false;
      }
      if (queue_.size() <= options_.max_batch_events) {
        batch.swap(queue_);
        queued_waiters_ = 0;
      } else {
        const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(options_.max_batch_events);
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
        queue_.erase(queue_.begin(), end);
        queued_waiters_ = static_cast<size_t>(std::count_if(
            queue_.begin(), queue_.end(), [](const Pending& p) { return p.waiter != nullptr; }));
      }
    }
    std::shared_ptr<Stage> stage = project_batch(std::move(batch));
    batch.clear();
    {
      std::lock_guard lock(stage_mu_);
      stages_.push_back(std::move(stage));
    }
    stage_cv_.notify_all();
  }
  {
    std::lock_guard lock(stage_mu_);
    projector_done_ = true;
  }
  stage_cv_.notify_all();
}

std::shared_ptr<EventLog::Stage> EventLog::project_batch(std::vector<Pending> batch) {
  const ViewTxn* base = nullptr;
  {
    std::unique_lock lock(stage_mu_);
    // At most one batch waits behind the one being written: more would only add latency.
    stage_cv_.wait(lock, [this] { return stages_.size() - next_to_commit_ < 2 || failed_; });
    if (failed_) {
      // A write failed: every stage built on it has failed too. Start again from disk.
      stage_cv_.wait(lock, [this] { return next_to_commit_ == stages_.size(); });
      stages_.clear();
      next_to_commit_ = 0;
      failed_ = false;
      next_sequence_ = last_durable_.load() + 1;
    }
    // Retire durable stages; the oldest live one reads the database directly from now on.
    while (!stages_.empty() && stages_.front()->written) {
      stages_.pop_front();
      --next_to_commit_;
    }
    if (!stages_.empty()) {
      stages_.front()->txn.rebase(nullptr);
      base = &stages_.back()->txn;
    }
  }

  auto stage = std::make_shared<Stage>(store_, base);
  stage->entries = std::move(batch);
  stage->outcomes.reserve(stage->entries.size());
  // One commit time per batch, never before the previous one.
  stage->time = std::max(clock_.now_unix_nanos(), last_time_);
  last_time_ = stage->time;
  uint64_t sequence = next_sequence_;
  std::string encoded;
  for (Pending& p : stage->entries) {
    if (make_strings_utf8(p.event)) {
      logger("events")->warn("event held text that is not UTF-8, replaced with U+FFFD type={}",
                             event_type_name(p.event));
    }
    p.event.set_sequence(sequence);
    p.event.set_time_unix_nanos(stage->time);
    auto projected = project(p.event, stage->txn);
    if (!projected) {
      logger("events")->warn("projection refused event seq={} type={} error={}", sequence,
                             event_type_name(p.event), projected.error().message());
      stage->outcomes.emplace_back(projected.error());
      continue;
    }
    encoded.clear();
    p.event.SerializeToString(&encoded);
    stage->txn.put_log(log_key(sequence), encoded);
    stage->outcomes.emplace_back(Appended{.sequence = sequence,
                                          .time_unix_nanos = stage->time,
                                          .released = std::move(projected->released),
                                          .no_op = projected->no_op});
    ++sequence;
  }
  stage->txn.flush();
  stage->last_sequence = sequence - 1;
  next_sequence_ = sequence;
  return stage;
}

void EventLog::committer_loop() {
  for (;;) {
    std::shared_ptr<Stage> stage;
    bool failed = false;
    {
      std::unique_lock lock(stage_mu_);
      stage_cv_.wait(lock, [this] { return next_to_commit_ < stages_.size() || projector_done_; });
      if (next_to_commit_ == stages_.size()) {
        return;  // the projector is done and everything is written
      }
      stage = stages_[next_to_commit_];
      failed = failed_;
    }
    if (!failed) {
      rocksdb::WriteOptions write_options;
      write_options.sync = options_.sync;
      rocksdb::WriteBatch& batch = stage->txn.flush();
      const rocksdb::Status s =
          batch.Count() == 0 ? rocksdb::Status::OK() : store_.db()->Write(write_options, &batch);
      if (s.ok()) {
        if (stage->txn.log_entries() > 0) {
          last_durable_.store(stage->last_sequence, std::memory_order_release);
        }
      } else {
        failed = true;
        const auto ec = to_error_code(s, "append batch");
        for (auto& o : stage->outcomes) {
          if (o) {
            o = ec;
          }
        }
      }
    } else {
      for (auto& o : stage->outcomes) {
        if (o) {
          o = Errc::kIo;
        }
      }
    }
    complete(*stage);
    {
      std::lock_guard lock(stage_mu_);
      stage->written = true;
      ++next_to_commit_;
      if (failed) {
        failed_ = true;
      }
    }
    stage_cv_.notify_all();
  }
}

void EventLog::complete(Stage& stage) {
  const int64_t now = steady_nanos();
  size_t detached = 0;
  for (size_t i = 0; i < stage.entries.size(); ++i) {
    Pending& p = stage.entries[i];
    if (!p.waiter) {
      ++detached;
      continue;
    }
    append_latency_->observe(static_cast<double>(now - p.enqueued_steady_nanos) / 1e9);
    p.waiter->complete(std::move(stage.outcomes[i]));
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

Result<void> for_each_event_pipelined(const Store& store, uint64_t from,
                                      const std::function<bool(const proto::Event&)>& fn) {
  // Batches circulate between the reader (fills free ones) and the caller (drains full ones);
  // their Event objects are reused, so parsing mostly reuses the previous strings' memory.
  constexpr size_t kBatchEvents = 1024;
  constexpr size_t kBatches = 4;
  struct Batch {
    std::vector<proto::Event> events = std::vector<proto::Event>(kBatchEvents);
    size_t size = 0;
  };
  std::vector<Batch> batches(kBatches);
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Batch*> free_batches;
  std::deque<Batch*> full_batches;
  for (Batch& b : batches) {
    free_batches.push_back(&b);
  }
  bool reader_done = false;
  bool stop = false;
  Result<void> read_status;

  std::thread reader([&] {
    rocksdb::ReadOptions ro;
    ro.readahead_size = 2 << 20;
    std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(ro, store.cf(Cf::kLog)));
    it->Seek(log_key(from));
    Result<void> status;
    while (status) {
      Batch* batch = nullptr;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || !free_batches.empty(); });
        if (stop) {
          break;
        }
        batch = free_batches.front();
        free_batches.pop_front();
      }
      batch->size = 0;
      for (; batch->size < kBatchEvents && it->Valid(); it->Next()) {
        const rocksdb::Slice v = it->value();
        if (!batch->events[batch->size].ParseFromArray(v.data(), static_cast<int>(v.size()))) {
          status = Errc::kCorruption;
          break;
        }
        ++batch->size;
      }
      if (status && !it->status().ok()) {
        status = to_error_code(it->status(), "iterate log");
      }
      const bool last = !status || !it->Valid();
      std::lock_guard lock(mu);
      full_batches.push_back(batch);
      if (last) {
        read_status = status;
        reader_done = true;
      }
      cv.notify_all();
      if (last) {
        break;
      }
    }
  });

  // However this function ends (the caller's fn may throw), the reader stops and is joined.
  struct StopReader {
    std::mutex& mu;
    std::condition_variable& cv;
    bool& stop;
    std::thread& reader;
    ~StopReader() {
      {
        std::lock_guard lock(mu);
        stop = true;
        cv.notify_all();
      }
      reader.join();
    }
  } stop_reader{mu, cv, stop, reader};

  bool go_on = true;
  while (go_on) {
    Batch* batch = nullptr;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !full_batches.empty() || reader_done; });
      if (full_batches.empty()) {
        break;
      }
      batch = full_batches.front();
      full_batches.pop_front();
    }
    for (size_t i = 0; i < batch->size && go_on; ++i) {
      go_on = fn(batch->events[i]);
    }
    std::lock_guard lock(mu);
    free_batches.push_back(batch);
    cv.notify_all();
  }
  // Events after a read error are never handed out; the caller stopping first is no error.
  return go_on ? read_status : Result<void>{};
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
    case proto::Event::kArtifactTagged:
      return "artifact_tagged";
    case proto::Event::kUploadCreated:
      return "upload_created";
    case proto::Event::kPartUploaded:
      return "part_uploaded";
    case proto::Event::kUploadAborted:
      return "upload_aborted";
    case proto::Event::kTenantCreated:
      return "tenant_created";
    case proto::Event::kTenantQuotasChanged:
      return "tenant_quotas_changed";
    case proto::Event::kTenantDeleted:
      return "tenant_deleted";
    case proto::Event::kUserCreated:
      return "user_created";
    case proto::Event::kUserDeleted:
      return "user_deleted";
    case proto::Event::kAccessKeyCreated:
      return "access_key_created";
    case proto::Event::kAccessKeyChanged:
      return "access_key_changed";
    case proto::Event::kAccessKeyDeleted:
      return "access_key_deleted";
    case proto::Event::kGrantChanged:
      return "grant_changed";
    case proto::Event::kContainerAclChanged:
      return "container_acl_changed";
    case proto::Event::kAccessDenied:
      return "access_denied";
    case proto::Event::kSecretsReencrypted:
      return "secrets_reencrypted";
    case proto::Event::kArtifactMigrated:
      return "artifact_migrated";
    case proto::Event::kRestoreRequested:
      return "restore_requested";
    case proto::Event::kArtifactRestored:
      return "artifact_restored";
    case proto::Event::kRestoreExpired:
      return "restore_expired";
    case proto::Event::kContainerListed:
      return "container_listed";
    case proto::Event::PAYLOAD_NOT_SET:
      break;
  }
  return "unknown";
}

}  // namespace vaultaire::events
