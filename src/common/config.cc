#include "common/config.h"

#include <charconv>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <toml++/toml.h>

namespace vaultaire {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw std::runtime_error("config " + path.string() + ": " + what);
}

template <typename T>
void read(const toml::table& t, const std::filesystem::path& path, std::string_view key, T& out) {
  const toml::node* node = t.get(key);
  if (node == nullptr) {
    return;
  }
  if constexpr (std::is_same_v<T, bool>) {
    if (auto v = node->value<bool>()) {
      out = *v;
      return;
    }
  } else if constexpr (std::is_integral_v<T>) {
    if (auto v = node->value<int64_t>(); v && *v >= 0) {
      out = static_cast<T>(*v);
      return;
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    if (auto v = node->value<double>(); v && *v >= 0) {
      out = static_cast<T>(*v);
      return;
    }
  } else {
    if (auto v = node->value<std::string>()) {
      out = T(*v);
      return;
    }
  }
  std::ostringstream where;
  where << node->source().begin;
  fail(path, "wrong type for '" + std::string(key) + "' at " + where.str());
}

void reject_unknown(const toml::table& t, const std::filesystem::path& path,
                    const std::set<std::string>& known, const std::string& section) {
  for (const auto& [key, node] : t) {
    if (!known.contains(std::string(key.str()))) {
      fail(path,
           "unknown key '" + (section.empty() ? "" : section + ".") + std::string(key.str()) + "'");
    }
  }
}

const toml::table* section(const toml::table& root, const std::filesystem::path& path,
                           std::string_view name) {
  const toml::node* node = root.get(name);
  if (node == nullptr) {
    return nullptr;
  }
  if (!node->is_table()) {
    fail(path, "'" + std::string(name) + "' must be a table");
  }
  return node->as_table();
}

// The tables of the array of tables `name` ([[name]]) under `parent`: none when absent, a
// configuration error when it is anything else.
std::vector<const toml::table*> tables(const toml::table& parent, const std::filesystem::path& path,
                                       std::string_view key, const std::string& name) {
  std::vector<const toml::table*> out;
  const toml::node* node = parent.get(key);
  if (node == nullptr) {
    return out;
  }
  const toml::array* list = node->as_array();
  if (list == nullptr) {
    fail(path, "'" + name + "' must be an array of tables ([[" + name + "]])");
  }
  for (const toml::node& element : *list) {
    const auto* t = element.as_table();
    if (t == nullptr) {
      fail(path, "each of '" + name + "' must be a table");
    }
    out.push_back(t);
  }
  return out;
}

}  // namespace

