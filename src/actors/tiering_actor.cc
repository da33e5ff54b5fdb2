#include "actors/tiering_actor.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "common/crypto.h"
#include "common/fault.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/time_format.h"
#include "events/consumer.h"
#include "events/keys.h"
#include "vaultaire/tiering.pb.h"

namespace vaultaire::actors {

namespace {

constexpr int64_t kNanosPerDay = 86400 * kNanosPerSecond;
constexpr const char* kPrincipal = "vaultaire:tiering";
constexpr size_t kConsumeBatch = 4096;  // events per write of the tiering column family

std::string state_key(char kind, std::string_view tenant, std::string_view container,
                      std::string_view path) {
  std::string k;
  k.reserve(3 + tenant.size() + container.size() + path.size() + 1);
  k.push_back(kind);
  k.push_back('\0');
  k.append(tenant);
  k.push_back('\0');
  k.append(container);
  k.push_back('\0');
  k.append(path);
  return k;
}

struct KeyParts {
  std::string tenant, container, path;
};

std::optional<KeyParts> split_key(std::string_view key) {
  if (key.size() < 2 || key[1] != '\0') {
    return std::nullopt;
  }
  key.remove_prefix(2);
  const size_t a = key.find('\0');
  if (a == std::string_view::npos) {
    return std::nullopt;
  }
  const size_t b = key.find('\0', a + 1);
  if (b == std::string_view::npos) {
    return std::nullopt;
  }
  return KeyParts{std::string(key.substr(0, a)), std::string(key.substr(a + 1, b - a - 1)),
                  std::string(key.substr(b + 1))};
}

const std::string kCheckpointKey = "checkpoint";

// An error as a Result<T> whose T could be built from an error code too (bool, json).
struct failure {
  explicit failure(boost::system::error_code ec) : ec(ec) {}
  explicit failure(Errc e) : ec(make_error_code(e)) {}
  template <typename T>
  operator Result<T>() const {  // NOLINT(google-explicit-constructor)
    return Result<T>(boost::system::in_place_error, ec);
  }
  boost::system::error_code ec;
};

std::string day_string(int64_t day) { return format_iso8601(day * kNanosPerDay).substr(0, 10); }

uint64_t committed_size(const proto::ArtifactCommitted& put) {
  if (put.segments_size() == 0) {
    return put.size();
  }
  uint64_t total = 0;
  for (const auto& s : put.segments()) {
    total += s.size();
  }
  return total;
}

tiering::ObjectState to_state(const KeyParts& k, const proto::TieringObject& o) {
  tiering::ObjectState s;
  s.key = k.container + "/" + k.path;
  s.prefix = tiering::prefix_of(s.key);
  s.size = o.size();
  s.created_day = o.created_day();
  s.tier = o.tier();
  s.tier_since_day = o.tier_since_day();
  s.last_access_day = o.last_access_day();
  s.access_days.assign(o.access_days().begin(), o.access_days().end());
  s.read_count = o.read_count();
  s.read_day_count = o.read_day_count();
  return s;
}

void store_read(proto::TieringObject& o, const tiering::ObjectState& s) {
  o.set_last_access_day(s.last_access_day);
  o.mutable_access_days()->Assign(s.access_days.begin(), s.access_days.end());
  o.set_read_count(s.read_count);
  o.set_read_day_count(s.read_day_count);
}

using States = events::ConsumerState;

// Applies one event to the object states and the policy. Returns true when it asks for a
// restore (the caller plans it).
Result<bool> apply(const proto::Event& e, States& states, tiering::Policy* policy,
                   const std::string& hottest) {
  const int64_t day = e.time_unix_nanos() / kNanosPerDay;
  const KeyParts parts{e.tenant(), e.container(), e.path()};
  const std::string key = state_key('o', e.tenant(), e.container(), e.path());
  switch (e.payload_case()) {
    case proto::Event::kArtifactCommitted: {
      auto old = states.get<proto::TieringObject>(key);
      if (!old) {
        return failure(old.error());
      }
      if (*old != nullptr && policy != nullptr) {
        policy->observe_delete(to_state(parts, **old), day);
      }
      proto::TieringObject o;
      o.set_size(committed_size(e.artifact_committed()));
      o.set_created_day(day);
      o.set_tier(e.artifact_committed().tier());
      o.set_tier_since_day(day);
      o.set_last_access_day(-1);
      o.set_pinned(e.artifact_committed().tier() != hottest);
      if (policy != nullptr) {
        policy->observe_put(to_state(parts, o), day);
      }
      states.put(key, std::move(o));
      return false;
    }
    case proto::Event::kArtifactDeleted: {
      auto old = states.get<proto::TieringObject>(key);
      if (!old) {
        return failure(old.error());
      }
      if (*old != nullptr) {
        if (policy != nullptr) {
          policy->observe_delete(to_state(parts, **old), day);
        }
        states.erase(key);
      }
      return false;
    }
    case proto::Event::kArtifactRead: {
      if (e.artifact_read().head()) {
        return false;  // metadata only: not a read of the bytes
      }
      auto o = states.get<proto::TieringObject>(key);
      if (!o) {
        return failure(o.error());
      }
      if (*o == nullptr) {
        return false;
      }
      tiering::ObjectState s = to_state(parts, **o);
      if (policy != nullptr) {
        policy->observe_read(s, day);
      }
      tiering::record_read(s, day);
      proto::TieringObject updated = **o;
      store_read(updated, s);
      states.put(key, std::move(updated));
      return false;
    }
    case proto::Event::kArtifactMigrated: {
      auto o = states.get<proto::TieringObject>(key);
      if (!o) {
        return failure(o.error());
      }
      if (*o != nullptr) {
        proto::TieringObject updated = **o;
        updated.set_tier(e.artifact_migrated().to_tier());
        updated.set_tier_since_day(day);
        updated.set_restore_expires_unix_nanos(0);
        states.put(key, std::move(updated));
      }
      return false;
    }
    case proto::Event::kRestoreRequested: {
      auto o = states.get<proto::TieringObject>(key);
      if (!o) {
        return failure(o.error());
      }
      if (*o == nullptr) {
        return false;
      }
      proto::TieringObject updated = **o;
      const uint32_t days = e.restore_requested().days();
      updated.set_restore_days(days);
      const bool extend = updated.restore_expires_unix_nanos() > 0;
      if (extend) {
        updated.set_restore_expires_unix_nanos(e.time_unix_nanos() + int64_t{days} * kNanosPerDay);
      }
      states.put(key, std::move(updated));
      return !extend;
    }
    case proto::Event::kArtifactRestored: {
      auto o = states.get<proto::TieringObject>(key);
      if (!o) {
        return failure(o.error());
      }
      if (*o != nullptr) {
        proto::TieringObject updated = **o;
        updated.set_restore_expires_unix_nanos(e.time_unix_nanos() +
                                               int64_t{updated.restore_days()} * kNanosPerDay);
        states.put(key, std::move(updated));
      }
      return false;
    }
    case proto::Event::kRestoreExpired: {
      auto o = states.get<proto::TieringObject>(key);
      if (!o) {
        return failure(o.error());
      }
      if (*o != nullptr) {
        proto::TieringObject updated = **o;
        updated.set_restore_expires_unix_nanos(0);
        states.put(key, std::move(updated));
      }
      return false;
    }
    default:
      return false;
  }
}

// One blob of an artifact, as a copy sees it.
struct Piece {
  proto::Segment from;       // driver, blob id, size (and the part's ETag for multipart)
  std::string expected_md5;  // hex, when the artifact's metadata gives it
};

bool is_md5_hex(std::string_view s) {
  return s.size() == 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(c) != 0; });
}

