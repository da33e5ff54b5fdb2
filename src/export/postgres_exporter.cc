#include "export/postgres_exporter.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "billing/usage.h"
#include "common/logging.h"
#include "events/event_log.h"
#include "export/internal/pg_rows.h"
#include "export/migrations.h"

namespace vaultaire::exports {

namespace {

// pg_advisory_xact_lock key taken while migrating, so two exporters starting together do not
// both create the tables ("vaultsql" in ASCII).
constexpr int64_t kMigrationLock = 0x7661756c7473716c;
// Usage hours per transaction at most (a month), so a long catch-up commits as it goes.
constexpr int64_t kUsageHoursPerTransaction = 24 * 31;

// The events of a batch arrive as one JSON array of event_to_json() objects (one parameter,
// no limit on the number of rows, no escaping of our own); PostgreSQL derives the columns
// from each, so nothing is built twice. `time` is exact to the microsecond: an interval of
// whole microseconds (below 2^53) is exact.
//
// Why not COPY: libpqxx 6.4's stream_to escapes each byte >= 0x80 as an octal escape of a
// negative char, which corrupts UTF-8.
constexpr const char* kInsertEvents =
    "INSERT INTO events (seq, time, time_unix_nanos, type, tenant, container, path, principal, "
    "source_address, request_id, user_agent, spoke_id, size, etag, tier, bytes_sent, payload) "
    "SELECT (e->>'sequence')::bigint, "
    "timestamptz 'epoch' + ((e->>'time_unix_nanos')::bigint / 1000) * interval '1 microsecond', "
    "(e->>'time_unix_nanos')::bigint, e->>'type', e->>'tenant', e->>'container', e->>'path', "
    "e->>'principal', e->>'source_address', e->>'request_id', e->>'user_agent', "
    "e->>'spoke_id', "
    "CASE WHEN jsonb_typeof(e->'payload'->'size') = 'number' "
    "THEN (e->'payload'->>'size')::bigint END, "
    "NULLIF(e->'payload'->>'etag', ''), "
    "COALESCE(NULLIF(e->'payload'->>'tier', ''), NULLIF(e->'payload'->>'to_tier', '')), "
    "CASE WHEN jsonb_typeof(e->'payload'->'bytes_sent') = 'number' "
    "THEN (e->'payload'->>'bytes_sent')::bigint END, "
    "e FROM jsonb_array_elements($1::jsonb) AS e";

constexpr const char* kUpsertUsage =
    "INSERT INTO usage_hourly (tenant, hour, tier, byte_seconds, objects, bytes, requests_a, "
    "requests_b, bytes_in, bytes_out, bytes_retrieved, restore_requests, restores, "
    "restored_bytes, transitions_in, deletes) "
    "SELECT tenant, hour, tier, byte_seconds, objects, bytes, requests_a, requests_b, bytes_in, "
    "bytes_out, bytes_retrieved, restore_requests, restores, restored_bytes, transitions_in, "
    "deletes "
    "FROM jsonb_to_recordset($1::jsonb) AS r(tenant text, hour timestamptz, tier text, "
    "byte_seconds numeric, objects bigint, bytes bigint, requests_a bigint, requests_b bigint, "
    "bytes_in bigint, bytes_out bigint, bytes_retrieved bigint, restore_requests bigint, "
    "restores bigint, "
    "restored_bytes bigint, transitions_in bigint, deletes bigint) "
    "ON CONFLICT (tenant, hour, tier) DO UPDATE SET byte_seconds = EXCLUDED.byte_seconds, "
    "objects = EXCLUDED.objects, bytes = EXCLUDED.bytes, requests_a = EXCLUDED.requests_a, "
    "requests_b = EXCLUDED.requests_b, bytes_in = EXCLUDED.bytes_in, "
    "bytes_out = EXCLUDED.bytes_out, bytes_retrieved = EXCLUDED.bytes_retrieved, "
    "restore_requests = EXCLUDED.restore_requests, "
    "restores = EXCLUDED.restores, restored_bytes = EXCLUDED.restored_bytes, "
    "transitions_in = EXCLUDED.transitions_in, deletes = EXCLUDED.deletes";

// Makes sure the exporter's row exists, then locks it for the transaction. READ COMMITTED
// re-reads a row it waited for, so the second of two exporters sees the first one's update.
constexpr const char* kEnsureState =
    "INSERT INTO export_state (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
constexpr const char* kLockState =
    "SELECT last_seq, floor(extract(epoch FROM usage_until_hour) / 3600)::bigint "
    "FROM export_state WHERE name = $1 FOR UPDATE";

struct State {
  uint64_t last_seq = 0;
  std::optional<int64_t> usage_until_hour;
};

State lock_state(pqxx::work& tx, const std::string& name) {
  tx.exec_params(kEnsureState, name);
  const pqxx::row row = tx.exec_params1(kLockState, name);
  State s;
  s.last_seq = row[0].as<uint64_t>();
  if (!row[1].is_null()) {
    s.usage_until_hour = row[1].as<int64_t>();
  }
  return s;
}

}  // namespace

struct PostgresExporter::Connection {
  explicit Connection(const std::string& conninfo) : conn(conninfo) {}
  pqxx::connection conn;
};

Result<std::unique_ptr<PostgresExporter>> PostgresExporter::create(const events::Store& store,
                                                                   PostgresExportOptions options,
                                                                   std::string& error) {
  auto dsn = internal::parse_dsn(options.dsn, error);
  if (!dsn) {
    error = "bad PostgreSQL DSN: " + error;
    return dsn.error();
  }
  if (options.name.empty()) {
    error = "the exporter's name is empty";
    return Errc::kInvalidArgument;
  }
  options.batch_events = std::max<size_t>(1, options.batch_events);
  return std::unique_ptr<PostgresExporter>(new PostgresExporter(
      store, std::move(options), std::move(dsn->conninfo), std::move(dsn->description)));
}

PostgresExporter::PostgresExporter(const events::Store& store, PostgresExportOptions options,
                                   std::string conninfo, std::string description)
    : store_(store),
      options_(std::move(options)),
      conninfo_(std::move(conninfo)),
      description_(std::move(description)) {}

PostgresExporter::~PostgresExporter() = default;

void PostgresExporter::disconnect() { conn_.reset(); }

Result<void> PostgresExporter::guarded(const char* what, const std::function<Result<void>()>& fn) {
  const auto failed = [&](const std::exception& e) {
    std::string message = e.what();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    last_error_ = std::string(what) + ": " + message;
    // The transaction is gone, and after a failure the connection may well be too: the next
    // call connects again and reads export_state anew.
    conn_.reset();
  };
  try {
    return fn();
  } catch (const pqxx::broken_connection& e) {
    failed(e);
    return Errc::kIo;
  } catch (const pqxx::in_doubt_error& e) {
    failed(e);  // the COMMIT may or may not have happened: export_state will tell
    return Errc::kIo;
  } catch (const std::exception& e) {
    failed(e);
    return Errc::kInternal;
  }
}

Result<void> PostgresExporter::connect() {
  if (conn_) {
    return {};
  }
  auto log = logger("export");
  return guarded("connecting to PostgreSQL failed", [&]() -> Result<void> {
    auto c = std::make_unique<Connection>(conninfo_);
    pqxx::work tx(c->conn);
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
    const auto& all = postgres_migrations();
    tx.exec(std::string(all.front().sql));  // schema_migrations, if missing
    std::set<int> applied;
    int newest = -1;
    for (const auto& row : tx.exec("SELECT version FROM schema_migrations")) {
      applied.insert(row[0].as<int>());
      newest = std::max(newest, row[0].as<int>());
    }
    for (const Migration& m : all) {
      if (applied.contains(m.version)) {
        continue;
      }
      if (m.version != all.front().version) {
        tx.exec(std::string(m.sql));
      }
      tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                     std::string(m.name));
      log->info("postgres migration applied version={} name={}", m.version, m.name);
    }
    tx.commit();
    if (newest > all.back().version) {
      log->warn(
          "postgres schema is newer than this build schema_version={} build_version={} "
          "(exporting anyway: migrations only add)",
          newest, all.back().version);
    }
    conn_ = std::move(c);
    log->info("postgres export connected name={} to={}", options_.name, description_);
    return {};
  });
}

