#pragma once

// Validity of the names the engine stores. Container names follow the S3 bucket naming rules
// (so any valid bucket name is a valid container name and vice versa); paths are 1 to 1024
// bytes of valid UTF-8 without NUL.

#include <string_view>

namespace vaultaire::events {

bool is_valid_container_name(std::string_view name) noexcept;
bool is_valid_path(std::string_view path) noexcept;
// Tenant and user names: 1 to 64 of a-z 0-9 - _, starting with a letter or a digit.
bool is_valid_identity_name(std::string_view name) noexcept;

}  // namespace vaultaire::events
