#pragma once

// Crash points for fault-injection tests. `vaultaire serve` started with
// VAULTAIRE_CRASH_AT=<name> dies at once (no destructors, no flushes, like a power cut
// of the process) the first time it reaches crash_point(<name>). Without the variable a crash
// point costs one comparison.

#include <string_view>

namespace vaultaire::fault {

void crash_point(std::string_view name);

}  // namespace vaultaire::fault