std::vector<Piece> pieces_of(const proto::ArtifactRecord& a) {
  std::vector<Piece> out;
  if (a.segments_size() > 0) {
    for (const auto& s : a.segments()) {
      out.push_back({s, is_md5_hex(s.etag()) ? s.etag() : std::string()});
    }
  } else {
    proto::Segment s;
    s.set_driver(a.driver());
    s.set_blob_id(a.blob_id());
    s.set_size(a.size());
    out.push_back({std::move(s), is_md5_hex(a.etag()) ? a.etag() : std::string()});
  }
  return out;
}

proto::BlobRef ref_of(const std::string& driver, const std::string& blob_id) {
  proto::BlobRef r;
  r.set_driver(driver);
  r.set_blob_id(blob_id);
  return r;
}

}  // namespace

Result<std::unique_ptr<TieringActor>> TieringActor::create(
    asio::any_io_executor executor, events::Store& store, const events::EventLog& log,
    const events::ViewReader& views, Hub& hub, Spoke& spoke, tiering::TierTable tiers,
    TieringOptions options, const Clock& clock) {
  std::unique_ptr<TieringActor> actor(new TieringActor(std::move(executor), store, log, views, hub,
                                                       spoke, std::move(tiers), std::move(options),
                                                       clock));
  if (actor->options_.policy != "none") {
    auto policy =
        tiering::make_policy(actor->options_.policy, actor->tiers_, actor->options_.age_rules);
    if (!policy) {
      return policy.error();
    }
    actor->policy_ = std::move(*policy);
  }
  return actor;
}

TieringActor::TieringActor(asio::any_io_executor executor, events::Store& store,
                           const events::EventLog& log, const events::ViewReader& views, Hub& hub,
                           Spoke& spoke, tiering::TierTable tiers, TieringOptions options,
                           const Clock& clock)
    : executor_(std::move(executor)),
      store_(store),
      log_(log),
      views_(views),
      hub_(hub),
      spoke_(spoke),
      tiers_(std::move(tiers)),
      options_(std::move(options)),
      clock_(clock),
      wake_(executor_),
      idle_(executor_),
      alive_(std::make_shared<bool>(true)) {}

TieringActor::~TieringActor() { stop(); }

int64_t TieringActor::today() const { return clock_.now_unix_nanos() / kNanosPerDay; }

