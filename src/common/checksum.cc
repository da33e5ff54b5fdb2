#include "common/checksum.h"

#include <array>
#include <bit>
#include <cstring>

#include <zlib.h>

#include "common/assert.h"
#include "common/internal/crc.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace vaultaire {
namespace internal {
namespace {

constexpr uint32_t kCrc32cPoly = 0x82f63b78;             // reflected 0x1edc6f41
constexpr uint64_t kCrc64NvmePoly = 0x9a6c9329ac4bc9b5;  // reflected 0xad93d23594c93659

template <typename T>
using SliceTables = std::array<std::array<T, 256>, 8>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the register contribution of
// byte b followed by k zero bytes, so eight bytes fold in with eight independent lookups.
template <typename T>
constexpr SliceTables<T> make_slice_tables(T poly) {
  SliceTables<T> t{};
  for (unsigned b = 0; b < 256; ++b) {
    T reg = b;
    for (int bit = 0; bit < 8; ++bit) {
      reg = (reg & 1) != 0 ? (reg >> 1) ^ poly : reg >> 1;
    }
    t[0][b] = reg;
  }
  for (unsigned b = 0; b < 256; ++b) {
    for (size_t k = 1; k < 8; ++k) {
      t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    }
  }
  return t;
}

constexpr SliceTables<uint32_t> kCrc32cTables = make_slice_tables<uint32_t>(kCrc32cPoly);
constexpr SliceTables<uint64_t> kCrc64NvmeTables = make_slice_tables<uint64_t>(kCrc64NvmePoly);

uint64_t load_le64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) {
    v = __builtin_bswap64(v);
  }
  return v;
}

// Slice-by-8 for a reflected CRC of 32 or 64 bits: the register is XORed into the next eight
// message bytes (its low bytes first), and each byte then contributes the table entry for the
// number of bytes still to come after it.
template <typename T>
T slice_by_8(T reg, const unsigned char* p, size_t n, const SliceTables<T>& t) {
  while (n >= 8) {
    const uint64_t w = load_le64(p) ^ reg;
    reg = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^ t[4][(w >> 24) & 0xff] ^
          t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^ t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) {
    reg = (reg >> 8) ^ t[0][(reg ^ *p++) & 0xff];
  }
  return reg;
}

}  // namespace

uint32_t crc32c_portable(uint32_t reg, const unsigned char* data, size_t size) {
  return slice_by_8(reg, data, size, kCrc32cTables);
}

uint64_t crc64nvme_portable(uint64_t reg, const unsigned char* data, size_t size) {
  return slice_by_8(reg, data, size, kCrc64NvmeTables);
}

#if defined(__x86_64__)

bool crc32c_hardware_available() {
  static const bool available = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return available;
}

// Compiled for SSE4.2 alone, so the rest of the binary still runs on CPUs without it.
__attribute__((target("sse4.2"))) uint32_t crc32c_hardware(uint32_t reg, const unsigned char* data,
                                                           size_t size) {
  uint64_t reg64 = reg;
  while (size >= 8) {
    uint64_t w;
    std::memcpy(&w, data, sizeof(w));
    reg64 = _mm_crc32_u64(reg64, w);
    data += 8;
    size -= 8;
  }
  auto reg32 = static_cast<uint32_t>(reg64);
  while (size-- > 0) {
    reg32 = _mm_crc32_u8(reg32, *data++);
  }
  return reg32;
}

#else

bool crc32c_hardware_available() { return false; }

uint32_t crc32c_hardware(uint32_t reg, const unsigned char* data, size_t size) {
  VAULTAIRE_ASSERT(false, "callers check crc32c_hardware_available() first");
}

#endif

}  // namespace internal

