#pragma once

// The CRC kernels behind common/checksum.h, exposed so that tests can check every code path on
// any machine. Private to common/.
//
// Each function updates a CRC register: the reflected CRC state before the final inversion. A
// message's CRC is ~update(~0, bytes) for all the CRCs here (init and xorout are all ones).

#include <cstddef>
#include <cstdint>

namespace vaultaire::internal {

// CRC32C (Castagnoli, reflected polynomial 0x82f63b78) by slice-by-8 tables.
uint32_t crc32c_portable(uint32_t reg, const unsigned char* data, size_t size);
// True when this CPU has SSE4.2 (always false off x86-64).
bool crc32c_hardware_available();
// CRC32C with the SSE4.2 crc32 instruction. Only call it when crc32c_hardware_available().
uint32_t crc32c_hardware(uint32_t reg, const unsigned char* data, size_t size);

// CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5) by slice-by-8 tables.
uint64_t crc64nvme_portable(uint64_t reg, const unsigned char* data, size_t size);

}  // namespace vaultaire::internal
