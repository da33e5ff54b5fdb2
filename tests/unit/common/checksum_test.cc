#include "common/checksum.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/crypto.h"
#include "common/internal/crc.h"

namespace vaultaire {
namespace {

constexpr std::array kAll = {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c,
                             ChecksumAlgorithm::kCrc64Nvme, ChecksumAlgorithm::kSha1,
                             ChecksumAlgorithm::kSha256};
constexpr std::array kCrcs = {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c,
                              ChecksumAlgorithm::kCrc64Nvme};

std::string checksum_of(ChecksumAlgorithm a, std::string_view data) {
  Checksum c(a);
  c.update(data);
  return c.finish();
}

std::string hex_of(ChecksumAlgorithm a, std::string_view data) {
  return to_hex(checksum_of(a, data));
}

std::string random_bytes(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out(n, '\0');
  for (char& c : out) {
    c = static_cast<char>(byte(rng));
  }
  return out;
}

TEST(ChecksumTest, CrcsMatchTheCatalogueCheckValues) {
  // The "check" of each CRC in the CRC catalogue: the CRC of the ASCII string "123456789".
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kCrc32, "123456789"), "cbf43926");
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kCrc32c, "123456789"), "e3069283");
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kCrc64Nvme, "123456789"), "ae8b14860a799888");
}

TEST(ChecksumTest, ShaDigestsMatchTheFipsExamples) {
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kSha1, "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kSha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ChecksumTest, Crc64NvmeMatchesTheNvmeSpecificationExamples) {
  // NVM Command Set Specification 1.0c: 4 KiB of zeros, 4 KiB of ones.
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kCrc64Nvme, std::string(4096, '\0')), "6482d367eb22b64e");
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kCrc64Nvme, std::string(4096, '\xff')), "c0ddba7302eca3ac");
}

TEST(ChecksumTest, Crc32cMatchesTheAwsTrailerExample) {
  // The S3 "trailing headers" SigV4 example uploads 66560 bytes of 'a' with this trailer.
  EXPECT_EQ(base64_encode(checksum_of(ChecksumAlgorithm::kCrc32c, std::string(66560, 'a'))),
            "sOO8/Q==");
}

TEST(ChecksumTest, EmptyInputHasTheDocumentedValues) {
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kCrc32, ""), "00000000");
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kCrc32c, ""), "00000000");
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kCrc64Nvme, ""), "0000000000000000");
  EXPECT_EQ(hex_of(ChecksumAlgorithm::kSha256, ""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ChecksumTest, FinishReturnsRawBigEndianBytesOfTheDocumentedSize) {
  for (const ChecksumAlgorithm a : kAll) {
    EXPECT_EQ(checksum_of(a, "hello").size(), checksum_size(a)) << checksum_name(a);
  }
  // CRC32("hello") = 0x3610a686, most significant byte first.
  EXPECT_EQ(checksum_of(ChecksumAlgorithm::kCrc32, "hello"), std::string("\x36\x10\xa6\x86", 4));
}

TEST(ChecksumTest, IncrementalEqualsOneShotOverRandomSplits) {
  std::mt19937 rng(42);
  const std::string data = random_bytes(rng, 100'003);
  for (const ChecksumAlgorithm a : kAll) {
    const std::string expected = checksum_of(a, data);
    for (int round = 0; round < 20; ++round) {
      Checksum c(a);
      size_t at = 0;
      while (at < data.size()) {
        // Mostly short pieces, to cross the eight-byte strides at every alignment.
        const size_t limit = round % 2 == 0 ? 17 : 9000;
        const size_t n =
            std::min(data.size() - at, std::uniform_int_distribution<size_t>(0, limit)(rng));
        c.update(data.data() + at, n);
        at += n;
      }
      ASSERT_EQ(c.finish(), expected) << checksum_name(a) << " round " << round;
    }
  }
}

TEST(ChecksumTest, FinishStartsOver) {
  for (const ChecksumAlgorithm a : kAll) {
    Checksum c(a);
    c.update("first");
    c.finish();
    c.update("hello");
    EXPECT_EQ(c.finish(), checksum_of(a, "hello")) << checksum_name(a);
    EXPECT_EQ(c.finish(), checksum_of(a, "")) << checksum_name(a);
  }
}

TEST(ChecksumTest, Crc32cPortableAndHardwarePathsAgree) {
  if (!internal::crc32c_hardware_available()) {
    GTEST_SKIP() << "no SSE4.2 on this CPU";
  }
  std::mt19937 rng(7);
  const std::string data = random_bytes(rng, 4096 + 16);
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n <= 300; ++n) {
      ASSERT_EQ(internal::crc32c_hardware(0xffffffff, bytes + offset, n),
                internal::crc32c_portable(0xffffffff, bytes + offset, n))
          << "offset " << offset << " size " << n;
    }
  }
  EXPECT_EQ(internal::crc32c_hardware(0x12345678, bytes, 4096),
            internal::crc32c_portable(0x12345678, bytes, 4096));
  // "123456789" by the portable path alone, whatever the CPU.
  const auto* check = reinterpret_cast<const unsigned char*>("123456789");
  EXPECT_EQ(~internal::crc32c_portable(0xffffffff, check, 9), 0xe3069283u);
}

