#include "common/secrets.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/crypto.h"
#include "common/logging.h"

namespace vaultaire {
namespace {

namespace fs = std::filesystem;

using KeyList = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kMaxIdSize = 64;
constexpr std::string_view kEnvKeyId = "env";
constexpr std::string_view kFileHeader =
    "# Vaultaire master keys: one \"<id>:<base64 of 32 bytes>\" per line, the last is primary.\n"
    "# Never remove a key still in use; keep this file out of backups of the data directory.\n";

// Overwrites a string holding key material before its memory is released.
void wipe(std::string& s) {
  if (!s.empty()) {
    OPENSSL_cleanse(s.data(), s.size());
  }
  s.clear();
}

// Wipes a string when it goes out of scope, whichever way the function returns.
class Wiped {
 public:
  explicit Wiped(std::string& s) : s_(s) {}
  ~Wiped() { wipe(s_); }
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;

 private:
  std::string& s_;
};

boost::system::error_code errno_error(std::string_view what, const fs::path& path) {
  const int e = errno;
  logger("common")->error("master key file io failed op={} path={} errno={} error={}", what,
                          path.string(), e, std::strerror(e));
  return Errc::kIo;
}

bool random_bytes(void* out, size_t size) {
  return RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(size)) == 1;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) {
    return {};
  }
  const size_t end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

bool valid_key_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdSize) {
    return false;
  }
  for (const char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Why a "<id>:<base64>" value is not a key, or nullptr when it is one (then `key` holds it).
const char* parse_key(std::string_view id, std::string_view encoded, std::string& key) {
  if (!valid_key_id(id)) {
    return "bad key id";
  }
  std::optional<std::string> decoded = base64_decode(encoded);
  if (!decoded) {
    return "bad base64";
  }
  if (decoded->size() != MasterKeys::kKeySize) {
    wipe(*decoded);
    return "key is not 32 bytes";
  }
  key = std::move(*decoded);
  return nullptr;
}

// The keys of a key file's text, in file order. Line numbers, never contents, are logged.
Result<KeyList> parse_file(std::string_view text, const fs::path& path) {
  KeyList keys;
  size_t line_number = 0;
  auto refuse = [&](const char* why) {
    logger("common")->error("master key file malformed path={} line={} reason={}", path.string(),
                            line_number, why);
    for (auto& entry : keys) {
      wipe(entry.second);
    }
    return Errc::kCorruption;
  };
  while (!text.empty()) {
    ++line_number;
    const size_t eol = text.find('\n');
    const std::string_view line = trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return refuse("no ':' between id and key");
    }
    const std::string_view id = line.substr(0, colon);
    std::string key;
    if (const char* why = parse_key(id, line.substr(colon + 1), key)) {
      return refuse(why);
    }
    for (const auto& entry : keys) {
      if (entry.first == id) {
        wipe(key);
        return refuse("duplicate key id");
      }
    }
    keys.emplace_back(std::string(id), std::move(key));
  }
  if (keys.empty()) {
    line_number = 0;
    return refuse("no key");
  }
  return keys;
}

// The bytes of a key file, or nullopt when there is none. A file on which group or others have
// any permission is refused (Errc::kInvalidArgument): someone else may have read or replaced it.
Result<std::optional<std::string>> read_key_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    return errno_error("open", path);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return errno_error("stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    logger("common")->error("master key file is not a regular file path={}", path.string());
    return Errc::kIo;
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    logger("common")->error(
        "master key file refused: group or others have access path={} mode={:o} (chmod 600 it)",
        path.string(), st.st_mode & 07777);
    return Errc::kInvalidArgument;
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      OPENSSL_cleanse(buffer, sizeof buffer);
      wipe(text);
      return errno_error("read", path);
    }
    if (n == 0) {
      break;
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  OPENSSL_cleanse(buffer, sizeof buffer);
  return std::optional<std::string>(std::move(text));
}

Result<void> write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<void> fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return errno_error("open dir", dir);
  }
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) {
    return errno_error("fsync dir", dir);
  }
  return {};
}

// Replaces `path` with `text` so that a crash leaves the old file or the new one, never a mix:
// a 0600 temporary file beside it, fsynced, renamed over it, then the folder fsynced.
Result<void> write_key_file(const fs::path& path, std::string_view text) {
  fs::path tmp = path;
  tmp += ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return errno_error("create", tmp);
  }
  // A stale temporary file left by a crash keeps its old mode through O_TRUNC.
  Result<void> written =
      ::fchmod(fd, 0600) == 0 ? write_all(fd, text, tmp) : errno_error("chmod", tmp);
  if (written && ::fsync(fd) != 0) {
    written = errno_error("fsync", tmp);
  }
  if (::close(fd) != 0 && written) {
    written = errno_error("close", tmp);
  }
  if (written && ::rename(tmp.c_str(), path.c_str()) != 0) {
    written = errno_error("rename", path);
  }
  if (!written) {
    ::unlink(tmp.c_str());
    return written.error();
  }
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  return fsync_dir(dir);
}

