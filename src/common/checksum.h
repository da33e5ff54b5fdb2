#pragma once

// S3's flexible checksums (x-amz-checksum-*): CRC32, CRC32C, CRC64NVME, SHA-1 and SHA-256,
// computed incrementally, and the two ways S3 derives a multipart object's checksum from its
// parts (COMPOSITE and FULL_OBJECT).
//
// Values are raw big-endian bytes, as S3 base64-encodes them in headers and XML
// (base64_encode() in common/crypto.h). Pure functions; no state is shared between threads.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/crypto.h"

namespace vaultaire {

enum class ChecksumAlgorithm { kCrc32, kCrc32c, kCrc64Nvme, kSha1, kSha256 };

// "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", in any case; nullopt for anything else.
std::optional<ChecksumAlgorithm> parse_checksum_algorithm(std::string_view name);
// "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" (x-amz-checksum-algorithm, XML).
std::string_view checksum_name(ChecksumAlgorithm a);
// "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
// "x-amz-checksum-sha1", "x-amz-checksum-sha256".
std::string_view checksum_header(ChecksumAlgorithm a);
// Bytes in a raw value: 4 (CRC32, CRC32C), 8 (CRC64NVME), 20 (SHA-1), 32 (SHA-256). A decoded
// header of another length is malformed.
size_t checksum_size(ChecksumAlgorithm a);

// An incremental checksum. CRC32 is zlib's (IEEE 802.3); CRC32C (Castagnoli) uses the SSE4.2
// crc32 instruction when the CPU has it and slice-by-8 tables otherwise; CRC64NVME is
// CRC-64/NVME (poly 0xad93d23594c93659, reflected, init and xorout all ones) by slice-by-8.
class Checksum {
 public:
  explicit Checksum(ChecksumAlgorithm a);

  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // The raw value of everything updated so far (checksum_size() bytes, big-endian); the
  // checksum then starts over, as if newly constructed.
  std::string finish();
  ChecksumAlgorithm algorithm() const { return algorithm_; }

 private:
  ChecksumAlgorithm algorithm_;
  uint64_t crc_ = 0;              // CRCs: the finished CRC of the bytes so far (0 for none)
  std::optional<Digest> digest_;  // SHA-1, SHA-256
};

// A multipart upload's COMPOSITE checksum as S3 shows it: base64 of the checksum of the
// concatenated raw part checksums (in part order), then "-" and the number of parts, e.g.
// "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-3". The part values are hashed as given; the
// caller checks that each has checksum_size() bytes.
std::string composite_checksum(ChecksumAlgorithm a,
                               const std::vector<std::string>& raw_part_checksums);

// A multipart upload's FULL_OBJECT checksum for a CRC algorithm: the raw CRC of the whole object
// (no part count), computed from each part's raw CRC and size in part order without reading the
// bytes again (CRC combination in GF(2)). No parts give the CRC of nothing. nullopt for SHA-1 and
// SHA-256, which cannot be combined, and when a part's value does not have checksum_size() bytes.
std::optional<std::string> combine_crc(
    ChecksumAlgorithm a, const std::vector<std::pair<std::string, uint64_t>>& raw_crc_and_size);

}  // namespace vaultaire