Result<void> TieringActor::start() {
  auto checkpoint = events::load_checkpoint(store_, events::Cf::kTiering, kCheckpointKey);
  if (!checkpoint) {
    return checkpoint.error();
  }
  checkpoint_ = *checkpoint;
  // The policy's learning is not stored: it is learned again from the log up to the
  // checkpoint, as it was learned the first time.
  if (policy_ && checkpoint_ > 0) {
    States scratch(nullptr, events::Cf::kTiering);
    Result<void> failed;
    uint64_t events = 0;
    auto walked = events::for_each_event(store_, 1, [&](const proto::Event& e) {
      if (e.sequence() > checkpoint_) {
        return false;
      }
      ++events;
      if (auto a = apply(e, scratch, policy_.get(), tiers_.hottest().name); !a) {
        failed = a.error();
        return false;
      }
      return true;
    });
    if (!walked) {
      return walked.error();
    }
    if (!failed) {
      return failed.error();
    }
    logger("tiering")->info("policy relearned policy={} events={} checkpoint={}", policy_->name(),
                            events, checkpoint_);
  }
  asio::co_spawn(executor_, main_loop(), log_exception("tiering main loop"));
  for (unsigned i = 0; i < std::max(1u, options_.concurrency); ++i) {
    asio::co_spawn(executor_, worker(), log_exception("tiering worker"));
  }
  return {};
}

void TieringActor::stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  asio::post(executor_, [this, alive = alive_] {
    if (*alive) {
      wake_.cancel();
      idle_.cancel();
    }
  });
}

Result<std::vector<TieringActor::Job>> TieringActor::consume() {
  std::lock_guard lock(mu_);
  std::vector<Job> jobs;
  const std::string& hottest = tiers_.hottest().name;
  auto applied = events::consume_log(
      store_, events::Cf::kTiering, kCheckpointKey, checkpoint_, log_.last_sequence(),
      [&](const proto::Event& e, events::ConsumerState& states) -> Result<void> {
        auto wants_restore = apply(e, states, policy_.get(), hottest);
        if (!wants_restore) {
          return wants_restore.error();
        }
        if (*wants_restore) {
          proto::TieringPlan plan;
          plan.set_kind(proto::TieringPlan::RESTORE);
          plan.set_reason("RestoreObject");
          plan.set_planned_unix_nanos(e.time_unix_nanos());
          const std::string key = state_key('p', e.tenant(), e.container(), e.path());
          states.put(key, std::move(plan));
          jobs.push_back({key, e.tenant(), e.container(), e.path()});
        }
        return {};
      });
  if (!applied) {
    return applied.error();
  }
  return jobs;
}

Result<std::vector<TieringActor::Job>> TieringActor::decide_all(PassReport& report) {
  std::lock_guard lock(mu_);
  std::vector<Job> jobs;
  if (!policy_) {
    return jobs;
  }
  const int64_t now_day = today();
  const std::string prefix("o\0", 2);
  const std::string upper = events::prefix_successor(prefix);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db()->NewIterator(ro, store_.cf(events::Cf::kTiering)));
  rocksdb::WriteBatch batch;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    auto parts = split_key(key);
    proto::TieringObject o;
    if (!parts || !o.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Errc::kCorruption;
    }
    if (!tiers_.index_of(o.tier()) || o.pinned()) {
      continue;  // a tier no longer configured, or one the client chose: it stays there
    }
    ++report.examined;
    const std::string plan_key = state_key('p', parts->tenant, parts->container, parts->path);
    std::string existing;
    if (store_.db()
            ->Get(rocksdb::ReadOptions(), store_.cf(events::Cf::kTiering), plan_key, &existing)
            .ok()) {
      continue;  // a move or restore is under way
    }
    const tiering::Decision d = policy_->decide(to_state(*parts, o), now_day);
    if (d.tier == o.tier() || !tiers_.index_of(d.tier) || spoke_.tier(d.tier) == nullptr) {
      continue;
    }
    proto::TieringPlan plan;
    plan.set_kind(proto::TieringPlan::MIGRATE);
    plan.set_to_tier(d.tier);
    plan.set_reason(d.reason);
    plan.set_planned_unix_nanos(clock_.now_unix_nanos());
    batch.Put(store_.cf(events::Cf::kTiering), plan_key, plan.SerializeAsString());
    jobs.push_back({plan_key, parts->tenant, parts->container, parts->path});
    ++report.planned;
  }
  if (!it->status().ok()) {
    return events::to_error_code(it->status(), "tiering pass");
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;  // planned moves survive a crash
  if (const rocksdb::Status s = store_.db()->Write(wo, &batch); !s.ok()) {
    return events::to_error_code(s, "tiering plans");
  }
  return jobs;
}

Result<std::vector<TieringActor::Job>> TieringActor::expired_restores() {
  std::lock_guard lock(mu_);
  std::vector<Job> out;
  const int64_t now = clock_.now_unix_nanos();
  const std::string prefix("o\0", 2);
  const std::string upper = events::prefix_successor(prefix);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db()->NewIterator(ro, store_.cf(events::Cf::kTiering)));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    proto::TieringObject o;
    if (!o.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Errc::kCorruption;
    }
    if (o.restore_expires_unix_nanos() > 0 && o.restore_expires_unix_nanos() <= now) {
      auto parts = split_key({it->key().data(), it->key().size()});
      if (parts) {
        out.push_back({"", parts->tenant, parts->container, parts->path});
      }
    }
  }
  if (!it->status().ok()) {
    return events::to_error_code(it->status(), "tiering expiries");
  }
  return out;
}

