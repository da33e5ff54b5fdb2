#pragma once

// Secrets of access keys, stored encrypted (AES-256-GCM) under a master key, and the generators
// of new access key ids and secrets.
//
// The master key file holds one key per line; the last line is the primary key, which seals
// everything new. Rotation appends a key and keeps the old ones, so that what they sealed still
// opens until it has been re-sealed under the new primary:
//
//   # comments and blank lines are ignored
//   mk-3f9a0c2e71d4:<base64 of 32 bytes>
//   mk-81be55a09c3f:<base64 of 32 bytes>      <- primary (last)
//
// Key ids are 1 to 64 characters of [A-Za-z0-9._-]. Keys and plaintexts are never logged.

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/errors.h"

namespace vaultaire {

// The master key ring: key id -> 32-byte key, in the order added; the last is the primary.
// Never empty. The const members may run concurrently on any threads; rotate() changes the ring
// and must not run concurrently with any other use of the same object (its owner serialises it).
// Key bytes are wiped from memory when the ring is destroyed.
class MasterKeys {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;

  // Reads a key file: one key per line, "<id>:<base64 of 32 bytes>", '#' comments and blank
  // lines allowed. When the file is missing and `create`, creates it (mode 0600, written to a
  // temporary file, fsynced and renamed, its folder fsynced) with one fresh random key.
  // Errors: Errc::kIo when the file cannot be read or created (or is missing and not `create`);
  // Errc::kCorruption for a malformed line, a key that is not 32 bytes, a duplicate id or a file
  // without any key; Errc::kInvalidArgument for a file that grants any permission to its group
  // or to others (it is refused, not repaired).
  [[nodiscard]] static Result<MasterKeys> load(const std::filesystem::path& file, bool create);

  // One key from a configuration value (an environment variable): "<id>:<base64>", or a plain
  // "<base64>" whose id is "env". Surrounding whitespace is ignored.
  // Errors: Errc::kInvalidArgument for a malformed value or a key that is not 32 bytes.
  [[nodiscard]] static Result<MasterKeys> from_string(std::string_view text);

  ~MasterKeys();
  MasterKeys(MasterKeys&&) noexcept = default;
  MasterKeys& operator=(MasterKeys&& other) noexcept;  // wipes the keys it held
  MasterKeys(const MasterKeys&) = delete;
  MasterKeys& operator=(const MasterKeys&) = delete;

  // The id of the key that seal() uses.
  const std::string& primary_id() const { return keys_.back().first; }
  // Every key id, oldest first (the primary last).
  std::vector<std::string> key_ids() const;

  // Generates a new random key under a new id, appends it to `file` and makes it primary;
  // returns its id. The file keeps its existing lines: it is rewritten as a temporary file
  // (mode 0600) that is fsynced, renamed over `file`, and its folder fsynced, so a crash leaves
  // either the old file or the new one. The ring changes only once the file is durable.
  // Errors: those of load() for the existing file (which must exist: Errc::kIo when missing);
  // Errc::kIo when writing fails. On error the ring and the file are unchanged.
  [[nodiscard]] Result<std::string> rotate(const std::filesystem::path& file);

  // One sealed value; every field is raw bytes (the caller encodes them for storage).
  struct Sealed {
    std::string key_id;      // the master key it was sealed under
    std::string nonce;       // kNonceSize bytes, random, never reused under one key
    std::string ciphertext;  // as long as the plaintext
    std::string tag;         // kTagSize bytes
  };

  // AES-256-GCM under the primary key with a fresh random 12-byte nonce. `associated` is
  // authenticated but not encrypted, nor stored: pass the access key id so that a ciphertext
  // cannot be moved to another key. Errors: Errc::kInternal when OpenSSL fails (no randomness).
  [[nodiscard]] Result<Sealed> seal(std::string_view plaintext, std::string_view associated) const;

  // The plaintext of `sealed`, given the same `associated` value as seal().
  // Errors: Errc::kInvalidArgument when sealed.key_id is not in the ring; Errc::kCorruption when
  // the nonce or tag has the wrong size or the tag does not verify (tampered bytes, another
  // associated value, another key under the same id).
  [[nodiscard]] Result<std::string> open(const Sealed& sealed, std::string_view associated) const;

 private:
  explicit MasterKeys(std::vector<std::pair<std::string, std::string>> keys)
      : keys_(std::move(keys)) {}

  const std::string* find(std::string_view id) const;

  std::vector<std::pair<std::string, std::string>> keys_;  // (id, 32 key bytes), primary last
};

// A new random secret for an access key: 40 characters of [A-Za-z0-9+/], as AWS secrets look.
std::string new_secret_key();

// A new random access key id: "VK" followed by 18 characters of [A-Z0-9].
std::string new_access_key_id();

}  // namespace vaultaire
