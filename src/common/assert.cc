#include "common/assert.h"

#include <cstdio>
#include <cstdlib>

namespace vaultaire::internal {

void assert_failed(const char* expr, const char* why, const char* file, int line) {
  std::fprintf(stderr, "vaultaire: invariant broken at %s:%d: %s (%s)\n", file, line, expr, why);
  std::fflush(stderr);
  std::abort();
}

}  // namespace vaultaire::internal
