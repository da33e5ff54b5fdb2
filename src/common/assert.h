#pragma once

// VAULTAIRE_ASSERT(cond, "why it holds"): a broken invariant is a bug; log and abort.
// Never use it on bytes from the network or the disk: those are errors (Errc::kCorruption).

namespace vaultaire::internal {
[[noreturn]] void assert_failed(const char* expr, const char* why, const char* file, int line);
}  // namespace vaultaire::internal

#define VAULTAIRE_ASSERT(cond, why)                                         \
  do {                                                                      \
    if (!(cond)) [[unlikely]] {                                             \
      ::vaultaire::internal::assert_failed(#cond, why, __FILE__, __LINE__); \
    }                                                                       \
  } while (false)