Config load_config(const std::filesystem::path& path) {
  Config c;
  toml::table root;
  try {
    root = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << e.description() << " at " << e.source().begin;
    fail(path, msg.str());
  }
  reject_unknown(
      root, path,
      {"data_dir", "region", "spoke_id", "master_key_file", "s3", "admin", "log", "threads", "gc",
       "actors", "multipart", "drivers", "tiers", "tiering", "billing", "export"},
      "");
  read(root, path, "data_dir", c.data_dir);
  read(root, path, "region", c.region);
  read(root, path, "spoke_id", c.spoke_id);
  read(root, path, "master_key_file", c.master_key_file);
  if (const auto* s = section(root, path, "s3")) {
    reject_unknown(*s, path, {"listen", "domain"}, "s3");
    read(*s, path, "listen", c.s3_listen);
    read(*s, path, "domain", c.s3_domain);
  }
  if (const auto* s = section(root, path, "admin")) {
    reject_unknown(*s, path, {"listen"}, "admin");
    read(*s, path, "listen", c.admin_listen);
  }
  if (const auto* s = section(root, path, "log")) {
    reject_unknown(*s, path, {"level", "access"}, "log");
    read(*s, path, "level", c.log_level);
    read(*s, path, "access", c.access_log);
  }
  if (const auto* s = section(root, path, "threads")) {
    reject_unknown(*s, path, {"io", "blocking"}, "threads");
    read(*s, path, "io", c.io_threads);
    read(*s, path, "blocking", c.blocking_threads);
  }
  if (const auto* s = section(root, path, "gc")) {
    reject_unknown(*s, path, {"sweep_grace_seconds", "release_delay_ms"}, "gc");
    read(*s, path, "sweep_grace_seconds", c.sweep_grace_seconds);
    read(*s, path, "release_delay_ms", c.release_delay_ms);
  }
  if (const auto* s = section(root, path, "multipart")) {
    reject_unknown(*s, path, {"abandon_after_seconds", "sweep_interval_seconds"}, "multipart");
    read(*s, path, "abandon_after_seconds", c.upload_abandon_seconds);
    read(*s, path, "sweep_interval_seconds", c.upload_sweep_seconds);
  }
  if (const auto* s = section(root, path, "actors")) {
    reject_unknown(*s, path, {"idle_seconds"}, "actors");
    read(*s, path, "idle_seconds", c.actor_idle_seconds);
  }
  if (const auto* s = section(root, path, "drivers")) {
    for (const auto& [name, node] : *s) {
      const std::string n(name.str());
      const auto* d = node.as_table();
      if (d == nullptr) {
        fail(path, "'drivers." + n + "' must be a table");
      }
      reject_unknown(
          *d, path,
          {"type", "path", "endpoint", "bucket", "prefix", "access_key", "secret_key",
           "secret_key_env", "region", "storage_class", "max_connections", "part_size_mib"},
          "drivers." + n);
      DriverConfig& dc = c.drivers[n];
      read(*d, path, "type", dc.type);
      read(*d, path, "path", dc.path);
      read(*d, path, "endpoint", dc.endpoint);
      read(*d, path, "bucket", dc.bucket);
      read(*d, path, "prefix", dc.prefix);
      read(*d, path, "access_key", dc.access_key);
      read(*d, path, "secret_key", dc.secret_key);
      read(*d, path, "secret_key_env", dc.secret_key_env);
      read(*d, path, "region", dc.region);
      read(*d, path, "storage_class", dc.storage_class);
      read(*d, path, "max_connections", dc.max_connections);
      read(*d, path, "part_size_mib", dc.part_size_mib);
      if (dc.type != "local" && dc.type != "s3") {
        fail(path, "drivers." + n + ".type must be \"local\" or \"s3\"");
      }
      if (dc.type == "s3" && (dc.endpoint.empty() || dc.bucket.empty())) {
        fail(path, "drivers." + n + ": an s3 driver needs endpoint and bucket");
      }
    }
  }
  for (const toml::table* t : tables(root, path, "tiers", "tiers")) {
    reject_unknown(
        *t, path,
        {"name", "driver", "storage_classes", "price_gb_month", "price_gb_retrieved",
         "price_per_1000_get", "price_per_1000_put", "min_storage_days", "min_billable_kib",
         "instant", "restore_price_gb", "restore_price_per_1000", "restore_hours"},
        "tiers");
    TierConfig& tc = c.tiers.emplace_back();
    read(*t, path, "name", tc.name);
    read(*t, path, "driver", tc.driver);
    if (tc.name.empty() || tc.driver.empty()) {
      fail(path, "each tier needs a name and a driver");
    }
    if (const toml::node* classes = t->get("storage_classes")) {
      const toml::array* a = classes->as_array();
      if (a == nullptr) {
        fail(path, "tiers." + tc.name + ".storage_classes must be an array of strings");
      }
      for (const toml::node& v : *a) {
        auto s = v.value<std::string>();
        if (!s) {
          fail(path, "tiers." + tc.name + ".storage_classes must be an array of strings");
        }
        tc.storage_classes.push_back(*s);
      }
    }
    // A non-negative number (double) or integer (int64_t) key of the tier.
    auto nonnegative = [&]<typename T>(std::string_view key, std::optional<T>& out) {
      if (const toml::node* v = t->get(key)) {
        auto x = v->value<T>();
        if (!x || *x < 0) {
          fail(path, "tiers." + tc.name + "." + std::string(key) + " must be " +
                         (std::is_integral_v<T> ? "an integer" : "a number") + " >= 0");
        }
        out = *x;
      }
    };
    nonnegative("price_gb_month", tc.price_gb_month);
    nonnegative("price_gb_retrieved", tc.price_gb_retrieved);
    nonnegative("price_per_1000_get", tc.price_per_1000_get);
    nonnegative("price_per_1000_put", tc.price_per_1000_put);
    nonnegative("restore_price_gb", tc.restore_price_gb);
    nonnegative("restore_price_per_1000", tc.restore_price_per_1000);
    nonnegative("restore_hours", tc.restore_hours);
    nonnegative("min_storage_days", tc.min_storage_days);
    nonnegative("min_billable_kib", tc.min_billable_kib);
    if (const toml::node* v = t->get("instant")) {
      auto b = v->value<bool>();
      if (!b) {
        fail(path, "tiers." + tc.name + ".instant must be true or false");
      }
      tc.instant = *b;
    }
  }
  if (const auto* s = section(root, path, "tiering")) {
    reject_unknown(
        *s, path,
        {"policy", "pass_interval_seconds", "concurrency", "bandwidth_mib_per_second", "rules"},
        "tiering");
    for (const toml::table* t : tables(*s, path, "rules", "tiering.rules")) {
      reject_unknown(*t, path, {"prefix", "steps", "promote_on_read", "min_size_kib"},
                     "tiering.rules");
      AgeRuleConfig& rule = c.tiering.rules.emplace_back();
      read(*t, path, "prefix", rule.prefix);
      read(*t, path, "promote_on_read", rule.promote_on_read);
      read(*t, path, "min_size_kib", rule.min_size_kib);
      const std::string what = "tiering.rules '" + rule.prefix + "'";
      const toml::array* steps = t->get("steps") ? t->get("steps")->as_array() : nullptr;
      if (steps == nullptr || steps->empty()) {
        fail(path, what + " needs steps = [{tier = \"hot\", days = 0}, ...]");
      }
      for (const toml::node& step : *steps) {
        const auto* st = step.as_table();
        auto tier = st ? (*st)["tier"].value<std::string>() : std::nullopt;
        auto days = st ? (*st)["days"].value<int64_t>() : std::nullopt;
        if (!tier || !days || *days < 0 || st->size() != 2) {
          fail(path, what + ": each step is {tier = \"NAME\", days = N} with N >= 0");
        }
        rule.steps.emplace_back(*tier, *days);
      }
    }
    read(*s, path, "policy", c.tiering.policy);
    read(*s, path, "pass_interval_seconds", c.tiering.pass_interval_seconds);
    read(*s, path, "concurrency", c.tiering.concurrency);
    read(*s, path, "bandwidth_mib_per_second", c.tiering.bandwidth_mib_per_second);
  }
  if (const auto* s = section(root, path, "billing")) {
    reject_unknown(*s, path, {"currency", "transfer_out_per_gb", "transfer_in_per_gb"}, "billing");
    read(*s, path, "currency", c.billing.currency);
    read(*s, path, "transfer_out_per_gb", c.billing.transfer_out_per_gb);
    read(*s, path, "transfer_in_per_gb", c.billing.transfer_in_per_gb);
  }
  if (const auto* s = section(root, path, "export")) {
    reject_unknown(*s, path, {"postgres"}, "export");
    if (const auto* pg = section(*s, path, "postgres")) {
      reject_unknown(*pg, path, {"dsn", "batch_events", "poll_interval_ms", "name"},
                     "export.postgres");
      read(*pg, path, "dsn", c.export_postgres.dsn);
      read(*pg, path, "batch_events", c.export_postgres.batch_events);
      read(*pg, path, "poll_interval_ms", c.export_postgres.poll_interval_ms);
      read(*pg, path, "name", c.export_postgres.name);
      if (c.export_postgres.dsn.empty()) {
        fail(path, "export.postgres needs a dsn");
      }
      if (c.export_postgres.batch_events == 0 || c.export_postgres.name.empty()) {
        fail(path, "export.postgres: batch_events must be > 0 and name not empty");
      }
    }
  }
  return c;
}

