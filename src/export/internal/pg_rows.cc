#include "export/internal/pg_rows.h"

#include <ctime>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "events/event_json.h"

namespace vaultaire::exports::internal {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid UTF-8 sequence starting at s[i], 0 if there is none.
size_t valid_sequence(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t len = 0;
  unsigned char lo = 0x80;  // the second byte's range (overlongs, surrogates, > U+10FFFF)
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (i + len > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) {
    return 0;
  }
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return len;
}

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

// The payload's field `key` when it is a number (a string), else null.
nlohmann::json number_or_null(const nlohmann::json& payload, const char* key) {
  const auto it = payload.find(key);
  return it != payload.end() && it->is_number() ? *it : nlohmann::json(nullptr);
}
nlohmann::json string_or_null(const nlohmann::json& payload, const char* key) {
  const auto it = payload.find(key);
  return it != payload.end() && it->is_string() && !it->get_ref<const std::string&>().empty()
             ? *it
             : nlohmann::json(nullptr);
}

bool is_pg_text(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c != 0 && c < 0x80) {
      ++i;
      continue;
    }
    const size_t len = c == 0 ? 0 : valid_sequence(s, i);
    if (len == 0) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

std::string pg_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c != 0 && c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    const size_t len = c == 0 ? 0 : valid_sequence(s, i);
    if (len == 0) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

void sanitize(nlohmann::json& j) {
  if (j.is_string()) {
    const auto& text = j.get_ref<const std::string&>();
    if (!is_pg_text(text)) {
      j = pg_text(text);
    }
  } else if (j.is_array()) {
    for (auto& v : j) {
      sanitize(v);
    }
  } else if (j.is_object()) {
    bool keys_clean = true;
    for (auto& [key, value] : j.items()) {
      sanitize(value);
      keys_clean = keys_clean && is_pg_text(key);
    }
    if (!keys_clean) {  // rare: rebuild the object with clean keys
      nlohmann::json clean = nlohmann::json::object();
      for (auto& [key, value] : j.items()) {
        clean[pg_text(key)] = std::move(value);
      }
      j = std::move(clean);
    }
  }
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

nlohmann::json event_row(const proto::Event& event) {
  nlohmann::json j = events::event_to_json(event);
  sanitize(j);
  nlohmann::json row = nlohmann::json::object();
  row["seq"] = event.sequence();
  row["time"] = pg_timestamp(event.time_unix_nanos());
  row["time_unix_nanos"] = event.time_unix_nanos();
  for (const char* column : {"type", "tenant", "container", "path", "principal", "source_address",
                             "request_id", "user_agent", "spoke_id"}) {
    row[column] = j.value(column, std::string());
  }
  const nlohmann::json& p = j["payload"];
  row["size"] = number_or_null(p, "size");
  row["etag"] = string_or_null(p, "etag");
  nlohmann::json tier = string_or_null(p, "tier");
  row["tier"] = tier.is_null() ? string_or_null(p, "to_tier") : std::move(tier);
  row["bytes_sent"] = number_or_null(p, "bytes_sent");
  row["payload"] = std::move(j);
  return row;
}

nlohmann::json usage_row(const billing::UsageRow& r) {
  const proto::TierUsage& c = r.counts;
  return {{"tenant", pg_text(r.tenant)},
          {"hour", pg_timestamp(r.hour * billing::kNanosPerHour)},
          {"tier", pg_text(r.tier)},
          {"byte_seconds", r.byte_seconds},
          {"objects", r.objects},
          {"bytes", r.bytes},
          {"requests_a", c.requests_a()},
          {"requests_b", c.requests_b()},
          {"bytes_in", c.bytes_in()},
          {"bytes_out", c.bytes_out()},
          {"bytes_retrieved", c.bytes_retrieved()},
          {"restore_requests", c.restore_requests()},
          {"restores", c.restores()},
          {"restored_bytes", c.restored_bytes()},
          {"transitions_in", c.transitions_in()},
          {"deletes", c.deletes()}};
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
