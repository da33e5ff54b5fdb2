#pragma once

// A hash for unordered containers keyed by std::string that also finds a std::string_view (or
// a const char*) without building a std::string: use it with std::equal_to<>.

#include <cstddef>
#include <functional>
#include <string_view>

namespace vaultaire {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace vaultaire
