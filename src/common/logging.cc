#include "common/logging.h"

#include <map>
#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace vaultaire {
namespace {

struct Registry {
  std::mutex mu;
  spdlog::level::level_enum level = spdlog::level::info;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
};

Registry& registry() {
  static Registry r;
  return r;
}

bool parse_level(std::string_view name, spdlog::level::level_enum& out) {
  const auto level = spdlog::level::from_str(std::string(name));
  if (level == spdlog::level::off && name != "off") {
    return false;
  }
  out = level;
  return true;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger(std::string_view layer) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (auto it = r.loggers.find(layer); it != r.loggers.end()) {
    return it->second;
  }
  auto l = std::make_shared<spdlog::logger>(std::string(layer), r.sink);
  l->set_level(r.level);
  l->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %n %v", spdlog::pattern_time_type::utc);
  r.loggers.emplace(std::string(layer), l);
  return l;
}

bool set_log_level(std::string_view level) {
  spdlog::level::level_enum parsed;
  if (!parse_level(level, parsed)) {
    return false;
  }
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.level = parsed;
  for (auto& [name, l] : r.loggers) {
    l->set_level(parsed);
  }
  return true;
}

bool set_log_level(std::string_view layer, std::string_view level) {
  spdlog::level::level_enum parsed;
  if (!parse_level(level, parsed)) {
    return false;
  }
  logger(layer)->set_level(parsed);
  return true;
}

}  // namespace vaultaire
