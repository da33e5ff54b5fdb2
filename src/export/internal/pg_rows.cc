#include "export/internal/pg_rows.h"

#include <ctime>
#include <map>
#include <memory>
#include <string_view>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "events/event_json.h"

namespace vaultaire::exports::internal {

namespace {

std::string conninfo_quoted(std::string_view v) {
  std::string out = "'";
  for (const char c : v) {
    if (c == '\'' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

std::string pg_json(const nlohmann::json& j) {
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // nlohmann writes NUL as \u0000, which jsonb refuses. Find it escape by escape, so an
  // escaped backslash followed by "u0000" (the six characters of the original text) is kept.
  size_t i = text.find('\\');
  while (i != std::string::npos && i + 1 < text.size()) {
    if (text.compare(i, 6, "\\u0000") == 0) {
      text.replace(i, 6, "\\ufffd");
    }
    i = text.find('\\', i + 2);  // past the escape's first two characters
  }
  return text;
}

void append_event_json(const proto::Event& event, std::string& out) {
  out += pg_json(events::event_to_json(event));
}

std::string pg_timestamp(int64_t unix_nanos) {
  // Floor division, so times before 1970 truncate the same way as later ones.
  int64_t micros = unix_nanos / 1000;
  if (unix_nanos % 1000 < 0) {
    --micros;
  }
  int64_t seconds = micros / 1'000'000;
  int64_t fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);
}

nlohmann::json usage_row(const billing::UsageRow& r) {
  nlohmann::json row = billing::to_json(r);
  row["hour"] = pg_timestamp(r.hour * billing::kNanosPerHour);  // PostgreSQL's own form
  return row;
}

Result<Dsn> parse_dsn(const std::string& dsn, std::string& error) {
  char* message = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(dsn.c_str(), &message), &PQconninfoFree);
  if (!options) {
    error = message != nullptr ? message : "out of memory";
    PQfreemem(message);
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) {
      error.pop_back();
    }
    return Errc::kInvalidArgument;
  }
  std::map<std::string, std::string> given;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr) {
      given[o->keyword] = o->val;
    }
  }
  for (const auto& [key, value] :
       {std::pair{"connect_timeout", "10"}, std::pair{"application_name", "vaultaire-export"},
        std::pair{"keepalives_idle", "30"}, std::pair{"keepalives_interval", "10"},
        std::pair{"keepalives_count", "3"}}) {
    given.try_emplace(key, value);
  }
  Dsn out;
  for (const auto& [key, value] : given) {
    out.conninfo += (out.conninfo.empty() ? "" : " ") + key + "=" + conninfo_quoted(value);
  }
  for (const char* key : {"host", "hostaddr", "port", "dbname", "user"}) {
    if (const auto it = given.find(key); it != given.end()) {
      out.description += (out.description.empty() ? "" : " ") + std::string(key) + "=" + it->second;
    }
  }
  if (out.description.empty()) {
    out.description = "(libpq defaults)";
  }
  return out;
}

}  // namespace vaultaire::exports::internal