Result<std::vector<TieringActor::Job>> TieringActor::planned_jobs() {
  std::lock_guard lock(mu_);
  std::vector<Job> out;
  const std::string prefix("p\0", 2);
  const std::string upper = events::prefix_successor(prefix);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db()->NewIterator(ro, store_.cf(events::Cf::kTiering)));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    const std::string key(it->key().data(), it->key().size());
    if (auto parts = split_key(key)) {
      out.push_back({key, parts->tenant, parts->container, parts->path});
    }
  }
  if (!it->status().ok()) {
    return events::to_error_code(it->status(), "tiering plans");
  }
  return out;
}

void TieringActor::enqueue(std::vector<Job> jobs) {
  bool added = false;
  for (Job& j : jobs) {
    if (queued_.insert(j.key).second) {
      queue_.push_back(std::move(j));
      added = true;
    }
  }
  if (added) {
    wake_.cancel();
  }
}

asio::awaitable<Result<void>> TieringActor::catch_up() {
  auto task = [this]() { return consume(); };
  auto jobs = co_await run_blocking(std::move(task));
  if (!jobs) {
    logger("tiering")->error("reading the log failed error={}", jobs.error().message());
    co_return jobs.error();
  }
  enqueue(std::move(*jobs));
  co_return Result<void>{};
}

asio::awaitable<void> TieringActor::main_loop() {
  auto alive = alive_;
  {
    auto task = [this]() { return planned_jobs(); };
    auto resumed = co_await run_blocking(std::move(task));
    if (resumed && !resumed->empty()) {
      logger("tiering")->info("resuming planned moves count={}", resumed->size());
      enqueue(std::move(*resumed));
    }
  }
  asio::steady_timer timer(executor_);
  auto next_pass = std::chrono::steady_clock::now() + options_.pass_interval;
  while (!stopping_) {
    (void)co_await catch_up();
    if (std::chrono::steady_clock::now() >= next_pass) {
      next_pass = std::chrono::steady_clock::now() + options_.pass_interval;
      PassReport report;
      auto task = [this, &report]() { return decide_all(report); };
      auto jobs = co_await run_blocking(std::move(task));
      if (jobs) {
        logger("tiering")->info("decision pass examined={} planned={}", report.examined,
                                report.planned);
        enqueue(std::move(*jobs));
      }
      auto expiries = [this]() { return expired_restores(); };
      auto expired = co_await run_blocking(std::move(expiries));
      if (expired) {
        for (const Job& j : *expired) {
          co_await expire(j);
        }
      }
    }
    timer.expires_after(options_.poll_interval);
    (void)co_await timer.async_wait(kNoThrow);
  }
}

asio::awaitable<void> TieringActor::worker() {
  auto alive = alive_;
  while (!stopping_) {
    if (queue_.empty()) {
      // The workers share this timer: setting its expiry cancels every pending wait, so only
      // the first worker to sleep sets it (enqueue() cancels the waits to wake them all).
      if (wake_.expiry() != asio::steady_timer::time_point::max()) {
        wake_.expires_at(asio::steady_timer::time_point::max());
      }
      (void)co_await wake_.async_wait(kNoThrow);
      continue;
    }
    Job job = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    co_await run_job(job);
    --running_;
    queued_.erase(job.key);
    idle_.cancel();
  }
}

asio::awaitable<void> TieringActor::drain() {
  while (!stopping_ && (!queue_.empty() || running_ > 0)) {
    idle_.expires_after(std::chrono::milliseconds(50));
    (void)co_await idle_.async_wait(kNoThrow);
  }
}

asio::awaitable<void> TieringActor::throttle(size_t bytes) {
  if (options_.bandwidth_bytes_per_second == 0) {
    co_return;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  const int64_t start = std::max(now, throttle_next_nanos_);
  throttle_next_nanos_ =
      start + static_cast<int64_t>(static_cast<double>(bytes) * 1e9 /
                                   static_cast<double>(options_.bandwidth_bytes_per_second));
  if (start > now) {
    asio::steady_timer t(executor_, std::chrono::nanoseconds(start - now));
    (void)co_await t.async_wait(kNoThrow);
  }
}

namespace {

Result<proto::TieringPlan> load_plan(const events::Store& store, const std::string& key) {
  std::string bytes;
  const rocksdb::Status s =
      store.db()->Get(rocksdb::ReadOptions(), store.cf(events::Cf::kTiering), key, &bytes);
  if (s.IsNotFound()) {
    return Errc::kNotFound;
  }
  if (!s.ok()) {
    return events::to_error_code(s, "tiering plan");
  }
  proto::TieringPlan plan;
  if (!plan.ParseFromString(bytes)) {
    return Errc::kCorruption;
  }
  return plan;
}

Result<void> save_plan(const events::Store& store, const std::string& key,
                       const proto::TieringPlan* plan) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const rocksdb::Status s =
      plan != nullptr
          ? store.db()->Put(wo, store.cf(events::Cf::kTiering), key, plan->SerializeAsString())
          : store.db()->Delete(wo, store.cf(events::Cf::kTiering), key);
  if (!s.ok()) {
    return events::to_error_code(s, "tiering plan");
  }
  return {};
}

}  // namespace

