#pragma once

// The pure part of the PostgreSQL export: events and usage rows as the JSON objects the
// exporter's INSERTs read (with jsonb_to_recordset), PostgreSQL-safe text and timestamps, and
// DSN handling. No I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "billing/usage.h"
#include "common/errors.h"
#include "vaultaire/events.pb.h"

namespace vaultaire::exports::internal {

// `s` as PostgreSQL text (and jsonb) can hold it: valid UTF-8 without NUL. Each byte of an
// invalid sequence, and each NUL, becomes U+FFFD; valid text is returned unchanged.
std::string pg_text(std::string_view s);

// Every string of `j`, object keys included, recursively through pg_text().
void sanitize(nlohmann::json& j);

// A timestamptz literal in UTC for a time in unix nanoseconds, truncated to microseconds
// (PostgreSQL's precision): "2026-11-21 10:00:00.123456+00".
std::string pg_timestamp(int64_t unix_nanos);

// One row of the `events` table (schema/postgres/001_events.sql), keyed by column name:
// the envelope, size/etag/tier/bytes_sent when the payload has them (null otherwise), and
// `payload`, the whole event_to_json() object. Strings are sanitized.
nlohmann::json event_row(const proto::Event& event);

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
