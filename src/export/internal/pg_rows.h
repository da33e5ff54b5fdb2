#pragma once

// The pure part of the PostgreSQL export: events and usage rows as the JSON text the
// exporter's INSERTs read (jsonb_array_elements / jsonb_to_recordset), timestamps, and DSN
// handling. No I/O.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "billing/usage.h"
#include "common/errors.h"
#include "vaultaire/events.pb.h"

namespace vaultaire::exports::internal {

// `j` as JSON text PostgreSQL's jsonb accepts: valid UTF-8 (each invalid byte becomes
// U+FFFD) and no NUL character (jsonb refuses \u0000: it becomes U+FFFD too). Everything else
// is exactly nlohmann's compact dump.
std::string pg_json(const nlohmann::json& j);

// Appends the event as pg_json(event_to_json(event)): the `payload` of its row in `events`,
// from which the other columns are derived in SQL (postgres_exporter.cc).
void append_event_json(const proto::Event& event, std::string& out);

// A timestamptz literal in UTC for a time in unix nanoseconds, truncated to microseconds
// (PostgreSQL's precision): "2026-11-21 10:00:00.123456+00".
std::string pg_timestamp(int64_t unix_nanos);

// One row of `usage_hourly` (002_usage_hourly.sql), keyed by column name.
nlohmann::json usage_row(const billing::UsageRow& row);

// A DSN (libpq keyword/value string or postgresql:// URI) made ready to connect with: a
// keyword/value string with our defaults for what it does not set (connect_timeout=10,
// application_name=vaultaire-export, TCP keepalives after 30 s idle), so neither a dead server
// nor a dead network can block the exporter for long.
struct Dsn {
  std::string conninfo;     // for the connection
  std::string description;  // host, port, dbname and user, for logs (never the password)
};
// kInvalidArgument when libpq cannot parse `dsn`; `error` then holds libpq's reason.
[[nodiscard]] Result<Dsn> parse_dsn(const std::string& dsn, std::string& error);

}  // namespace vaultaire::exports::internal