Result<ExportProgress> PostgresExporter::export_pending(std::optional<uint64_t> from_seq,
                                                        const std::function<bool()>& stop) {
  if (auto c = connect(); !c) {
    return c.error();
  }
  ExportProgress progress;
  if (auto r = export_events(from_seq, stop, progress); !r) {
    return r.error();
  }
  if (progress.log_behind || (stop && stop())) {
    return progress;
  }
  if (auto r = export_usage(stop, progress); !r) {
    return r.error();
  }
  return progress;
}

Result<void> PostgresExporter::export_events(std::optional<uint64_t> from_seq,
                                             const std::function<bool()>& stop,
                                             ExportProgress& progress) {
  auto log = logger("export");
  for (;;) {
    bool done = false;
    auto batch = guarded("exporting events failed", [&]() -> Result<void> {
      pqxx::work tx(conn_->conn);
      const State state = lock_state(tx, options_.name);
      uint64_t last = state.last_seq;
      bool rewound = false;
      if (from_seq) {
        // Never past what is exported: that would leave a gap.
        const uint64_t from = std::clamp<uint64_t>(*from_seq, 1, state.last_seq + 1);
        from_seq.reset();
        if (from <= state.last_seq) {
          const pqxx::result deleted = tx.exec_params("DELETE FROM events WHERE seq >= $1", from);
          log->info("postgres export rewound name={} from_seq={} rows_deleted={}", options_.name,
                    from, deleted.affected_rows());
          last = from - 1;
          rewound = true;
        }
      }
      std::string rows = "[";  // a JSON array of the batch's events
      size_t count = 0;
      uint64_t next = last + 1;
      Result<void> gap;
      auto read = events::for_each_event(store_, next, [&](const proto::Event& e) {
        if (e.sequence() != next) {
          gap = Errc::kCorruption;
          return false;
        }
        if (count > 0) {
          rows += ',';
        }
        internal::append_event_json(e, rows);
        ++count;
        ++next;
        return count < options_.batch_events;
      });
      rows += ']';
      if (!read || !gap) {
        last_error_ = !read ? "cannot read the event log: " + read.error().message()
                            : "the event log has no event " + std::to_string(next);
        return !read ? read.error() : gap.error();
      }
      if (count == 0) {
        progress.last_seq = last;
        if (!rewound) {
          done = true;
          auto stored = events::stored_last_sequence(store_);
          if (stored && *stored < last) {
            progress.log_behind = *stored;
          }
          return {};  // nothing to commit: the transaction rolls back
        }
      } else {
        tx.exec_params(kInsertEvents, rows);
      }
      tx.exec_params("UPDATE export_state SET last_seq = $2, updated_at = now() WHERE name = $1",
                     options_.name, next - 1);
      tx.commit();
      progress.events += count;
      progress.last_seq = next - 1;
      log->debug("postgres export batch name={} events={} last_seq={}", options_.name, count,
                 next - 1);
      return {};
    });
    if (!batch) {
      return batch;
    }
    if (done || (stop && stop())) {
      return {};
    }
  }
}

