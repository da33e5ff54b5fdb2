#include "common/ids.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <string_view>

namespace vaultaire {
namespace {

std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  return gen;
}

void append_hex(std::string& out, uint64_t v, int digits, bool upper) {
  const char* alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out.push_back(alphabet[(v >> (4 * i)) & 0xF]);
  }
}

}  // namespace

uint64_t random_u64() { return generator()(); }

std::string new_blob_id(int64_t unix_seconds) {
  std::string id;
  id.reserve(32);
  append_hex(id, static_cast<uint64_t>(unix_seconds) & 0xFFFFFFFFu, 8, false);
  append_hex(id, random_u64(), 16, false);
  append_hex(id, random_u64(), 8, false);
  return id;
}

bool is_blob_id(std::string_view s) noexcept {
  if (s.size() != 32) {
    return false;
  }
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

int64_t blob_id_seconds(std::string_view id) noexcept {
  int64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    const char c = id[i];
    v = v * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return v;
}

std::string new_ordered_id(int64_t unix_nanos) {
  static std::atomic<uint64_t> last{0};
  uint64_t t = static_cast<uint64_t>(unix_nanos);
  uint64_t previous = last.load();
  uint64_t next = 0;
  do {
    next = std::max(t, previous + 1);
  } while (!last.compare_exchange_weak(previous, next));
  std::string id;
  id.reserve(32);
  append_hex(id, next, 16, false);
  append_hex(id, random_u64(), 16, false);
  return id;
}

std::string new_request_id() {
  std::string id;
  id.reserve(16);
  append_hex(id, random_u64(), 16, true);
  return id;
}

}  // namespace vaultaire