asio::awaitable<void> TieringActor::run_job(Job job) {
  auto log = logger("tiering");
  auto loaded = [this, key = job.key]() { return load_plan(store_, key); };
  auto plan = co_await run_blocking(std::move(loaded));
  if (!plan) {
    co_return;  // finished meanwhile
  }
  // Resuming after a crash: copies a plan wrote that no view references are removed, and the
  // blobs a committed copy replaced are released.
  for (const auto* refs : {&plan->written(), &plan->replaced()}) {
    for (const proto::BlobRef& ref : *refs) {
      auto referenced = views_.blob_referenced(ref.driver(), ref.blob_id());
      if (referenced && !*referenced) {
        if (drivers::Driver* d = spoke_.driver(ref.driver())) {
          (void)co_await d->remove(ref.blob_id());
        }
      }
    }
  }
  plan->clear_written();
  plan->clear_replaced();
  Outcome outcome = Outcome::kDone;
  if (plan->kind() == proto::TieringPlan::RESTORE) {
    outcome = co_await restore(job, std::move(*plan));
  } else {
    outcome = co_await migrate(job, std::move(*plan));
  }
  auto erase = [this, key = job.key]() { return save_plan(store_, key, nullptr); };
  if (auto erased = co_await run_blocking(std::move(erase)); !erased) {
    log->error("cannot remove a finished plan error={}", erased.error().message());
  }
  switch (outcome) {
    case Outcome::kMoved:
      ++totals_.moved;
      break;
    case Outcome::kRestored:
      ++totals_.restored;
      break;
    case Outcome::kAbandoned:
      ++totals_.abandoned;
      break;
    case Outcome::kFailed:
      ++totals_.failed;
      break;
    case Outcome::kDone:
      break;
  }
}

asio::awaitable<Result<TieringActor::Copy>> TieringActor::copy_verified(
    const Job& job, proto::TieringPlan& plan, const proto::ArtifactRecord& record,
    drivers::Driver& target) {
  auto log = logger("tiering");
  const std::vector<Piece> pieces = pieces_of(record);
  Copy copy;
  copy.driver = target.name();
  std::vector<std::string> digests;
  Result<Copy> failure = Errc::kIo;
  // 1. Copy, recording each new blob in the plan before writing it.
  for (const Piece& p : pieces) {
    drivers::Driver* source = spoke_.driver(p.from.driver());
    if (source == nullptr) {
      log->error("copy failed: unknown driver driver={}", p.from.driver());
      failure = Errc::kDriverUnavailable;
      break;
    }
    auto created = co_await target.create();
    if (!created) {
      failure = created.error();
      break;
    }
    std::unique_ptr<drivers::BlobWriter> writer = std::move(*created);
    *plan.add_written() = ref_of(target.name(), writer->id());
    auto save = [this, key = job.key, saved = plan]() { return save_plan(store_, key, &saved); };
    if (auto saved = co_await run_blocking(std::move(save)); !saved) {
      co_await writer->abort();
      failure = saved.error();
      break;
    }
    auto opened = co_await source->open(p.from.blob_id(), std::nullopt);
    if (!opened) {
      log->error("copy failed: source unreadable path={} blob={} error={}", job.path,
                 p.from.blob_id(), opened.error().message());
      co_await writer->abort();
      failure = opened.error();
      break;
    }
    Digest md5(DigestAlgorithm::kMd5);
    uint64_t copied = 0;
    Result<void> streamed;
    for (;;) {
      auto chunk = co_await (*opened)->read(options_.chunk_size);
      if (!chunk) {
        streamed = chunk.error();
        break;
      }
      if (chunk->empty()) {
        break;
      }
      co_await throttle(chunk->size());
      copied += chunk->size();
      md5.update(chunk->data(), chunk->size());
      if (auto w = co_await writer->write(std::move(*chunk)); !w) {
        streamed = w.error();
        break;
      }
    }
    if (streamed && copied != p.from.size()) {
      streamed = Errc::kCorruption;
    }
    if (!streamed) {
      log->error("copy failed path={} blob={} copied={} size={} error={}", job.path,
                 p.from.blob_id(), copied, p.from.size(), streamed.error().message());
      co_await writer->abort();
      failure = streamed.error();
      break;
    }
    auto committed = co_await writer->commit();
    if (!committed) {
      failure = committed.error();
      break;
    }
    proto::Segment s = p.from;
    s.set_driver(target.name());
    s.set_blob_id(committed->id);
    copy.segments.push_back(std::move(s));
    digests.push_back(to_hex(md5.finish()));
  }
  if (copy.segments.size() == pieces.size()) {
    fault::crash_point("tiering.copied");
    // 2. Verify: the source bytes are the artifact's, and the copy reads back as the same.
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (!pieces[i].expected_md5.empty() && pieces[i].expected_md5 != digests[i]) {
        log->error("copy failed: the source does not match its ETag path={} blob={}", job.path,
                   pieces[i].from.blob_id());
        failure = Errc::kCorruption;
        break;
      }
      auto opened = co_await target.open(copy.segments[i].blob_id(), std::nullopt);
      Digest md5(DigestAlgorithm::kMd5);
      bool ok = static_cast<bool>(opened);
      while (ok) {
        auto chunk = co_await (*opened)->read(options_.chunk_size);
        if (!chunk) {
          ok = false;
        } else if (chunk->empty()) {
          break;
        } else {
          md5.update(chunk->data(), chunk->size());
        }
      }
      if (!ok || to_hex(md5.finish()) != digests[i]) {
        log->error("copy failed: the copy does not verify path={} blob={}", job.path,
                   copy.segments[i].blob_id());
        failure = Errc::kCorruption;
        break;
      }
      if (i + 1 == pieces.size()) {
        fault::crash_point("tiering.verified");
        for (const Piece& p : pieces) {
          copy.from.push_back(p.from);
        }
        co_return copy;
      }
    }
  }
  co_await remove_copy(copy);
  co_return failure.error();
}

