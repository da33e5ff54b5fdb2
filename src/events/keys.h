#pragma once

// Key layouts of the column families (see store.h for the table). Names are validated before
// they get here (names.h), so tenant and container never contain '\0'; a path may contain any
// byte, which is safe because it is always the last component.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vaultaire::events {

// log: 8 bytes, big-endian, so RocksDB's bytewise order is sequence order.
std::string log_key(uint64_t sequence);
std::optional<uint64_t> parse_log_key(std::string_view key);

// containers: tenant \0 container
std::string container_key(std::string_view tenant, std::string_view container);
// The prefix every container key of `tenant` starts with.
std::string tenant_prefix(std::string_view tenant);

// artifacts: tenant \0 container \0 path
std::string artifact_key(std::string_view tenant, std::string_view container,
                         std::string_view path);
// The prefix every artifact key of one container starts with.
std::string artifact_prefix(std::string_view tenant, std::string_view container);

// uploads: tenant \0 container \0 path \0 upload id (paths hold no NUL: names.h)
std::string upload_key(std::string_view tenant, std::string_view container, std::string_view path,
                       std::string_view upload_id);
// parts: tenant \0 container \0 upload id \0 big-endian u32 part number
std::string part_key(std::string_view tenant, std::string_view container,
                     std::string_view upload_id, uint32_t part_number);
std::string part_prefix(std::string_view tenant, std::string_view container,
                        std::string_view upload_id);

// users: tenant \0 user;  grants: tenant \0 user \0 container
std::string user_key(std::string_view tenant, std::string_view user);
std::string grant_key(std::string_view tenant, std::string_view user, std::string_view container);

// blobs: driver \0 blob id
std::string blob_key(std::string_view driver, std::string_view blob_id);

// The smallest key greater than every key starting with `prefix` (empty if there is none).
std::string prefix_successor(std::string_view prefix);

}  // namespace vaultaire::events
