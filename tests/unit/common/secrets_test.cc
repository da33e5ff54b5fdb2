#include "common/secrets.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/crypto.h"
#include "support/temp_dir.h"

namespace vaultaire {
namespace {

namespace fs = std::filesystem;

constexpr fs::perms kOwnerOnly = fs::perms::owner_read | fs::perms::owner_write;

std::string hex(std::string_view h) { return from_hex(h).value(); }

std::string key_b64(char fill) { return base64_encode(std::string(32, fill)); }

void write_file(const fs::path& path, const std::string& text, fs::perms perms = kOwnerOnly) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  fs::permissions(path, perms);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

MasterKeys keys_of(std::string_view text) { return MasterKeys::from_string(text).value(); }

class MasterKeysTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  const fs::path file_ = dir_ / "master.key";
};

TEST_F(MasterKeysTest, SealThenOpenReturnsThePlaintext) {
  const MasterKeys keys = keys_of("k1:" + key_b64('a'));
  const std::string secret = new_secret_key();
  const MasterKeys::Sealed sealed = keys.seal(secret, "VKAAAA").value();
  EXPECT_EQ(sealed.key_id, "k1");
  EXPECT_EQ(sealed.nonce.size(), MasterKeys::kNonceSize);
  EXPECT_EQ(sealed.tag.size(), MasterKeys::kTagSize);
  EXPECT_EQ(sealed.ciphertext.size(), secret.size());
  EXPECT_NE(sealed.ciphertext, secret);
  EXPECT_EQ(keys.open(sealed, "VKAAAA").value(), secret);

  const MasterKeys::Sealed empty = keys.seal("", "").value();
  EXPECT_EQ(keys.open(empty, "").value(), "");
}

TEST_F(MasterKeysTest, EverySealUsesAFreshNonce) {
  const MasterKeys keys = keys_of(key_b64('a'));
  const MasterKeys::Sealed a = keys.seal("same secret", "VKAAAA").value();
  const MasterKeys::Sealed b = keys.seal("same secret", "VKAAAA").value();
  EXPECT_NE(a.nonce, b.nonce);
  EXPECT_NE(a.ciphertext, b.ciphertext);
}

TEST_F(MasterKeysTest, FlippedCiphertextByteIsCorruption) {
  const MasterKeys keys = keys_of(key_b64('a'));
  const MasterKeys::Sealed sealed = keys.seal("a secret of some length", "VKAAAA").value();
  for (size_t i = 0; i < sealed.ciphertext.size(); ++i) {
    MasterKeys::Sealed bad = sealed;
    bad.ciphertext[i] ^= 0x01;
    const auto opened = keys.open(bad, "VKAAAA");
    ASSERT_FALSE(opened.has_value()) << "byte " << i;
    EXPECT_TRUE(is(opened.error(), Errc::kCorruption)) << "byte " << i;
  }
}

TEST_F(MasterKeysTest, FlippedTagByteIsCorruption) {
  const MasterKeys keys = keys_of(key_b64('a'));
  const MasterKeys::Sealed sealed = keys.seal("secret", "VKAAAA").value();
  for (size_t i = 0; i < sealed.tag.size(); ++i) {
    MasterKeys::Sealed bad = sealed;
    bad.tag[i] ^= 0x80;
    const auto opened = keys.open(bad, "VKAAAA");
    ASSERT_FALSE(opened.has_value()) << "byte " << i;
    EXPECT_TRUE(is(opened.error(), Errc::kCorruption)) << "byte " << i;
  }
  MasterKeys::Sealed truncated = sealed;
  truncated.tag.pop_back();
  EXPECT_TRUE(is(keys.open(truncated, "VKAAAA").error(), Errc::kCorruption));
}

TEST_F(MasterKeysTest, FlippedNonceByteIsCorruption) {
  const MasterKeys keys = keys_of(key_b64('a'));
  const MasterKeys::Sealed sealed = keys.seal("secret", "VKAAAA").value();
  for (size_t i = 0; i < sealed.nonce.size(); ++i) {
    MasterKeys::Sealed bad = sealed;
    bad.nonce[i] ^= 0x01;
    const auto opened = keys.open(bad, "VKAAAA");
    ASSERT_FALSE(opened.has_value()) << "byte " << i;
    EXPECT_TRUE(is(opened.error(), Errc::kCorruption)) << "byte " << i;
  }
  MasterKeys::Sealed longer = sealed;
  longer.nonce.push_back('\0');
  EXPECT_TRUE(is(keys.open(longer, "VKAAAA").error(), Errc::kCorruption));
}

TEST_F(MasterKeysTest, WrongAssociatedValueIsCorruption) {
  const MasterKeys keys = keys_of(key_b64('a'));
  const MasterKeys::Sealed sealed = keys.seal("secret", "VKAAAA").value();
  EXPECT_TRUE(is(keys.open(sealed, "VKAAAB").error(), Errc::kCorruption));
  EXPECT_TRUE(is(keys.open(sealed, "").error(), Errc::kCorruption));
}

TEST_F(MasterKeysTest, AnotherKeyUnderTheSameIdIsCorruption) {
  const MasterKeys::Sealed sealed = keys_of("k1:" + key_b64('a')).seal("secret", "VK").value();
  EXPECT_TRUE(is(keys_of("k1:" + key_b64('b')).open(sealed, "VK").error(), Errc::kCorruption));
}

TEST_F(MasterKeysTest, UnknownKeyIdIsInvalidArgument) {
  const MasterKeys keys = keys_of("k1:" + key_b64('a'));
  MasterKeys::Sealed sealed = keys.seal("secret", "VK").value();
  sealed.key_id = "k2";
  EXPECT_TRUE(is(keys.open(sealed, "VK").error(), Errc::kInvalidArgument));
}

TEST_F(MasterKeysTest, OpensPublishedAes256GcmVectors) {
  struct Vector {
    const char* source;
    const char* key;
    const char* iv;
    const char* aad;
    const char* plaintext;
    const char* ciphertext;
    const char* tag;
  };
  const Vector vectors[] = {
      // NIST CAVP gcmEncryptExtIV256.rsp, [Keylen=256, IVlen=96, PTlen=0, AADlen=0,
      // Taglen=128] Count=0.
      {"gcmEncryptExtIV256 PTlen=0 AADlen=0",
       "b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4",
       "516c33929df5a3284ff463d7", "", "", "", "bdc1ac884d332457a1d2664f168c76f0"},
      // NIST CAVP gcmEncryptExtIV256.rsp, [Keylen=256, IVlen=96, PTlen=128, AADlen=160,
      // Taglen=128] Count=0.
      {"gcmEncryptExtIV256 PTlen=128 AADlen=160",
       "83688deb4af8007f9b713b47cfa6c73e35ea7a3aa4ecdb414dded03bf7a0fd3a",
       "0b459724904e010a46901cf3", "794a14ccd178c8ebfd1379dc704c5e208f9d8424",
       "33d893a2114ce06fc15d55e454cf90c3", "cc66bee423e3fcd4c0865715e9586696",
       "0fb291bd3dba94a1dfd8b286cfb97ac5"},
      // McGrew and Viega, "The Galois/Counter Mode of Operation", test case 13.
      {"GCM spec test case 13", "0000000000000000000000000000000000000000000000000000000000000000",
       "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
  };
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.source);
    const MasterKeys keys = keys_of("nist:" + base64_encode(hex(v.key)));
    MasterKeys::Sealed sealed{"nist", hex(v.iv), hex(v.ciphertext), hex(v.tag)};
    EXPECT_EQ(keys.open(sealed, hex(v.aad)).value(), hex(v.plaintext));
    // Our own seal of the same plaintext opens too, under a fresh nonce.
    const MasterKeys::Sealed ours = keys.seal(hex(v.plaintext), hex(v.aad)).value();
    EXPECT_EQ(keys.open(ours, hex(v.aad)).value(), hex(v.plaintext));
    sealed.tag[0] ^= 0x01;
    EXPECT_TRUE(is(keys.open(sealed, hex(v.aad)).error(), Errc::kCorruption));
  }
}

