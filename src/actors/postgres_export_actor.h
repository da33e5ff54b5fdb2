#pragma once

// The PostgreSQL export actor ([export.postgres], docs/export.md): keeps a PostgreSQL database
// up to date with the event log and the complete hours of usage, through exports::
// PostgresExporter.
//
// libpq is blocking, so the actor owns one thread of its own (never a network thread, and it
// holds no blocking-pool thread for minutes while PostgreSQL is away). Every poll_interval it
// looks at the log's last sequence and the billing clock; when either moved (or at least every
// 30 s) it runs an export round. When a round fails (PostgreSQL down, restarted, unreachable)
// it logs, waits (0.5 s, doubling to 10 s) and tries again with a new connection; the
// exporter reads its position from PostgreSQL, so it resumes exactly where the last committed
// transaction ended.
//
// Metrics: vaultaire_export_postgres_last_sequence, vaultaire_export_postgres_failures_total.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/errors.h"
#include "events/event_log.h"
#include "events/store.h"
#include "export/postgres_exporter.h"

namespace vaultaire {
class Counter;
}  // namespace vaultaire

namespace vaultaire::actors {

struct PostgresExportActorOptions {
  exports::PostgresExportOptions exporter;
  std::chrono::milliseconds poll_interval{500};
  std::chrono::milliseconds min_backoff{500};
  std::chrono::milliseconds max_backoff{10000};
};

class PostgresExportActor {
 public:
  // Fails with kInvalidArgument (and `error` says why) on a DSN libpq cannot parse; does not
  // connect. `store` and `log` outlive the actor.
  [[nodiscard]] static Result<std::unique_ptr<PostgresExportActor>> create(
      const events::Store& store, const events::EventLog& log, PostgresExportActorOptions options,
      std::string& error);
  ~PostgresExportActor();  // stop()
  PostgresExportActor(const PostgresExportActor&) = delete;
  PostgresExportActor& operator=(const PostgresExportActor&) = delete;

  // Starts the thread. PostgreSQL need not be up: the actor keeps trying.
  void start();
  // Asks the thread to stop and joins it: it finishes the statement in flight (bounded by the
  // connection's timeouts) and commits nothing more. Idempotent.
  void stop();

 private:
  PostgresExportActor(const events::Store& store, const events::EventLog& log,
                      std::unique_ptr<exports::PostgresExporter> exporter,
                      PostgresExportActorOptions options);
  void run();
  // Waits `d` or until stop(); returns false when stopping.
  bool wait(std::chrono::milliseconds d);

  const events::Store& store_;
  const events::EventLog& log_;
  std::unique_ptr<exports::PostgresExporter> exporter_;
  const PostgresExportActorOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::shared_ptr<std::atomic<uint64_t>> exported_;  // read by the metrics gauge
  Counter* failures_ = nullptr;
};

}  // namespace vaultaire::actors
