#include "common/config.h"

#include <charconv>
#include <set>
#include <sstream>
#include <stdexcept>

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
  reject_unknown(root, path,
                 {"data_dir", "region", "spoke_id", "master_key_file", "s3", "admin", "log",
                  "threads", "gc", "actors", "multipart"},
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
    reject_unknown(*s, path, {"sweep_grace_seconds"}, "gc");
    read(*s, path, "sweep_grace_seconds", c.sweep_grace_seconds);
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
  return c;
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
