#pragma once

// The PostgreSQL export of the event log and of hourly usage (docs/export.md).
//
// PostgreSQL is the source of truth for how far the export got: export_state.last_seq (and
// usage_until_hour) are read, under a row lock, at the start of every transaction and updated
// in that same transaction with the rows they account for. So whatever fails (the exporter
// killed, PostgreSQL restarted, the connection lost, even during COMMIT) the next transaction
// starts exactly after the last committed row: no gap, no duplicate. Two exporters with the same
// name (the server's and `vaultctl export postgres`) take turns on that lock.
//
// Each round:
//   1. events: the events after last_seq, batch_events at a time, one transaction per batch:
//      INSERT INTO events, UPDATE export_state.last_seq;
//   2. usage: the hours before the billing clock's hour (complete: no later event can change
//      them) not yet exported, at most a month of hours per transaction: INSERT INTO
//      usage_hourly ... ON CONFLICT DO UPDATE, UPDATE export_state.usage_until_hour.
//
// Blocking: every call may wait for the network (libpq). One thread uses an exporter at a time.
// Every libpqxx exception is caught here and becomes a Result with last_error() set.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/errors.h"
#include "events/store.h"

namespace vaultaire::exports {

struct PostgresExportOptions {
  std::string dsn;               // libpq keyword/value string or postgresql:// URI
  std::string name = "default";  // the export_state row: one per export into the database
  size_t batch_events = 5000;    // events per transaction
};

struct ExportProgress {
  uint64_t events = 0;                      // event rows written by this call
  uint64_t usage_rows = 0;                  // usage rows written (inserted or updated) by this call
  uint64_t last_seq = 0;                    // export_state.last_seq afterwards
  std::optional<int64_t> usage_until_hour;  // afterwards, in hours since the epoch
  // Set when PostgreSQL holds events past the end of this store's log: the database belongs
  // to another data directory (or this one was reset). Nothing was exported.
  std::optional<uint64_t> log_behind;  // the log's last sequence then
};

class PostgresExporter {
 public:
  // Validates the DSN without connecting. kInvalidArgument, with last_error(), when libpq
  // cannot parse it. `store` must outlive the exporter.
  [[nodiscard]] static Result<std::unique_ptr<PostgresExporter>> create(
      const events::Store& store, PostgresExportOptions options, std::string& error);
  ~PostgresExporter();
  PostgresExporter(const PostgresExporter&) = delete;
  PostgresExporter& operator=(const PostgresExporter&) = delete;

  // Connects unless connected, then applies the migrations the database lacks (one
  // transaction, under an advisory lock). Errc::kIo when PostgreSQL cannot be reached,
  // Errc::kInternal when it refuses a statement; last_error() says why.
  [[nodiscard]] Result<void> connect();

  // Connects if needed, then exports what the store holds now: events, then usage. With
  // `from_seq`, the rows with seq >= from_seq are deleted in the first batch's transaction
  // and the export restarts there (clamped to last_seq + 1: never a gap). `stop` (optional) is
  // asked between transactions; true ends the call early. On failure the connection is
  // dropped (the next call reconnects) and what was committed stays committed.
  [[nodiscard]] Result<ExportProgress> export_pending(std::optional<uint64_t> from_seq = {},
                                                      const std::function<bool()>& stop = {});

  void disconnect();
  bool connected() const { return conn_ != nullptr; }

  // Why the last failing call failed: libpq's or PostgreSQL's message.
  const std::string& last_error() const { return last_error_; }
  // Where it exports to: host, port, dbname, user (never the password).
  const std::string& description() const { return description_; }
  const PostgresExportOptions& options() const { return options_; }

 private:
  PostgresExporter(const events::Store& store, PostgresExportOptions options, std::string conninfo,
                   std::string description);
  Result<void> export_events(std::optional<uint64_t> from_seq, const std::function<bool()>& stop,
                             ExportProgress& progress);
  Result<void> export_usage(const std::function<bool()>& stop, ExportProgress& progress);
  // Runs `fn`, turning a libpqxx exception into an error (and dropping the connection).
  Result<void> guarded(const char* what, const std::function<Result<void>()>& fn);

  const events::Store& store_;
  const PostgresExportOptions options_;
  const std::string conninfo_;  // with the password: never logged
  const std::string description_;
  struct Connection;  // the pqxx connection, kept out of this header
  std::unique_ptr<Connection> conn_;
  std::string last_error_;
};

}  // namespace vaultaire::exports
