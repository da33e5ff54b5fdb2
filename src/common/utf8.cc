#include "common/utf8.h"

namespace vaultaire {

size_t utf8_sequence_length(std::string_view s) noexcept {
  if (s.empty()) {
    return 0;
  }
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char lead = b(0);
  if (lead < 0x80) {
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    return cont(1) ? 2 : 0;
  }
  if (lead >= 0xE0 && lead <= 0xEF) {
    // E0 needs A0.. (no overlong), ED needs ..9F (no surrogate).
    if (!cont(1) || !cont(2) || (lead == 0xE0 && b(1) < 0xA0) || (lead == 0xED && b(1) >= 0xA0)) {
      return 0;
    }
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    // F0 needs 90.. (no overlong), F4 needs ..8F (nothing past U+10FFFF).
    if (!cont(1) || !cont(2) || !cont(3) || (lead == 0xF0 && b(1) < 0x90) ||
        (lead == 0xF4 && b(1) >= 0x90)) {
      return 0;
    }
    return 4;
  }
  return 0;
}

bool is_valid_utf8(std::string_view s) noexcept {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = utf8_sequence_length(s.substr(i));
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = utf8_sequence_length(s.substr(i));
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace vaultaire