// A new random key under an id that is in none of `taken`.
Result<std::pair<std::string, std::string>> generate_key(const KeyList& taken) {
  std::string key(MasterKeys::kKeySize, '\0');
  if (!random_bytes(key.data(), key.size())) {
    logger("common")->error("random generator failed");
    return Errc::kInternal;
  }
  for (;;) {
    unsigned char raw[6];
    if (!random_bytes(raw, sizeof raw)) {
      wipe(key);
      logger("common")->error("random generator failed");
      return Errc::kInternal;
    }
    std::string id = "mk-" + to_hex(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
    bool unique = true;
    for (const auto& entry : taken) {
      unique = unique && entry.first != id;
    }
    if (unique) {
      return std::make_pair(std::move(id), std::move(key));
    }
  }
}

std::string key_line(const std::pair<std::string, std::string>& key) {
  return key.first + ":" + base64_encode(key.second) + "\n";
}

const EVP_CIPHER* aes_256_gcm() {
  // Fetched once: OpenSSL 3 otherwise looks the algorithm up under a lock on every use.
  static const EVP_CIPHER* const kCipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  VAULTAIRE_ASSERT(kCipher != nullptr, "the default provider has AES-256-GCM");
  return kCipher;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// `size` characters drawn uniformly from `alphabet` (at most 256 characters).
std::string random_string(std::string_view alphabet, size_t size) {
  // Bytes at or above the largest multiple of the alphabet size are dropped, so every
  // character is equally likely.
  const unsigned limit = 256 - 256 % alphabet.size();
  std::string out;
  out.reserve(size);
  while (out.size() < size) {
    unsigned char raw[64];
    const bool ok = random_bytes(raw, sizeof raw);
    VAULTAIRE_ASSERT(ok, "OpenSSL's generator, seeded from the OS, does not fail once running");
    for (const unsigned char b : raw) {
      if (b < limit && out.size() < size) {
        out.push_back(alphabet[b % alphabet.size()]);
      }
    }
    OPENSSL_cleanse(raw, sizeof raw);
  }
  return out;
}

}  // namespace

Result<MasterKeys> MasterKeys::load(const std::filesystem::path& file, bool create) {
  Result<std::optional<std::string>> text = read_key_file(file);
  if (!text) {
    return text.error();
  }
  if (!*text && create) {
    Result<std::pair<std::string, std::string>> key = generate_key({});
    if (!key) {
      return key.error();
    }
    std::string content = std::string(kFileHeader) + key_line(*key);
    const Wiped wiped(content);
    if (Result<void> written = write_key_file(file, content); !written) {
      wipe(key->second);
      return written.error();
    }
    logger("common")->info("master key file created path={} key_id={}", file.string(), key->first);
    KeyList keys;
    keys.push_back(std::move(*key));
    return MasterKeys(std::move(keys));
  }
  if (!*text) {
    logger("common")->error("master key file missing path={}", file.string());
    return Errc::kIo;
  }
  const Wiped wiped(**text);
  Result<KeyList> keys = parse_file(**text, file);
  if (!keys) {
    return keys.error();
  }
  return MasterKeys(std::move(*keys));
}

Result<MasterKeys> MasterKeys::from_string(std::string_view text) {
  text = trim(text);
  const size_t colon = text.find(':');
  const std::string_view id = colon == std::string_view::npos ? kEnvKeyId : text.substr(0, colon);
  const std::string_view encoded = colon == std::string_view::npos ? text : text.substr(colon + 1);
  std::string key;
  if (const char* why = parse_key(id, encoded, key)) {
    logger("common")->error("master key value refused reason={}", why);
    return Errc::kInvalidArgument;
  }
  KeyList keys;
  keys.emplace_back(std::string(id), std::move(key));
  return MasterKeys(std::move(keys));
}

MasterKeys::~MasterKeys() {
  for (auto& entry : keys_) {
    wipe(entry.second);
  }
}

MasterKeys& MasterKeys::operator=(MasterKeys&& other) noexcept {
  if (this != &other) {
    for (auto& entry : keys_) {
      wipe(entry.second);
    }
    keys_ = std::move(other.keys_);
  }
  return *this;
}

std::vector<std::string> MasterKeys::key_ids() const {
  std::vector<std::string> ids;
  ids.reserve(keys_.size());
  for (const auto& entry : keys_) {
    ids.push_back(entry.first);
  }
  return ids;
}

const std::string* MasterKeys::find(std::string_view id) const {
  for (const auto& entry : keys_) {
    if (entry.first == id) {
      return &entry.second;
    }
  }
  return nullptr;
}

Result<std::string> MasterKeys::rotate(const std::filesystem::path& file) {
  Result<std::optional<std::string>> text = read_key_file(file);
  if (!text) {
    return text.error();
  }
  if (!*text) {
    logger("common")->error("master key file missing path={}", file.string());
    return Errc::kIo;
  }
  const Wiped wiped_text(**text);
  Result<KeyList> on_disk = parse_file(**text, file);
  if (!on_disk) {
    return on_disk.error();
  }
  // The new id must be new to the file and to this ring, which may hold keys the file lacks.
  KeyList taken;
  for (auto& entry : *on_disk) {
    wipe(entry.second);
    taken.emplace_back(std::move(entry.first), std::string());
  }
  for (const auto& entry : keys_) {
    taken.emplace_back(entry.first, std::string());
  }
  Result<std::pair<std::string, std::string>> key = generate_key(taken);
  if (!key) {
    return key.error();
  }
  std::string content = **text;
  const Wiped wiped_content(content);
  if (!content.empty() && content.back() != '\n') {
    content.push_back('\n');
  }
  content += key_line(*key);
  if (Result<void> written = write_key_file(file, content); !written) {
    wipe(key->second);
    return written.error();
  }
  logger("common")->info("master key rotated path={} key_id={} keys={}", file.string(), key->first,
                         keys_.size() + 1);
  keys_.push_back(std::move(*key));
  return keys_.back().first;
}

Result<MasterKeys::Sealed> MasterKeys::seal(std::string_view plaintext,
                                            std::string_view associated) const {
  if (plaintext.size() > INT_MAX || associated.size() > INT_MAX) {
    return Errc::kInvalidArgument;
  }
  Sealed out;
  out.key_id = primary_id();
  out.nonce.resize(kNonceSize);
  if (!random_bytes(out.nonce.data(), out.nonce.size())) {
    logger("common")->error("random generator failed");
    return Errc::kInternal;
  }
  out.ciphertext.resize(plaintext.size());
  out.tag.resize(kTagSize);
  const CipherCtx ctx(EVP_CIPHER_CTX_new());
  int aad_len = 0;
  int body_len = 0;
  int final_len = 0;
  // GCM is a stream mode: the ciphertext is exactly as long as the plaintext, and the final
  // call adds no bytes. Empty inputs skip their update call.
  const bool ok =
      ctx != nullptr &&
      EVP_EncryptInit_ex2(ctx.get(), aes_256_gcm(), bytes(keys_.back().second), bytes(out.nonce),
                          nullptr) == 1 &&
      (associated.empty() || EVP_EncryptUpdate(ctx.get(), nullptr, &aad_len, bytes(associated),
                                               static_cast<int>(associated.size())) == 1) &&
      (plaintext.empty() ||
       EVP_EncryptUpdate(ctx.get(), bytes(out.ciphertext), &body_len, bytes(plaintext),
                         static_cast<int>(plaintext.size())) == 1) &&
      EVP_EncryptFinal_ex(ctx.get(), bytes(out.ciphertext) + body_len, &final_len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize),
                          out.tag.data()) == 1;
  if (!ok) {
    logger("common")->error("aes-256-gcm encryption failed");
    return Errc::kInternal;
  }
  return out;
}