asio::awaitable<void> TieringActor::remove_copy(const Copy& copy) {
  drivers::Driver* d = spoke_.driver(copy.driver);
  for (const auto& s : copy.segments) {
    if (d != nullptr) {
      (void)co_await d->remove(s.blob_id());
    }
  }
}

void TieringActor::release(const google::protobuf::RepeatedPtrField<proto::BlobRef>& blobs) {
  // Through the spoke, which waits for reads of the old version still under way.
  spoke_.release({blobs.begin(), blobs.end()});
}

proto::Command TieringActor::command_for(const Job& job) const {
  proto::Command c;
  c.mutable_context()->set_tenant(job.tenant);
  c.mutable_context()->set_principal(kPrincipal);
  c.mutable_context()->set_request_id(new_request_id());
  c.mutable_context()->set_spoke_id(spoke_.id());
  c.set_container(job.container);
  c.set_path(job.path);
  return c;
}

namespace {

// The artifact changed, or went away, since the copy was planned.
bool changed(const boost::system::error_code& ec) {
  return is(ec, Errc::kPreconditionFailed) || is(ec, Errc::kNoSuchArtifact) ||
         is(ec, Errc::kNoSuchContainer);
}

}  // namespace

asio::awaitable<TieringActor::Outcome> TieringActor::migrate(const Job& job,
                                                             proto::TieringPlan plan) {
  auto log = logger("tiering");
  auto record = views_.artifact(job.tenant, job.container, job.path);
  if (!record) {
    co_return Outcome::kAbandoned;
  }
  const TierInfo* to = spoke_.tier(plan.to_tier());
  if (record->tier() == plan.to_tier() || to == nullptr) {
    co_return Outcome::kDone;
  }
  auto copy = co_await copy_verified(job, plan, *record, spoke_.driver_of(*to));
  if (!copy) {
    co_return Outcome::kFailed;
  }
  // Once committed, the old blobs are garbage: recorded first, so a crash before they are
  // released leaves them to the resumed plan rather than to nobody.
  for (const proto::Segment& s : copy->from) {
    *plan.add_replaced() = ref_of(s.driver(), s.blob_id());
  }
  auto save = [this, key = job.key, saved = plan]() { return save_plan(store_, key, &saved); };
  if (auto saved = co_await run_blocking(std::move(save)); !saved) {
    co_await remove_copy(*copy);
    co_return Outcome::kFailed;
  }
  // Commit, if the artifact is unchanged.
  proto::Command c = command_for(job);
  proto::ArtifactMigrated& m = *c.mutable_migrate_artifact()->mutable_migration();
  m.set_from_tier(record->tier());
  m.set_to_tier(plan.to_tier());
  m.mutable_from()->Assign(copy->from.begin(), copy->from.end());
  m.set_driver(copy->driver);
  if (record->segments_size() > 0) {
    m.mutable_segments()->Assign(copy->segments.begin(), copy->segments.end());
  } else {
    m.set_blob_id(copy->segments.front().blob_id());
  }
  m.set_policy(policy_ ? std::string(policy_->name()) : std::string());
  m.set_reason(plan.reason());
  const std::string from_tier = m.from_tier();
  auto reply = co_await hub_.execute(std::move(c));
  if (!reply) {
    co_await remove_copy(*copy);
    if (changed(reply.error())) {
      log->info("move abandoned, the artifact changed tenant={} container={} path={}", job.tenant,
                job.container, job.path);
      co_return Outcome::kAbandoned;
    }
    log->error("move failed: commit error={}", reply.error().message());
    co_return Outcome::kFailed;
  }
  fault::crash_point("tiering.committed");
  release(reply->released());
  fault::crash_point("tiering.released");
  log->info("moved tenant={} container={} path={} from={} to={} bytes={}", job.tenant,
            job.container, job.path, from_tier, plan.to_tier(), record->size());
  co_return Outcome::kMoved;
}