TEST_F(MasterKeysTest, LoadCreatesAnOwnerOnlyFileWithOneKey) {
  const MasterKeys created = MasterKeys::load(file_, /*create=*/true).value();
  EXPECT_EQ(fs::status(file_).permissions(), kOwnerOnly);
  EXPECT_EQ(created.key_ids().size(), 1u);
  EXPECT_FALSE(fs::exists(dir_ / "master.key.tmp"));
  const std::string text = read_file(file_);
  EXPECT_NE(text.find(created.primary_id() + ":"), std::string::npos);

  // A reload finds the same key: what the first ring sealed, the second opens.
  const MasterKeys::Sealed sealed = created.seal("secret", "VK").value();
  const MasterKeys reloaded = MasterKeys::load(file_, /*create=*/true).value();
  EXPECT_EQ(reloaded.key_ids(), created.key_ids());
  EXPECT_EQ(reloaded.open(sealed, "VK").value(), "secret");
  EXPECT_EQ(read_file(file_), text);
}

TEST_F(MasterKeysTest, LoadOfAMissingFileWithoutCreateIsIo) {
  const auto loaded = MasterKeys::load(file_, /*create=*/false);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_TRUE(is(loaded.error(), Errc::kIo));
  EXPECT_FALSE(fs::exists(file_));
}

