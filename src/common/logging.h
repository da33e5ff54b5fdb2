#pragma once

// One named spdlog logger per layer ("s3", "events", "actors", "drivers", "server", "common").
// Messages are a short lowercase phrase, then key=value fields. Request context is passed
// explicitly; nothing is thread-local.

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace vaultaire {

// The logger for `layer`, created on first use with the process-wide level and sink.
std::shared_ptr<spdlog::logger> logger(std::string_view layer);

// Sets the level of every logger, present and future ("trace" ... "off"). Returns false on an
// unknown level name.
bool set_log_level(std::string_view level);

// Sets one layer's level ("s3=debug" style overrides).
bool set_log_level(std::string_view layer, std::string_view level);

}  // namespace vaultaire
