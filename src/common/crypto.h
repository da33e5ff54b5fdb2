#pragma once

// Digests, HMAC and the encodings S3 uses (hex, base64), over OpenSSL.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vaultaire {

enum class DigestAlgorithm { kMd5, kSha1, kSha256 };

// An incremental digest. Reusable after finish() via reset().
class Digest {
 public:
  explicit Digest(DigestAlgorithm algorithm);
  ~Digest();
  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // The raw digest bytes; the digest must be reset() before further use.
  std::string finish();
  void reset();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  DigestAlgorithm algorithm_;
};

std::string md5(std::string_view data);
std::string sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);
// For AWS Signature Version 2 only.
std::string hmac_sha1(std::string_view key, std::string_view data);

std::string to_hex(std::string_view bytes);
// Lowercase or uppercase hex; nullopt on odd length or a non-hex character.
std::optional<std::string> from_hex(std::string_view hex);

std::string base64_encode(std::string_view bytes);
// Standard alphabet with padding; nullopt on malformed input.
std::optional<std::string> base64_decode(std::string_view text);

// Compares in time independent of where the inputs differ (signatures, secrets).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace vaultaire
