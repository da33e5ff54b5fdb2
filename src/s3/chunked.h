#pragma once

// aws-chunked request bodies (Content-Encoding: aws-chunked), as S3 clients send them when
// x-amz-content-sha256 is one of the STREAMING-* values below. The body is a series of chunks,
// each "<hex size>[;chunk-signature=<64 hex>]\r\n<size bytes>\r\n", ending with a chunk of size
// 0 and then, in the *-TRAILER modes, trailing headers:
//
//   10000;chunk-signature=ad80c7...\r\n <65536 bytes> \r\n        signed chunks
//   400;chunk-signature=0055627c...\r\n <1024 bytes> \r\n
//   0;chunk-signature=b6c6ea8a...\r\n                              the final chunk
//   x-amz-checksum-crc32c:sOO8/Q==\r\n                              trailer (-TRAILER modes)
//   x-amz-trailer-signature:d81f82fc...\r\n                         (signed -TRAILER mode)
//   \r\n                                                             end of the body
//
// Unsigned chunks carry no extension ("10000\r\n"). Chunk signatures chain from the request's
// own signature (sigv4::chunk_string_to_sign); the trailer signature covers the trailing headers
// and chains from the final chunk's (sigv4::trailer_string_to_sign). Every chunk but the last
// data chunk must hold at least 8 KiB.
//
// The caller checks the rest against the request's headers, as S3 does: decoded_bytes() against
// x-amz-decoded-content-length (after each feed(), to stop an overlong body early; a mismatch is
// IncompleteBody), and trailers() against x-amz-trailer (a missing or unexpected checksum
// trailer is MalformedTrailerError), then the checksum value itself (BadDigest).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/crypto.h"
#include "s3/auth.h"

namespace vaultaire::s3 {

// The x-amz-content-sha256 values of aws-chunked bodies.
inline constexpr std::string_view kStreamingSignedPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kStreamingSignedPayloadTrailer =
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view kStreamingUnsignedPayloadTrailer =
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

// What verifying chunk signatures needs from the request's own (already verified) signature.
struct ChunkSigning {
  std::string signing_key;     // raw bytes, from sigv4::signing_key(...)
  std::string scope;           // "20130524/us-east-1/s3/aws4_request"
  std::string amz_date;        // "20130524T000000Z"
  std::string seed_signature;  // the request's own signature (hex)
};

// Decodes one aws-chunked body incrementally: bytes in as they arrive, payload out. Holds at most
// one header or trailer line (4 KiB) besides a few fixed-size fields; payload bytes are only
// appended to the caller's buffer. Not thread-safe; one per request.
//
// Payload bytes are handed out as they stream, before the signature of their chunk (or the
// trailer) has been checked: nothing decoded may be kept unless finish() succeeds. After an
// error the decoder is spent and repeats that error.
//
// Errors, as S3 answers them: SignatureDoesNotMatch for a wrong chunk or trailer signature;
// IncompleteBody for malformed framing (a bad size line, a missing CRLF, data longer than its
// chunk, bytes after the end, a missing trailer signature) and for a body that ends early;
// InvalidChunkSizeError for a chunk under 8 KiB followed by another data chunk; and
// MalformedTrailerError for a trailing header that is not "name:value".
class ChunkedDecoder {
 public:
  // `signing` present: every chunk-signature is verified (STREAMING-AWS4-HMAC-SHA256-PAYLOAD
  // [-TRAILER]); absent: chunks carry no signature (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
  // `trailer`: trailing headers follow the final chunk (the *-TRAILER modes); with `signing`,
  // their x-amz-trailer-signature is required and verified.
  ChunkedDecoder(std::optional<ChunkSigning> signing, bool trailer);

  // Consumes encoded bytes, split anywhere (inside a size line or a CRLF too), and appends the
  // payload bytes among them to *out.
  [[nodiscard]] S3Result<void> feed(std::string_view encoded, std::string* out);
  // Call after the last encoded byte: succeeds only if the final chunk and the trailer were
  // complete and every signature matched.
  [[nodiscard]] S3Result<void> finish() const;

  bool done() const { return state_ == State::kDone; }  // the end of the body has been seen
  uint64_t decoded_bytes() const { return decoded_bytes_; }
  // Trailing headers in arrival order, names lowercase, values trimmed, without
  // x-amz-trailer-signature: {"x-amz-checksum-crc32", "sOO8/Q=="}.
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }

 private:
  enum class State { kSizeLine, kData, kDataCr, kDataLf, kTrailerLine, kDone };

  S3Result<void> consume(std::string_view encoded, std::string* out);
  S3Result<void> end_size_line();
  S3Result<void> end_trailer_line();
  S3Result<void> verify_chunk();
  S3Result<void> verify_trailer();

  std::optional<ChunkSigning> signing_;
  bool trailer_;
  State state_ = State::kSizeLine;
  std::string line_;                // the size or trailer line read so far, up to its '\n'
  uint64_t remaining_ = 0;          // bytes of the current chunk still to come
  uint64_t chunks_ = 0;             // size lines seen
  uint64_t last_size_ = 0;          // size of the previous chunk
  uint64_t decoded_bytes_ = 0;      // payload bytes handed out
  std::string chunk_signature_;     // as sent for the current chunk, lowercase
  std::string previous_signature_;  // the chain: seed, then each verified chunk's
  Digest chunk_sha256_{DigestAlgorithm::kSha256};
  std::optional<std::string> trailer_signature_;  // as sent, lowercase
  size_t trailer_lines_ = 0;
  std::vector<std::pair<std::string, std::string>> trailers_;
  std::optional<S3Error> error_;  // the first error, repeated by every later call
};

}  // namespace vaultaire::s3
