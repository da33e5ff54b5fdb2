#pragma once

// UTF-8 as RFC 3629 defines it: shortest forms only, no surrogates, nothing past U+10FFFF.

#include <cstddef>
#include <string>
#include <string_view>

namespace vaultaire {

// The length of the UTF-8 sequence that starts `s` (1 for ASCII), or 0 when `s` does not start
// with one (a stray continuation byte, a truncated or overlong sequence, a surrogate, ...).
size_t utf8_sequence_length(std::string_view s) noexcept;

bool is_valid_utf8(std::string_view s) noexcept;

// `s` with every byte that is not part of a UTF-8 sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view s);

}  // namespace vaultaire
