#include "common/crypto.h"

#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/assert.h"

namespace vaultaire {

struct Digest::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {

// OpenSSL 3 looks an algorithm up (under a lock) every time a legacy EVP_sha256() is used;
// fetching each once keeps that off the per-request path.
const EVP_MD* fetch(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  VAULTAIRE_ASSERT(md != nullptr, "the default provider has MD5, SHA-1 and SHA-256");
  return md;
}

const EVP_MD* evp(DigestAlgorithm a) {
  static const EVP_MD* const kMd5 = fetch("MD5");
  static const EVP_MD* const kSha1 = fetch("SHA1");
  static const EVP_MD* const kSha256 = fetch("SHA256");
  switch (a) {
    case DigestAlgorithm::kMd5:
      return kMd5;
    case DigestAlgorithm::kSha1:
      return kSha1;
    case DigestAlgorithm::kSha256:
      return kSha256;
  }
  return nullptr;
}

// One reusable context per algorithm and thread for the one-shot helpers.
Digest& thread_sha256() {
  thread_local Digest d(DigestAlgorithm::kSha256);
  return d;
}

Digest& thread_sha1() {
  thread_local Digest d(DigestAlgorithm::kSha1);
  return d;
}

// RFC 2104 over a reusable digest with 64-byte blocks (SHA-1, SHA-256):
// H((K ^ opad) || H((K ^ ipad) || m)), a key longer than a block hashed first.
std::string hmac(Digest& d, std::string_view key, std::string_view data) {
  constexpr size_t kBlock = 64;
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    d.reset();
    d.update(key);
    const std::string hashed = d.finish();
    std::memcpy(k, hashed.data(), hashed.size());
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) {
    pad[i] = k[i] ^ 0x36;
  }
  d.reset();
  d.update(pad, kBlock);
  d.update(data);
  const std::string inner = d.finish();
  for (size_t i = 0; i < kBlock; ++i) {
    pad[i] = k[i] ^ 0x5c;
  }
  d.reset();
  d.update(pad, kBlock);
  d.update(inner);
  return d.finish();
}

}  // namespace

Digest::Digest(DigestAlgorithm algorithm) : ctx_(std::make_unique<Ctx>()), algorithm_(algorithm) {
  ctx_->md = EVP_MD_CTX_new();
  VAULTAIRE_ASSERT(ctx_->md != nullptr, "EVP_MD_CTX_new fails only when out of memory");
  reset();
}

Digest::~Digest() = default;
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;

void Digest::reset() {
  const int ok = EVP_DigestInit_ex(ctx_->md, evp(algorithm_), nullptr);
  VAULTAIRE_ASSERT(ok == 1, "built-in digests always initialise");
}

void Digest::update(const void* data, size_t size) {
  if (size == 0) {
    return;
  }
  EVP_DigestUpdate(ctx_->md, data, size);
}

std::string Digest::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string md5(std::string_view data) {
  Digest d(DigestAlgorithm::kMd5);
  d.update(data);
  return d.finish();
}

std::string sha256(std::string_view data) {
  Digest& d = thread_sha256();
  d.reset();
  d.update(data);
  return d.finish();
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  return hmac(thread_sha256(), key, data);
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  return hmac(thread_sha1(), key, data);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xF];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  };
  std::string out;
  out.resize(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.resize(4 * ((bytes.size() + 2) / 3));
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  for (const char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=';
    if (!ok) {
      return std::nullopt;
    }
  }
  std::string out;
  out.resize(3 * text.size() / 4);
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  size_t len = static_cast<size_t>(n);
  if (!text.empty() && text.back() == '=') {
    --len;
  }
  if (text.size() >= 2 && text[text.size() - 2] == '=') {
    --len;
  }
  out.resize(len);
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vaultaire
