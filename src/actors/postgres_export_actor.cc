#include "actors/postgres_export_actor.h"

#include <algorithm>

#include "billing/usage.h"
#include "common/logging.h"
#include "common/metrics.h"

namespace vaultaire::actors {

namespace {
// A round runs at least this often even when the log and the billing clock stand still, so a
// rewind by `vaultctl export postgres --from-seq` is filled in again.
constexpr std::chrono::seconds kIdleRound{30};
}  // namespace

Result<std::unique_ptr<PostgresExportActor>> PostgresExportActor::create(
    const events::Store& store, const events::EventLog& log, PostgresExportActorOptions options,
    std::string& error) {
  auto exporter = exports::PostgresExporter::create(store, options.exporter, error);
  if (!exporter) {
    return exporter.error();
  }
  return std::unique_ptr<PostgresExportActor>(
      new PostgresExportActor(store, log, std::move(*exporter), std::move(options)));
}

PostgresExportActor::PostgresExportActor(const events::Store& store, const events::EventLog& log,
                                         std::unique_ptr<exports::PostgresExporter> exporter,
                                         PostgresExportActorOptions options)
    : store_(store),
      log_(log),
      exporter_(std::move(exporter)),
      options_(std::move(options)),
      exported_(std::make_shared<std::atomic<uint64_t>>(0)) {
  metrics().gauge("vaultaire_export_postgres_last_sequence",
                  "Last event sequence committed to PostgreSQL by this process's exporter",
                  [exported = exported_] { return static_cast<double>(exported->load()); });
  failures_ = &metrics().counter("vaultaire_export_postgres_failures_total",
                                 "PostgreSQL export rounds that failed (and were retried)");
}

PostgresExportActor::~PostgresExportActor() { stop(); }

void PostgresExportActor::start() {
  logger("export")->info("postgres export starting name={} to={} batch_events={}",
                         exporter_->options().name, exporter_->description(),
                         exporter_->options().batch_events);
  thread_ = std::thread([this] { run(); });
}

void PostgresExportActor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    exporter_->disconnect();
    logger("export")->info("postgres export stopped name={} last_seq={}", exporter_->options().name,
                           exported_->load());
  }
}

bool PostgresExportActor::wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_.load(); });
  return !stopping_;
}

void PostgresExportActor::run() {
  auto log = logger("export");
  const auto stop_requested = [this] { return stopping_.load(); };
  std::chrono::milliseconds backoff = options_.min_backoff;
  bool failing = false;
  bool behind_reported = false;
  // What the last successful round saw; a new round is needed when either moves.
  bool have_round = false;
  uint64_t round_sequence = 0;
  int64_t round_hour = 0;
  auto round_time = std::chrono::steady_clock::now();
  while (!stopping_) {
    const uint64_t sequence = log_.last_sequence();
    const auto known = billing::known_until(store_);
    const int64_t hour = known ? *known / billing::kNanosPerHour : -1;
    const bool idle = have_round && round_sequence == sequence && round_hour == hour &&
                      std::chrono::steady_clock::now() - round_time < kIdleRound;
    if (idle) {
      if (!wait(options_.poll_interval)) {
        break;
      }
      continue;
    }
    auto progress = exporter_->export_pending({}, stop_requested);
    if (!progress) {
      failures_->inc();
      if (!failing || backoff >= options_.max_backoff) {
        log->warn("postgres export failed name={} retry_in_ms={} error={}",
                  exporter_->options().name, backoff.count(), exporter_->last_error());
      }
      failing = true;
      have_round = false;
      if (!wait(backoff)) {
        break;
      }
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    if (failing) {
      log->info("postgres export recovered name={} last_seq={}", exporter_->options().name,
                progress->last_seq);
    }
    failing = false;
    backoff = options_.min_backoff;
    exported_->store(progress->last_seq);
    if (progress->log_behind) {
      if (!behind_reported) {
        log->error(
            "postgres holds events this log does not have name={} postgres_last_seq={} "
            "log_last_seq={}: the database belongs to another data directory; nothing is "
            "exported",
            exporter_->options().name, progress->last_seq, *progress->log_behind);
      }
      behind_reported = true;
    } else {
      behind_reported = false;
    }
    if (progress->events > 0 || progress->usage_rows > 0) {
      log->debug("postgres export round name={} events={} usage_rows={} last_seq={}",
                 exporter_->options().name, progress->events, progress->usage_rows,
                 progress->last_seq);
    }
    have_round = true;
    round_sequence = sequence;
    round_hour = hour;
    round_time = std::chrono::steady_clock::now();
    if (!wait(options_.poll_interval)) {
      break;
    }
  }
}

}  // namespace vaultaire::actors
