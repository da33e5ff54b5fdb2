#include "common/fault.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace vaultaire::fault {

void crash_point(std::string_view name) {
  static const std::string armed = [] {
    const char* v = std::getenv("VAULTAIRE_CRASH_AT");
    return std::string(v != nullptr ? v : "");
  }();
  if (!armed.empty() && armed == name) {
    std::fprintf(stderr, "vaultaire: crash point %.*s reached: exiting now\n",
                 static_cast<int>(name.size()), name.data());
    std::_Exit(86);
  }
}

}  // namespace vaultaire::fault