namespace {

// CRC combination (as zlib's crc32_combine before 1.2.12): appending len2 bytes to a message
// shifts its CRC register through len2 * 8 zero bits, a linear map on GF(2)^W. The operator for
// one zero bit is built from the polynomial, squared up to one zero byte, then repeatedly
// squared to apply the bits of len2. Valid when init equals xorout, as for every CRC here:
// crc(A || B) = shift(crc(A), |B|) ^ crc(B).
template <typename T>
using Gf2Matrix = std::array<T, sizeof(T) * 8>;

template <typename T>
T gf2_times(const Gf2Matrix<T>& mat, T vec) {
  T sum = 0;
  for (size_t i = 0; vec != 0; ++i, vec >>= 1) {
    if ((vec & 1) != 0) {
      sum ^= mat[i];
    }
  }
  return sum;
}

template <typename T>
void gf2_square(Gf2Matrix<T>& square, const Gf2Matrix<T>& mat) {
  for (size_t n = 0; n < mat.size(); ++n) {
    square[n] = gf2_times(mat, mat[n]);
  }
}

template <typename T>
T crc_combine(T crc1, T crc2, uint64_t len2, T poly) {
  if (len2 == 0) {
    return crc1 ^ crc2;
  }
  Gf2Matrix<T> odd;
  Gf2Matrix<T> even;
  odd[0] = poly;  // one zero bit: the low bit falls out and brings in the polynomial
  T row = 1;
  for (size_t n = 1; n < odd.size(); ++n) {
    odd[n] = row;
    row <<= 1;
  }
  gf2_square(even, odd);  // two zero bits
  gf2_square(odd, even);  // four zero bits
  while (true) {
    gf2_square(even, odd);  // the first time round: one zero byte
    if ((len2 & 1) != 0) {
      crc1 = gf2_times(even, crc1);
    }
    len2 >>= 1;
    if (len2 == 0) {
      break;
    }
    gf2_square(odd, even);
    if ((len2 & 1) != 0) {
      crc1 = gf2_times(odd, crc1);
    }
    len2 >>= 1;
    if (len2 == 0) {
      break;
    }
  }
  return crc1 ^ crc2;
}

std::string to_big_endian(uint64_t value, size_t bytes) {
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) {
    out[bytes - 1 - i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

uint64_t from_big_endian(std::string_view bytes) {
  uint64_t value = 0;
  for (const char c : bytes) {
    value = (value << 8) | static_cast<unsigned char>(c);
  }
  return value;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

constexpr std::array kAlgorithms = {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c,
                                    ChecksumAlgorithm::kCrc64Nvme, ChecksumAlgorithm::kSha1,
                                    ChecksumAlgorithm::kSha256};

}  // namespace

std::optional<ChecksumAlgorithm> parse_checksum_algorithm(std::string_view name) {
  for (const ChecksumAlgorithm a : kAlgorithms) {
    if (equals_ignoring_case(name, checksum_name(a))) {
      return a;
    }
  }
  return std::nullopt;
}

std::string_view checksum_name(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32:
      return "CRC32";
    case ChecksumAlgorithm::kCrc32c:
      return "CRC32C";
    case ChecksumAlgorithm::kCrc64Nvme:
      return "CRC64NVME";
    case ChecksumAlgorithm::kSha1:
      return "SHA1";
    case ChecksumAlgorithm::kSha256:
      return "SHA256";
  }
  VAULTAIRE_ASSERT(false, "every ChecksumAlgorithm is named");
}

std::string_view checksum_header(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32:
      return "x-amz-checksum-crc32";
    case ChecksumAlgorithm::kCrc32c:
      return "x-amz-checksum-crc32c";
    case ChecksumAlgorithm::kCrc64Nvme:
      return "x-amz-checksum-crc64nvme";
    case ChecksumAlgorithm::kSha1:
      return "x-amz-checksum-sha1";
    case ChecksumAlgorithm::kSha256:
      return "x-amz-checksum-sha256";
  }
  VAULTAIRE_ASSERT(false, "every ChecksumAlgorithm has a header");
}

size_t checksum_size(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32:
    case ChecksumAlgorithm::kCrc32c:
      return 4;
    case ChecksumAlgorithm::kCrc64Nvme:
      return 8;
    case ChecksumAlgorithm::kSha1:
      return 20;
    case ChecksumAlgorithm::kSha256:
      return 32;
  }
  VAULTAIRE_ASSERT(false, "every ChecksumAlgorithm has a size");
}

Checksum::Checksum(ChecksumAlgorithm a) : algorithm_(a) {
  if (a == ChecksumAlgorithm::kSha1) {
    digest_.emplace(DigestAlgorithm::kSha1);
  } else if (a == ChecksumAlgorithm::kSha256) {
    digest_.emplace(DigestAlgorithm::kSha256);
  }
}

void Checksum::update(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  switch (algorithm_) {
    case ChecksumAlgorithm::kCrc32:
      crc_ = crc32_z(crc_, p, size);
      return;
    case ChecksumAlgorithm::kCrc32c: {
      const auto reg = static_cast<uint32_t>(~crc_);
      crc_ = static_cast<uint32_t>(~(internal::crc32c_hardware_available()
                                         ? internal::crc32c_hardware(reg, p, size)
                                         : internal::crc32c_portable(reg, p, size)));
      return;
    }
    case ChecksumAlgorithm::kCrc64Nvme:
      crc_ = ~internal::crc64nvme_portable(~crc_, p, size);
      return;
    case ChecksumAlgorithm::kSha1:
    case ChecksumAlgorithm::kSha256:
      digest_->update(p, size);
      return;
  }
}

std::string Checksum::finish() {
  if (digest_) {
    std::string value = digest_->finish();
    digest_->reset();
    return value;
  }
  const uint64_t value = crc_;
  crc_ = 0;
  return to_big_endian(value, checksum_size(algorithm_));
}

std::string composite_checksum(ChecksumAlgorithm a,
                               const std::vector<std::string>& raw_part_checksums) {
  Checksum c(a);
  for (const std::string& part : raw_part_checksums) {
    c.update(part);
  }
  return base64_encode(c.finish()) + "-" + std::to_string(raw_part_checksums.size());
}

std::optional<std::string> combine_crc(
    ChecksumAlgorithm a, const std::vector<std::pair<std::string, uint64_t>>& raw_crc_and_size) {
  if (a != ChecksumAlgorithm::kCrc32 && a != ChecksumAlgorithm::kCrc32c &&
      a != ChecksumAlgorithm::kCrc64Nvme) {
    return std::nullopt;
  }
  const size_t width = checksum_size(a);
  uint64_t total = 0;  // the CRC of no bytes
  for (const auto& [raw, size] : raw_crc_and_size) {
    if (raw.size() != width) {
      return std::nullopt;
    }
    const uint64_t part = from_big_endian(raw);
    switch (a) {
      case ChecksumAlgorithm::kCrc32:
        static_assert(sizeof(z_off_t) == sizeof(uint64_t), "zlib offsets hold any part size");
        // zlib ignores crc2 when len2 is 0; the identity shift keeps all three CRCs alike.
        total = size == 0 ? total ^ part
                          : crc32_combine(total, part, static_cast<z_off_t>(size)) & 0xffffffff;
        break;
      case ChecksumAlgorithm::kCrc32c:
        total = crc_combine<uint32_t>(static_cast<uint32_t>(total), static_cast<uint32_t>(part),
                                      size, internal::kCrc32cPoly);
        break;
      default:
        total = crc_combine<uint64_t>(total, part, size, internal::kCrc64NvmePoly);
        break;
    }
  }
  return to_big_endian(total, width);
}

}  // namespace vaultaire