asio::awaitable<TieringActor::Outcome> TieringActor::restore(const Job& job,
                                                             proto::TieringPlan plan) {
  auto log = logger("tiering");
  auto record = views_.artifact(job.tenant, job.container, job.path);
  if (!record) {
    co_return Outcome::kAbandoned;
  }
  if (!record->has_restore() || !record->restore().ongoing()) {
    co_return Outcome::kDone;
  }
  auto copy = co_await copy_verified(job, plan, *record, spoke_.default_driver());
  Result<proto::CommandReply> reply = Errc::kIo;
  if (copy) {
    proto::Command c = command_for(job);
    proto::ArtifactRestored& r = *c.mutable_complete_restore()->mutable_restored();
    r.set_driver(copy->driver);
    if (record->segments_size() > 0) {
      r.mutable_segments()->Assign(copy->segments.begin(), copy->segments.end());
    } else {
      r.set_blob_id(copy->segments.front().blob_id());
    }
    r.mutable_from()->Assign(copy->from.begin(), copy->from.end());
    reply = co_await hub_.execute(std::move(c));
    if (reply) {
      log->info("restored tenant={} container={} path={} bytes={}", job.tenant, job.container,
                job.path, record->size());
      co_return Outcome::kRestored;
    }
    co_await remove_copy(*copy);
    if (changed(reply.error())) {
      co_return Outcome::kAbandoned;
    }
  }
  // The restore could not be done: it is given up, so that the client can ask again.
  log->error("restore failed tenant={} container={} path={}", job.tenant, job.container, job.path);
  proto::Command c = command_for(job);
  c.mutable_expire_restore();
  (void)co_await hub_.execute(std::move(c));
  co_return Outcome::kFailed;
}

asio::awaitable<void> TieringActor::expire(const Job& job) {
  proto::Command c = command_for(job);
  c.mutable_expire_restore()->set_expired_before_unix_nanos(clock_.now_unix_nanos() + 1);
  auto reply = co_await hub_.execute(std::move(c));
  if (reply && !reply->no_op()) {
    ++totals_.expired;
    release(reply->released());
    logger("tiering")->info("restored copy expired tenant={} container={} path={}", job.tenant,
                            job.container, job.path);
  }
}

asio::awaitable<Result<PassReport>> TieringActor::run_pass() {
  auto task = [this]() -> asio::awaitable<Result<PassReport>> {
    const PassReport before = totals_;
    PassReport report;
    if (auto c = co_await catch_up(); !c) {
      co_return c.error();
    }
    auto decide = [this, &report]() { return decide_all(report); };
    auto jobs = co_await run_blocking(std::move(decide));
    if (!jobs) {
      co_return jobs.error();
    }
    enqueue(std::move(*jobs));
    auto expiries = [this]() { return expired_restores(); };
    auto expired = co_await run_blocking(std::move(expiries));
    if (!expired) {
      co_return expired.error();
    }
    for (const Job& j : *expired) {
      co_await expire(j);
    }
    co_await drain();
    // Restores requested while moves ran, and what the moves wrote, are consumed too.
    if (auto c = co_await catch_up(); !c) {
      co_return c.error();
    }
    co_await drain();
    report.moved = totals_.moved - before.moved;
    report.abandoned = totals_.abandoned - before.abandoned;
    report.failed = totals_.failed - before.failed;
    report.restored = totals_.restored - before.restored;
    report.expired = totals_.expired - before.expired;
    co_return report;
  };
  co_return co_await asio::co_spawn(executor_, std::move(task), asio::use_awaitable);
}

namespace {

nlohmann::json days_json(int64_t day) {
  return day < 0 ? nlohmann::json(nullptr) : nlohmann::json(day_string(day));
}

}  // namespace

asio::awaitable<Result<nlohmann::json>> TieringActor::explain(std::string tenant,
                                                              std::string container,
                                                              std::string path) {
  auto record = views_.artifact(tenant, container, path);
  if (!record) {
    co_return record.error();
  }
  auto task = [this, &tenant, &container, &path, &record]() -> Result<nlohmann::json> {
    std::lock_guard lock(mu_);
    nlohmann::json j;
    j["tenant"] = tenant;
    j["bucket"] = container;
    j["key"] = path;
    j["size"] = record->size();
    j["tier"] = record->tier();
    j["storage_class"] = std::string(spoke_.storage_class(record->tier()));
    j["tier_since"] =
        format_iso8601(record->tier_since_unix_nanos() != 0 ? record->tier_since_unix_nanos()
                                                            : record->modified_unix_nanos());
    j["policy"] = policy_ ? std::string(policy_->name()) : "none";
    const int64_t now_day = today();
    j["today"] = day_string(now_day);
    if (record->has_restore()) {
      const auto& r = record->restore();
      j["restore"] = {{"ongoing", r.ongoing()},
                      {"days", r.days()},
                      {"expires", r.expires_unix_nanos() > 0
                                      ? nlohmann::json(format_iso8601(r.expires_unix_nanos()))
                                      : nlohmann::json(nullptr)}};
    }
    States states(&store_, events::Cf::kTiering);
    const KeyParts parts{tenant, container, path};
    auto o = states.get<proto::TieringObject>(state_key('o', tenant, container, path));
    if (!o) {
      return failure(o.error());
    }
    if (*o == nullptr) {
      j["history"] = nullptr;
      j["decision"] = {{"tier", record->tier()},
                       {"reason", "not seen by the tiering actor yet (it follows the log)"}};
      return j;
    }
    const tiering::ObjectState s = to_state(parts, **o);
    nlohmann::json days = nlohmann::json::array();
    for (const int64_t d : s.access_days) {
      days.push_back(day_string(d));
    }
    j["history"] = {{"created", days_json(s.created_day)},
                    {"on_tier_since", days_json(s.tier_since_day)},
                    {"last_read", days_json(s.last_access_day)},
                    {"reads", s.read_count},
                    {"read_days", s.read_day_count},
                    {"recent_read_days", std::move(days)}};
    std::string planned;
    if (store_.db()
            ->Get(rocksdb::ReadOptions(), store_.cf(events::Cf::kTiering),
                  state_key('p', tenant, container, path), &planned)
            .ok()) {
      proto::TieringPlan plan;
      if (plan.ParseFromString(planned)) {
        j["planned"] = {{"kind", plan.kind() == proto::TieringPlan::RESTORE ? "restore" : "move"},
                        {"to_tier", plan.to_tier()},
                        {"reason", plan.reason()},
                        {"planned", format_iso8601(plan.planned_unix_nanos())}};
      }
    }
    if (!policy_) {
      j["decision"] = {{"tier", record->tier()}, {"reason", "no tiering policy is configured"}};
      return j;
    }
    if ((*o)->pinned()) {
      j["pinned"] = true;
      j["decision"] = {
          {"tier", record->tier()},
          {"reason", "written with storage class " + j["storage_class"].get<std::string>() +
                         ": the client chose the tier, the policy leaves it there"}};
      return j;
    }
    const tiering::Decision d = policy_->decide(s, now_day);
    nlohmann::json costs = nlohmann::json::array();
    for (const auto& c : d.costs) {
      costs.push_back({{"tier", c.tier}, {"expected_cost", c.expected_cost}, {"note", c.note}});
    }
    j["costs"] = std::move(costs);
    j["decision"] = {{"tier", d.tier}, {"reason", d.reason}};
    return j;
  };
  co_return co_await run_blocking(std::move(task));
}

