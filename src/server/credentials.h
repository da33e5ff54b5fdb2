#pragma once

// The server's credential store: the root credentials from the environment, and every access
// key of the identity views, its secret opened with the master key. Each lookup reads the views,
// so disabling or deleting a key takes effect on the very next request, on every listener.
// Thread-safe.

#include <filesystem>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "actors/hub.h"
#include "common/secrets.h"
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
  HubCredentialStore(const events::ViewReader& views, MasterKeys keys,
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
  const events::ViewReader& views_;
  mutable std::shared_mutex mu_;  // guards keys_ (rotation replaces the primary)
  MasterKeys keys_;
  const std::filesystem::path key_file_;
  const RootCredentials root_;
};

}  // namespace vaultaire::server
