#include "server/credentials.h"

#include <algorithm>

#include "common/ids.h"
#include "common/logging.h"

namespace vaultaire::server {
namespace {

MasterKeys::Sealed unseal_view(const proto::SealedSecret& s) {
  return MasterKeys::Sealed{s.key_id(), s.nonce(), s.ciphertext(), s.tag()};
}

proto::SealedSecret to_proto(const MasterKeys::Sealed& s) {
  proto::SealedSecret out;
  out.set_key_id(s.key_id);
  out.set_nonce(s.nonce);
  out.set_ciphertext(s.ciphertext);
  out.set_tag(s.tag);
  return out;
}

}  // namespace

HubCredentialStore::HubCredentialStore(const events::ViewReader& views,
                                       const std::atomic<uint64_t>& identity_generation,
                                       MasterKeys keys, std::filesystem::path key_file,
                                       RootCredentials root)
    : views_(views),
      identity_generation_(identity_generation),
      keys_(std::move(keys)),
      key_file_(std::move(key_file)),
      root_(std::move(root)) {}

std::optional<s3::Credential> HubCredentialStore::find(std::string_view access_key) const {
  if (access_key == root_.access_key) {
    s3::Credential c;
    c.access_key = root_.access_key;
    c.secret = root_.secret_key;
    c.identity.tenant = "default";
    c.identity.principal = root_.access_key;
    c.identity.role = "root";
    return c;
  }
  // Before the views: an answer cached under this generation is at least as new as it.
  const uint64_t generation = identity_generation_.load(std::memory_order_acquire);
  {
    std::shared_lock lock(cache_mu_);
    if (cache_generation_ == generation) {
      if (auto it = cache_.find(access_key); it != cache_.end()) {
        return it->second;
      }
    }
  }
  auto resolved = resolve(access_key);
  if (resolved) {
    std::unique_lock lock(cache_mu_);
    if (cache_generation_ < generation || cache_.size() >= kMaxCached) {
      // Everything cached was read before the last identity command: gone, secrets included.
      cache_.clear();
      cache_generation_ = std::max(cache_generation_, generation);
    }
    if (cache_generation_ == generation) {  // else read under an older generation: not kept
      cache_.insert_or_assign(std::string(access_key), *resolved);
    }
  }
  return resolved;
}

std::optional<s3::Credential> HubCredentialStore::resolve(std::string_view access_key) const {
  auto key = views_.access_key(access_key);
  if (!key || !key->enabled()) {
    return std::nullopt;
  }
  auto user = views_.user(key->tenant(), key->user());
  if (!user) {
    return std::nullopt;
  }
  Result<std::string> secret = Errc::kInternal;
  {
    std::shared_lock lock(mu_);
    secret = keys_.open(unseal_view(key->secret()), access_key);
  }
  if (!secret) {
    logger("server")->error("access key secret does not open access_key={} error={}", access_key,
                            secret.error().message());
    return std::nullopt;
  }
  s3::Credential c;
  c.access_key = std::string(access_key);
  c.secret = std::move(*secret);
  c.identity.tenant = key->tenant();
  c.identity.principal = std::string(access_key);
  c.identity.user = key->user();
  c.identity.role = user->role();
  c.identity.requests_per_second = key->rate_limit().requests_per_second();
  c.identity.burst = key->rate_limit().burst();
  return c;
}

Result<proto::SealedSecret> HubCredentialStore::seal(std::string_view secret,
                                                     std::string_view access_key) const {
  std::shared_lock lock(mu_);
  auto sealed = keys_.seal(secret, access_key);
  if (!sealed) {
    return sealed.error();
  }
  return to_proto(*sealed);
}

asio::awaitable<Result<std::pair<std::string, size_t>>> HubCredentialStore::rotate(
    actors::Hub& hub) {
  if (key_file_.empty()) {
    co_return Errc::kInvalidArgument;  // keys from the environment: nowhere to add one
  }
  std::string new_id;
  {
    std::unique_lock lock(mu_);
    auto rotated = keys_.rotate(key_file_);
    if (!rotated) {
      co_return rotated.error();
    }
    new_id = std::move(*rotated);
  }
  // Seal every secret again; a key changed meanwhile fails the command, and we read again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto keys = views_.access_keys("");
    if (!keys) {
      co_return keys.error();
    }
    proto::Command c;
    c.mutable_context()->set_tenant("default");
    c.mutable_context()->set_principal(root_.access_key);
    c.mutable_context()->set_request_id(new_request_id());
    proto::ReencryptSecrets& r = *c.mutable_reencrypt_secrets();
    r.set_key_id(new_id);
    {
      std::shared_lock lock(mu_);
      for (const auto& k : keys->keys()) {
        auto plain = keys_.open(unseal_view(k.record().secret()), k.access_key());
        if (!plain) {
          co_return plain.error();
        }
        auto sealed = keys_.seal(*plain, k.access_key());
        if (!sealed) {
          co_return sealed.error();
        }
        proto::ReencryptedSecret& s = *r.add_secrets();
        s.set_access_key(k.access_key());
        *s.mutable_secret() = to_proto(*sealed);
        r.add_previous_nonces(k.record().secret().nonce());
      }
    }
    const size_t count = static_cast<size_t>(r.secrets_size());
    auto reply = co_await hub.execute(std::move(c));
    if (reply) {
      logger("server")->info("master key rotated key_id={} secrets={}", new_id, count);
      co_return std::pair<std::string, size_t>(new_id, count);
    }
    if (!is(reply.error(), Errc::kConflict)) {
      co_return reply.error();
    }
  }
  co_return Errc::kConflict;
}

}  // namespace vaultaire::server
