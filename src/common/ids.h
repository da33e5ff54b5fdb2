#pragma once

// Generated identifiers: blob ids and request ids. Both are random (from a per-thread generator
// seeded from the OS) so that no two processes or restarts collide.

#include <cstdint>
#include <string>

namespace vaultaire {

// 32 lowercase hex characters: 8 of Unix seconds (so ids sort roughly by creation time and a
// sweep can tell their age) followed by 24 random. Never derived from an S3 key.
std::string new_blob_id(int64_t unix_seconds);

// True for strings new_blob_id could have produced; anything else is not ours.
bool is_blob_id(std::string_view s) noexcept;

// Seconds since the epoch encoded in a blob id (is_blob_id must hold).
int64_t blob_id_seconds(std::string_view id) noexcept;

// 32 lowercase hex characters that sort in creation order within this process: 16 of a time in
// nanoseconds made strictly increasing, then 16 random. Used for multipart upload ids.
std::string new_ordered_id(int64_t unix_nanos);

// 16 uppercase hex characters, as S3 request ids look.
std::string new_request_id();

// 64 random bits.
uint64_t random_u64();

}  // namespace vaultaire