TEST_F(MasterKeysTest, LoadSkipsCommentsAndBlankLinesAndTakesTheLastKeyAsPrimary) {
  write_file(file_, "# master keys\r\n\n  old:" + key_b64('a') + "  \r\n#new:" + key_b64('c') +
                        "\nnew:" + key_b64('b'));
  const MasterKeys keys = MasterKeys::load(file_, /*create=*/false).value();
  EXPECT_EQ(keys.key_ids(), (std::vector<std::string>{"old", "new"}));
  EXPECT_EQ(keys.primary_id(), "new");
  const MasterKeys::Sealed sealed = keys.seal("secret", "VK").value();
  EXPECT_EQ(sealed.key_id, "new");
  EXPECT_EQ(keys_of("new:" + key_b64('b')).open(sealed, "VK").value(), "secret");
}

TEST_F(MasterKeysTest, MalformedFilesAreCorruption) {
  const std::string cases[] = {
      "no-colon-here\n",
      "k1:" + key_b64('a').substr(1) + "\n",                 // not base64
      "k1:" + base64_encode(std::string(31, 'a')) + "\n",    // 31 bytes
      "k1:" + base64_encode(std::string(33, 'a')) + "\n",    // 33 bytes
      "k1:" + key_b64('a') + "\nk1:" + key_b64('b') + "\n",  // duplicate id
      ":" + key_b64('a') + "\n",                             // empty id
      "bad id:" + key_b64('a') + "\n",                       // space in the id
      "k1:" + key_b64('a') + " # trailing comment\n",        // comments are whole lines
      "",                                                    // no key
      "# only a comment\n\n",                                // no key
  };
  for (const std::string& text : cases) {
    SCOPED_TRACE(text);
    write_file(file_, text);
    const auto loaded = MasterKeys::load(file_, /*create=*/true);
    ASSERT_FALSE(loaded.has_value());
    EXPECT_TRUE(is(loaded.error(), Errc::kCorruption));
    EXPECT_EQ(read_file(file_), text);  // refused, never repaired
  }
}

TEST_F(MasterKeysTest, FileOpenToGroupOrOthersIsRefused) {
  const fs::perms modes[] = {
      kOwnerOnly | fs::perms::group_read,
      kOwnerOnly | fs::perms::others_read,
      kOwnerOnly | fs::perms::group_write,
  };
  for (const fs::perms mode : modes) {
    write_file(file_, "k1:" + key_b64('a') + "\n", mode);
    const auto loaded = MasterKeys::load(file_, /*create=*/true);
    ASSERT_FALSE(loaded.has_value());
    EXPECT_TRUE(is(loaded.error(), Errc::kInvalidArgument));
    EXPECT_EQ(fs::status(file_).permissions(), mode);
  }
  fs::permissions(file_, kOwnerOnly);
  EXPECT_TRUE(MasterKeys::load(file_, /*create=*/false).has_value());
}