Result<std::string> MasterKeys::open(const Sealed& sealed, std::string_view associated) const {
  const std::string* key = find(sealed.key_id);
  if (key == nullptr) {
    return Errc::kInvalidArgument;
  }
  if (sealed.nonce.size() != kNonceSize || sealed.tag.size() != kTagSize) {
    return Errc::kCorruption;
  }
  if (sealed.ciphertext.size() > INT_MAX || associated.size() > INT_MAX) {
    return Errc::kInvalidArgument;
  }
  std::string plaintext(sealed.ciphertext.size(), '\0');
  unsigned char tag[kTagSize];
  std::memcpy(tag, sealed.tag.data(), kTagSize);
  const CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) {
    return Errc::kInternal;
  }
  int aad_len = 0;
  int body_len = 0;
  int final_len = 0;
  const bool set_up =
      EVP_DecryptInit_ex2(ctx.get(), aes_256_gcm(), bytes(*key), bytes(sealed.nonce), nullptr) ==
          1 &&
      (associated.empty() || EVP_DecryptUpdate(ctx.get(), nullptr, &aad_len, bytes(associated),
                                               static_cast<int>(associated.size())) == 1) &&
      (plaintext.empty() ||
       EVP_DecryptUpdate(ctx.get(), bytes(plaintext), &body_len, bytes(sealed.ciphertext),
                         static_cast<int>(sealed.ciphertext.size())) == 1) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize), tag) == 1;
  if (!set_up) {
    wipe(plaintext);
    logger("common")->error("aes-256-gcm decryption failed to start");
    return Errc::kInternal;
  }
  // Only the final call checks the tag; until it passes, the plaintext is not to be trusted.
  if (EVP_DecryptFinal_ex(ctx.get(), bytes(plaintext) + body_len, &final_len) != 1) {
    wipe(plaintext);
    return Errc::kCorruption;
  }
  return plaintext;
}

std::string new_secret_key() {
  return random_string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
}

std::string new_access_key_id() {
  return "VK" + random_string("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 18);
}

}  // namespace vaultaire