void resolve_tiers(Config& c) {
  const bool drivers_given = !c.drivers.empty();
  if (c.tiers.empty()) {
    const std::pair<const char*, std::vector<std::string>> defaults[] = {
        {"hot", {"STANDARD", "REDUCED_REDUNDANCY", "INTELLIGENT_TIERING"}},
        {"warm", {"STANDARD_IA", "ONEZONE_IA"}},
        {"cold", {"GLACIER_IR"}},
        {"frozen", {"DEEP_ARCHIVE", "GLACIER"}}};
    for (const auto& [name, classes] : defaults) {
      TierConfig t;
      t.name = name;
      t.driver = std::string(name) == "hot" ? "local" : name;
      t.storage_classes = classes;
      c.tiers.push_back(std::move(t));
    }
  }
  // Blobs written with no tier configuration live on "local": it always exists.
  c.drivers.try_emplace("local");
  std::set<std::string> names, classes;
  for (TierConfig& t : c.tiers) {
    if (!names.insert(t.name).second) {
      throw std::runtime_error("two tiers are named '" + t.name + "'");
    }
    if (t.storage_classes.empty()) {
      t.storage_classes.push_back(t.name == "hot" ? "STANDARD" : t.name);
    }
    for (const auto& sc : t.storage_classes) {
      if (!classes.insert(sc).second) {
        throw std::runtime_error("storage class '" + sc + "' is given to two tiers");
      }
    }
    if (!c.drivers.contains(t.driver)) {
      if (drivers_given) {
        throw std::runtime_error("tier '" + t.name + "' names driver '" + t.driver +
                                 "', which [drivers] does not configure");
      }
      c.drivers.try_emplace(t.driver);  // no [drivers] at all: local folders
    }
  }
  for (auto& [name, d] : c.drivers) {
    if (d.type == "local" && d.path.empty()) {
      d.path = c.data_dir / "drivers" / name;
    }
  }
}

HostPort parse_host_port(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::runtime_error("expected HOST:PORT, got '" + text + "'");
  }
  HostPort hp;
  hp.host = text.substr(0, colon);
  if (hp.host.size() > 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  unsigned port = 0;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || p != end || port > 65535) {
    throw std::runtime_error("bad port in '" + text + "'");
  }
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

}  // namespace vaultaire