TEST(ChecksumTest, CombineCrcEqualsTheCrcOfTheConcatenation) {
  std::mt19937 rng(1234);
  for (const ChecksumAlgorithm a : kCrcs) {
    for (int round = 0; round < 30; ++round) {
      const int parts = std::uniform_int_distribution<int>(1, 6)(rng);
      std::string whole;
      std::vector<std::pair<std::string, uint64_t>> raw_parts;
      for (int p = 0; p < parts; ++p) {
        // Every third round has an empty part somewhere; sizes cross byte and stride bounds.
        const bool empty = round % 3 == 0 && p == round % parts;
        const size_t n = empty ? 0 : std::uniform_int_distribution<size_t>(1, 70'000)(rng);
        const std::string bytes = random_bytes(rng, n);
        raw_parts.emplace_back(checksum_of(a, bytes), n);
        whole += bytes;
      }
      const std::optional<std::string> combined = combine_crc(a, raw_parts);
      ASSERT_TRUE(combined.has_value());
      ASSERT_EQ(to_hex(*combined), to_hex(checksum_of(a, whole)))
          << checksum_name(a) << " round " << round;
    }
  }
}

TEST(ChecksumTest, CombineCrcHandlesEmptyPartsAndNoParts) {
  for (const ChecksumAlgorithm a : kCrcs) {
    EXPECT_EQ(combine_crc(a, {}), checksum_of(a, "")) << checksum_name(a);
    EXPECT_EQ(combine_crc(a, {{checksum_of(a, ""), 0}, {checksum_of(a, "abc"), 3}}),
              checksum_of(a, "abc"))
        << checksum_name(a);
    EXPECT_EQ(combine_crc(a, {{checksum_of(a, "abc"), 3}, {checksum_of(a, ""), 0}}),
              checksum_of(a, "abc"))
        << checksum_name(a);
    // A single part is its own full-object checksum.
    EXPECT_EQ(combine_crc(a, {{checksum_of(a, "123456789"), 9}}), checksum_of(a, "123456789"))
        << checksum_name(a);
  }
}

TEST(ChecksumTest, CombineCrcRefusesShaAndMalformedParts) {
  EXPECT_FALSE(combine_crc(ChecksumAlgorithm::kSha1, {}).has_value());
  EXPECT_FALSE(combine_crc(ChecksumAlgorithm::kSha256, {{sha256("x"), 1}}).has_value());
  // A CRC32 value offered as a CRC64NVME part, and a value cut short.
  EXPECT_FALSE(
      combine_crc(ChecksumAlgorithm::kCrc64Nvme, {{checksum_of(ChecksumAlgorithm::kCrc32, "x"), 1}})
          .has_value());
  EXPECT_FALSE(combine_crc(ChecksumAlgorithm::kCrc32c, {{"\x01\x02\x03", 1}}).has_value());
}

TEST(ChecksumTest, CompositeChecksumMatchesAValueReportedByS3) {
  // A three-part SHA-256 upload (5 MiB, 5 MiB, 1 MiB) as S3 reported it: the UploadPart
  // checksums and the CompleteMultipartUpload checksum (floci-io/floci#3083, checked against S3).
  const std::vector<std::string> parts = {
      base64_decode("lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w=").value(),
      base64_decode("gHjhbUT4oo2tSCtSZJdlKi+jeNXJT+VImqdPXsXvkOc=").value(),
      base64_decode("4l9PQ3zOPZ0oGFvknFX+J4zZwE4WMzO+l3r8XrbWOeM=").value(),
  };
  EXPECT_EQ(composite_checksum(ChecksumAlgorithm::kSha256, parts),
            "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-3");
}

TEST(ChecksumTest, CompositeChecksumIsTheChecksumOfTheRawPartChecksumsAndTheirCount) {
  for (const ChecksumAlgorithm a : kAll) {
    const std::vector<std::string> parts = {checksum_of(a, "part one"), checksum_of(a, "two"),
                                            checksum_of(a, "3")};
    const std::string expected = base64_encode(checksum_of(a, parts[0] + parts[1] + parts[2]));
    EXPECT_EQ(composite_checksum(a, parts), expected + "-3") << checksum_name(a);
  }
  EXPECT_EQ(
      composite_checksum(ChecksumAlgorithm::kCrc32c, {checksum_of(ChecksumAlgorithm::kCrc32c, "x")})
          .substr(8),
      "-1");
}

TEST(ChecksumTest, NamesAndHeadersRoundTrip) {
  for (const ChecksumAlgorithm a : kAll) {
    EXPECT_EQ(parse_checksum_algorithm(checksum_name(a)), a);
    std::string lower(checksum_name(a));
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    EXPECT_EQ(parse_checksum_algorithm(lower), a);
    EXPECT_EQ(checksum_header(a), "x-amz-checksum-" + lower);
  }
  EXPECT_EQ(parse_checksum_algorithm("Crc64Nvme"), ChecksumAlgorithm::kCrc64Nvme);
  EXPECT_EQ(checksum_name(ChecksumAlgorithm::kCrc64Nvme), "CRC64NVME");
  EXPECT_EQ(checksum_header(ChecksumAlgorithm::kCrc64Nvme), "x-amz-checksum-crc64nvme");
}

TEST(ChecksumTest, ParseRejectsUnknownNames) {
  for (const std::string_view name :
       {"", "MD5", "CRC", "CRC-32", "CRC32 ", " SHA256", "SHA-256", "CRC64", "CRC32CC"}) {
    EXPECT_FALSE(parse_checksum_algorithm(name).has_value()) << '"' << name << '"';
  }
}

}  // namespace
}  // namespace vaultaire