asio::awaitable<Result<nlohmann::json>> TieringActor::report(std::string tenant,
                                                             std::string container) {
  auto task = [this, &tenant, &container]() -> Result<nlohmann::json> {
    std::string prefix;
    if (!tenant.empty()) {
      prefix = container.empty() ? events::tenant_prefix(tenant)
                                 : events::artifact_prefix(tenant, container);
    }
    const std::string upper = events::prefix_successor(prefix);
    rocksdb::ReadOptions ro;
    rocksdb::Slice upper_slice(upper);
    if (!upper.empty()) {
      ro.iterate_upper_bound = &upper_slice;
    }
    struct Sum {
      uint64_t objects = 0, bytes = 0;
      double monthly = 0;
    };
    std::map<std::string, Sum> by_tier;
    double all_hot = 0;
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db()->NewIterator(ro, store_.cf(events::Cf::kArtifacts)));
    proto::ArtifactRecord a;
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      if (!a.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return failure(Errc::kCorruption);
      }
      Sum& sum = by_tier[a.tier()];
      ++sum.objects;
      sum.bytes += a.size();
      const auto index = tiers_.index_of(a.tier());
      const double month = tiering::kDaysPerMonth;
      sum.monthly += index ? tiers_.daily_storage(*index, a.size()) * month : 0.0;
      all_hot += tiers_.daily_storage(0, a.size()) * month;
    }
    if (!it->status().ok()) {
      return failure(events::to_error_code(it->status(), "tiering report"));
    }
    nlohmann::json j;
    j["tenant"] = tenant.empty() ? nlohmann::json(nullptr) : nlohmann::json(tenant);
    j["bucket"] = container.empty() ? nlohmann::json(nullptr) : nlohmann::json(container);
    nlohmann::json rows = nlohmann::json::array();
    Sum total;
    for (const tiering::Tier& t : tiers_.tiers()) {
      const Sum s = by_tier.contains(t.name) ? by_tier[t.name] : Sum{};
      rows.push_back({{"tier", t.name},
                      {"storage_class", std::string(spoke_.storage_class(t.name))},
                      {"objects", s.objects},
                      {"bytes", s.bytes},
                      {"monthly_cost", s.monthly}});
      by_tier.erase(t.name);
    }
    for (const auto& [name, s] : by_tier) {  // tiers no longer configured
      rows.push_back({{"tier", name},
                      {"storage_class", nullptr},
                      {"objects", s.objects},
                      {"bytes", s.bytes},
                      {"monthly_cost", s.monthly}});
    }
    for (const auto& row : rows) {
      total.objects += row["objects"].get<uint64_t>();
      total.bytes += row["bytes"].get<uint64_t>();
      total.monthly += row["monthly_cost"].get<double>();
    }
    j["tiers"] = std::move(rows);
    j["total"] = {
        {"objects", total.objects},
        {"bytes", total.bytes},
        {"monthly_cost", total.monthly},
        {"all_hot_monthly_cost", all_hot},
        {"savings", all_hot - total.monthly},
        {"savings_percent", all_hot > 0 ? 100.0 * (all_hot - total.monthly) / all_hot : 0.0}};
    j["prices"] = "storage only, per month of 30 days; see docs/tiering.md";
    return j;
  };
  co_return co_await run_blocking(std::move(task));
}

}  // namespace vaultaire::actors
