#include "events/names.h"

#include <cstdint>

#include "common/utf8.h"

namespace vaultaire::events {
namespace {

bool looks_like_ipv4(std::string_view s) {
  int dots = 0;
  int digits = 0;
  for (const char c : s) {
    if (c == '.') {
      if (digits == 0) {
        return false;
      }
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (++digits > 3) {
        return false;
      }
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

}  // namespace

bool is_valid_container_name(std::string_view name) noexcept {
  if (name.size() < 3 || name.size() > 63) {
    return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) {
    return false;
  }
  char prev = 0;
  for (const char c : name) {
    if (!alnum(c) && c != '.' && c != '-') {
      return false;
    }
    if (c == '.' && (prev == '.' || prev == '-')) {
      return false;
    }
    if (c == '-' && prev == '.') {
      return false;
    }
    prev = c;
  }
  if (looks_like_ipv4(name)) {
    return false;
  }
  // Prefixes and suffixes AWS reserves.
  return !starts_with(name, "xn--") && !starts_with(name, "sthree-") &&
         !ends_with(name, "-s3alias") && !ends_with(name, "--ol-s3");
}

bool is_valid_identity_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front())) {
    return false;
  }
  for (const char c : name) {
    if (!alnum(c) && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

bool is_valid_path(std::string_view path) noexcept {
  // NUL separates key components (keys.h); S3 clients cannot send it in a URL anyway.
  return !path.empty() && path.size() <= 1024 && path.find('\0') == std::string_view::npos &&
         is_valid_utf8(path);
}

}  // namespace vaultaire::events
