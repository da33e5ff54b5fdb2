#pragma once

// Percent-encoding as S3 and SigV4 use it, and request-target parsing.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vaultaire {

// RFC 3986 encoding as SigV4 canonicalisation wants it: everything but A-Z a-z 0-9 - _ . ~ is
// %XX (uppercase hex); '/' is kept when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);

// Decodes %XX sequences; `plus_is_space` for query components. nullopt on a malformed escape.
std::optional<std::string> uri_decode(std::string_view s, bool plus_is_space);

// One query parameter, decoded. A parameter without '=' has an empty value and no_value set.
struct QueryParam {
  std::string name;
  std::string value;
  bool no_value = false;
};

// Splits and decodes a raw query string ("a=1&b&c=x%20y"). nullopt on a malformed escape.
std::optional<std::vector<QueryParam>> parse_query(std::string_view raw);

// A request target split into its raw path and raw query.
struct Target {
  std::string_view path;   // raw, still encoded
  std::string_view query;  // raw, without '?'
};
Target split_target(std::string_view target);

}  // namespace vaultaire