TEST_F(MasterKeysTest, RotateKeepsOldKeysAndSealsUnderTheNewOne) {
  write_file(file_, "# keep me\nk1:" + key_b64('a'));  // no final newline
  MasterKeys keys = MasterKeys::load(file_, /*create=*/false).value();
  const MasterKeys::Sealed old_sealed = keys.seal("old secret", "VKOLD").value();

  const std::string new_id = keys.rotate(file_).value();
  EXPECT_NE(new_id, "k1");
  EXPECT_EQ(keys.primary_id(), new_id);
  EXPECT_EQ(keys.key_ids(), (std::vector<std::string>{"k1", new_id}));
  const MasterKeys::Sealed new_sealed = keys.seal("new secret", "VKNEW").value();
  EXPECT_EQ(new_sealed.key_id, new_id);
  EXPECT_EQ(keys.open(old_sealed, "VKOLD").value(), "old secret");
  EXPECT_EQ(keys.open(new_sealed, "VKNEW").value(), "new secret");

  // Durable: the file keeps its lines, gains the new key last, and stays owner-only.
  EXPECT_EQ(fs::status(file_).permissions(), kOwnerOnly);
  EXPECT_FALSE(fs::exists(dir_ / "master.key.tmp"));
  const std::string text = read_file(file_);
  EXPECT_EQ(text.rfind("# keep me\nk1:" + key_b64('a') + "\n" + new_id + ":", 0), 0u);
  const MasterKeys reloaded = MasterKeys::load(file_, /*create=*/false).value();
  EXPECT_EQ(reloaded.key_ids(), keys.key_ids());
  EXPECT_EQ(reloaded.open(old_sealed, "VKOLD").value(), "old secret");
  EXPECT_EQ(reloaded.open(new_sealed, "VKNEW").value(), "new secret");

  // Again: each rotation adds a distinct key.
  const std::string third = keys.rotate(file_).value();
  EXPECT_EQ((std::set<std::string>{"k1", new_id, third}).size(), 3u);
  EXPECT_EQ(MasterKeys::load(file_, /*create=*/false).value().primary_id(), third);
}

TEST_F(MasterKeysTest, RotateOfAMissingOrRefusedFileChangesNothing) {
  MasterKeys keys = keys_of("k1:" + key_b64('a'));
  EXPECT_TRUE(is(keys.rotate(file_).error(), Errc::kIo));
  EXPECT_FALSE(fs::exists(file_));

  write_file(file_, "k1:" + key_b64('a') + "\n", kOwnerOnly | fs::perms::group_read);
  EXPECT_TRUE(is(keys.rotate(file_).error(), Errc::kInvalidArgument));
  write_file(file_, "garbage\n");
  EXPECT_TRUE(is(keys.rotate(file_).error(), Errc::kCorruption));
  EXPECT_EQ(read_file(file_), "garbage\n");
  EXPECT_EQ(keys.key_ids(), (std::vector<std::string>{"k1"}));
}

TEST_F(MasterKeysTest, FromStringTakesAnIdOrDefaultsToEnv) {
  const MasterKeys with_id = keys_of("prod-2:" + key_b64('a'));
  EXPECT_EQ(with_id.primary_id(), "prod-2");
  const MasterKeys plain = keys_of("  " + key_b64('a') + "\n");
  EXPECT_EQ(plain.primary_id(), "env");
  // Same key bytes: each opens what the other sealed once the id matches.
  MasterKeys::Sealed sealed = with_id.seal("secret", "VK").value();
  sealed.key_id = "env";
  EXPECT_EQ(plain.open(sealed, "VK").value(), "secret");
}

TEST_F(MasterKeysTest, FromStringRefusesMalformedValues) {
  const std::string cases[] = {
      "",
      "not base64!",
      base64_encode(std::string(16, 'a')),
      "bad id:" + key_b64('a'),
      ":" + key_b64('a'),
  };
  for (const std::string& text : cases) {
    SCOPED_TRACE(text);
    const auto keys = MasterKeys::from_string(text);
    ASSERT_FALSE(keys.has_value());
    EXPECT_TRUE(is(keys.error(), Errc::kInvalidArgument));
  }
}

TEST(SecretsTest, NewSecretKeysLookLikeAwsSecrets) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string secret = new_secret_key();
    ASSERT_EQ(secret.size(), 40u);
    for (const char c : secret) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') << secret;
    }
    seen.insert(secret);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(SecretsTest, NewAccessKeyIdsAreVkAndUppercaseAlphanumerics) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = new_access_key_id();
    ASSERT_EQ(id.size(), 20u);
    EXPECT_EQ(id.substr(0, 2), "VK");
    for (const char c : id.substr(2)) {
      EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) << id;
    }
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace vaultaire
