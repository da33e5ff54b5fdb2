#include "events/keys.h"

namespace vaultaire::events {

std::string log_key(uint64_t sequence) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(sequence & 0xFF);
    sequence >>= 8;
  }
  return key;
}

std::optional<uint64_t> parse_log_key(std::string_view key) {
  if (key.size() != 8) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (const char c : key) {
    v = (v << 8) | static_cast<unsigned char>(c);
  }
  return v;
}

std::string container_key(std::string_view tenant, std::string_view container) {
  std::string key;
  key.reserve(tenant.size() + container.size() + 1);
  key.append(tenant).push_back('\0');
  key.append(container);
  return key;
}

std::string tenant_prefix(std::string_view tenant) {
  std::string key(tenant);
  key.push_back('\0');
  return key;
}

std::string artifact_prefix(std::string_view tenant, std::string_view container) {
  std::string key = container_key(tenant, container);
  key.push_back('\0');
  return key;
}

std::string artifact_key(std::string_view tenant, std::string_view container,
                         std::string_view path) {
  std::string key = artifact_prefix(tenant, container);
  key.append(path);
  return key;
}

std::string upload_key(std::string_view tenant, std::string_view container, std::string_view path,
                       std::string_view upload_id) {
  std::string key = artifact_key(tenant, container, path);
  key.push_back('\0');
  key.append(upload_id);
  return key;
}

std::string part_prefix(std::string_view tenant, std::string_view container,
                        std::string_view upload_id) {
  std::string key = artifact_prefix(tenant, container);
  key.append(upload_id);
  key.push_back('\0');
  return key;
}

std::string part_key(std::string_view tenant, std::string_view container,
                     std::string_view upload_id, uint32_t part_number) {
  std::string key = part_prefix(tenant, container, upload_id);
  for (int shift = 24; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((part_number >> shift) & 0xFF));
  }
  return key;
}

std::string user_key(std::string_view tenant, std::string_view user) {
  return container_key(tenant, user);  // same shape: tenant \0 name
}

std::string grant_key(std::string_view tenant, std::string_view user, std::string_view container) {
  std::string key = user_key(tenant, user);
  key.push_back('\0');
  key.append(container);
  return key;
}

std::string blob_key(std::string_view driver, std::string_view blob_id) {
  std::string key(driver);
  key.push_back('\0');
  key.append(blob_id);
  return key;
}

std::string prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xFF) {
    s.pop_back();
  }
  if (!s.empty()) {
    s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  }
  return s;
}

}  // namespace vaultaire::events
