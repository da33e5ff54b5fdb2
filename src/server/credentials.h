#pragma once

// The server's credential store: the root credentials from the environment, and every access
// key of the identity views, its secret opened with the master key. A key once resolved is kept
// in memory (no view reads, no AES-GCM per request) only as long as the identity generation has
// not moved: any identity command (a key disabled or deleted, a user or tenant deleted) moves it
// before it is acknowledged, so such a change takes effect on the very next request, on every
// listener. Thread-safe.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "actors/hub.h"
#include "common/secrets.h"
#include "common/string_hash.h"
#include "events/view_reader.h"
#include "s3/auth.h"

namespace vaultaire::server {

struct RootCredentials {
  std::string access_key;
  std::string secret_key;
};

class HubCredentialStore final : public s3::CredentialStore {
 public:
  // `views` outlives the store. `key_file` is where the master keys live (empty: they came
  // from the environment and cannot be rotated).
  // `identity_generation` (LocalHub::identity_generation()) outlives the store.
  HubCredentialStore(const events::ViewReader& views,
                     const std::atomic<uint64_t>& identity_generation, MasterKeys keys,
                     std::filesystem::path key_file, RootCredentials root);

  std::optional<s3::Credential> find(std::string_view access_key) const override;

  // Seals a new access key's secret under the primary master key.
  [[nodiscard]] Result<proto::SealedSecret> seal(std::string_view secret,
                                                 std::string_view access_key) const;

  // Rotates the master key: a new key in the key file, every secret sealed again under it and
  // committed through `hub` in one event. Returns the new key id and how many secrets.
  asio::awaitable<Result<std::pair<std::string, size_t>>> rotate(actors::Hub& hub);

  const RootCredentials& root() const { return root_; }

 private:
  // What the views said, read from them and their secret opened.
  std::optional<s3::Credential> resolve(std::string_view access_key) const;

  // Enough for every key of a large deployment; past it the cache starts over.
  static constexpr size_t kMaxCached = 1 << 16;

  const events::ViewReader& views_;
  const std::atomic<uint64_t>& identity_generation_;
  mutable std::shared_mutex cache_mu_;
  // Keys resolved under identity generation cache_generation_ (known, enabled keys only); the
  // map is emptied when the generation moves. Both guarded by cache_mu_.
  mutable uint64_t cache_generation_ = 0;
  mutable std::unordered_map<std::string, s3::Credential, StringHash, std::equal_to<>> cache_;
  mutable std::shared_mutex mu_;  // guards keys_ (rotation replaces the primary)
  MasterKeys keys_;
  const std::filesystem::path key_file_;
  const RootCredentials root_;
};

}  // namespace vaultaire::server