Result<void> PostgresExporter::export_usage(const std::function<bool()>& stop,
                                            ExportProgress& progress) {
  auto log = logger("export");
  for (;;) {
    bool done = false;
    auto step = guarded("exporting usage failed", [&]() -> Result<void> {
      pqxx::work tx(conn_->conn);
      const State state = lock_state(tx, options_.name);
      progress.usage_until_hour = state.usage_until_hour;
      auto known = billing::known_until(store_);
      if (!known) {
        last_error_ = "cannot read the billing clock: " + known.error().message();
        return known.error();
      }
      // Hours before the billing clock's are complete: later events are later in time.
      const int64_t end_hour = *known / billing::kNanosPerHour;
      int64_t from_hour = 0;
      if (state.usage_until_hour) {
        from_hour = *state.usage_until_hour;
      } else {
        // The first export starts at the log's first hour (there is no usage before it).
        auto first = events::read_event(store_, 1);
        if (!first) {
          done = true;
          return {};
        }
        from_hour = first->time_unix_nanos() / billing::kNanosPerHour;
      }
      if (*known <= 0 || end_hour <= from_hour) {
        done = true;
        return {};
      }
      const int64_t to_hour = std::min(end_hour, from_hour + kUsageHoursPerTransaction);
      auto rows = billing::usage(store_, "", from_hour, to_hour);
      if (!rows) {
        last_error_ = "cannot read usage: " + rows.error().message();
        return rows.error();
      }
      if (!rows->empty()) {
        nlohmann::json out = nlohmann::json::array();
        for (const billing::UsageRow& r : *rows) {
          out.push_back(internal::usage_row(r));
        }
        tx.exec_params(kUpsertUsage, internal::pg_json(out));
      }
      tx.exec_params(
          "UPDATE export_state SET usage_until_hour = $2::timestamptz, updated_at = now() "
          "WHERE name = $1",
          options_.name, internal::pg_timestamp(to_hour * billing::kNanosPerHour));
      tx.commit();
      progress.usage_rows += rows->size();
      progress.usage_until_hour = to_hour;
      log->debug("postgres export usage name={} rows={} until_hour={}", options_.name, rows->size(),
                 to_hour);
      return {};
    });
    if (!step) {
      return step;
    }
    if (done || (stop && stop())) {
      return {};
    }
  }
}

}  // namespace vaultaire::exports
