#include "s3/chunked.h"

#include <algorithm>

#include "common/sigv4.h"

namespace vaultaire::s3 {
namespace {

// A size line with its signature is under 100 bytes; a trailer line holds one checksum.
constexpr size_t kMaxLine = 4096;
constexpr size_t kMaxTrailerLines = 16;
// S3 refuses a data chunk under 8 KiB unless it is the last one (InvalidChunkSizeError).
constexpr uint64_t kMinChunkSize = 8192;
constexpr std::string_view kSignatureExtension = ";chunk-signature=";
constexpr std::string_view kTrailerSignature = "x-amz-trailer-signature";
constexpr size_t kSignatureHexSize = 64;

S3Error malformed(std::string_view what) {
  return S3Error(S3Code::kIncompleteBody, "Malformed aws-chunked body: " + std::string(what));
}

S3Error malformed_trailer(std::string_view what) {
  return S3Error(S3Code::kMalformedTrailerError,
                 "Malformed trailing header in the aws-chunked body: " + std::string(what));
}

int hex_value(char c) {
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
}

// 1 to 16 hex digits, any case.
std::optional<uint64_t> parse_size(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) {
    return std::nullopt;
  }
  uint64_t size = 0;
  for (const char c : hex) {
    const int v = hex_value(c);
    if (v < 0) {
      return std::nullopt;
    }
    size = (size << 4) | static_cast<uint64_t>(v);
  }
  return size;
}

// A hex signature, lowercased; nullopt unless exactly 64 hex digits.
std::optional<std::string> parse_signature(std::string_view hex) {
  if (hex.size() != kSignatureHexSize) {
    return std::nullopt;
  }
  std::string out(hex);
  for (char& c : out) {
    if (hex_value(c) < 0) {
      return std::nullopt;
    }
    if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// RFC 9110 token characters, the only ones a field name may hold.
bool is_token_char(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

}  // namespace

ChunkedDecoder::ChunkedDecoder(std::optional<ChunkSigning> signing, bool trailer)
    : signing_(std::move(signing)), trailer_(trailer) {
  if (signing_) {
    previous_signature_ = signing_->seed_signature;
  }
}

S3Result<void> ChunkedDecoder::feed(std::string_view encoded, std::string* out) {
  if (error_) {
    return *error_;
  }
  S3Result<void> result = consume(encoded, out);
  if (!result) {
    error_ = result.error();
  }
  return result;
}

S3Result<void> ChunkedDecoder::finish() const {
  if (error_) {
    return *error_;
  }
  if (state_ != State::kDone) {
    return S3Error(S3Code::kIncompleteBody, "The request body terminated unexpectedly");
  }
  return {};
}

S3Result<void> ChunkedDecoder::consume(std::string_view in, std::string* out) {
  size_t i = 0;
  while (i < in.size()) {
    switch (state_) {
      case State::kSizeLine:
      case State::kTrailerLine: {
        const size_t newline = in.find('\n', i);
        const size_t end = newline == std::string_view::npos ? in.size() : newline;
        if (line_.size() + (end - i) > kMaxLine) {
          return state_ == State::kSizeLine ? malformed("chunk size line too long")
                                            : malformed_trailer("line too long");
        }
        line_.append(in.substr(i, end - i));
        i = end;
        if (newline == std::string_view::npos) {
          break;  // the rest of the line comes with the next feed()
        }
        ++i;
        S3Result<void> ended = state_ == State::kSizeLine ? end_size_line() : end_trailer_line();
        line_.clear();
        if (!ended) {
          return ended;
        }
        break;
      }
      case State::kData: {
        const auto n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
        const std::string_view piece = in.substr(i, n);
        out->append(piece);
        if (signing_) {
          chunk_sha256_.update(piece);
        }
        decoded_bytes_ += n;
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) {
          state_ = State::kDataCr;
        }
        break;
      }
      case State::kDataCr:
        if (in[i] != '\r') {
          return malformed("chunk data longer than its size");
        }
        ++i;
        state_ = State::kDataLf;
        break;
      case State::kDataLf: {
        if (in[i] != '\n') {
          return malformed("chunk data not followed by CRLF");
        }
        ++i;
        if (signing_) {
          if (S3Result<void> verified = verify_chunk(); !verified) {
            return verified;
          }
        }
        state_ = State::kSizeLine;
        break;
      }
      case State::kDone:
        return malformed("bytes after the end of the body");
    }
  }
  return {};
}

// "<hex size>[;chunk-signature=<64 hex>]\r" (the '\n' consumed already).
S3Result<void> ChunkedDecoder::end_size_line() {
  std::string_view line = line_;
  if (line.empty() || line.back() != '\r') {
    return malformed("chunk size line not ended by CRLF");
  }
  line.remove_suffix(1);
  const size_t semicolon = line.find(';');
  const std::optional<uint64_t> size = parse_size(line.substr(0, semicolon));
  if (!size) {
    return malformed("bad chunk size");
  }
  if (signing_) {
    const std::string_view extension =
        semicolon == std::string_view::npos ? std::string_view() : line.substr(semicolon);
    std::optional<std::string> signature;
    if (extension.starts_with(kSignatureExtension)) {
      signature = parse_signature(extension.substr(kSignatureExtension.size()));
    }
    if (!signature) {
      return malformed("chunk without a well-formed chunk-signature");
    }
    chunk_signature_ = std::move(*signature);
  }
  // Unsigned chunks: HTTP chunk extensions, if any, mean nothing to S3 and are ignored.
  ++chunks_;
  if (*size > 0 && chunks_ > 1 && last_size_ < kMinChunkSize) {
    return S3Error(S3Code::kInvalidChunkSizeError);
  }
  last_size_ = *size;
  if (*size > 0) {
    remaining_ = *size;
    state_ = State::kData;
    return {};
  }
  // The final chunk has no data and no CRLF of its own: the trailer part follows directly.
  if (signing_) {
    if (S3Result<void> verified = verify_chunk(); !verified) {
      return verified;
    }
  }
  state_ = State::kTrailerLine;
  return {};
}

// A trailing header "name:value", or the empty line that ends the body (the '\n' consumed).
S3Result<void> ChunkedDecoder::end_trailer_line() {
  std::string_view line = line_;
  const bool crlf = !line.empty() && line.back() == '\r';
  if (crlf) {
    line.remove_suffix(1);
  }
  if (!trailer_) {
    if (!crlf || !line.empty()) {
      return malformed("final chunk not followed by CRLF");
    }
    state_ = State::kDone;
    return {};
  }
  // Past the final chunk lines may end with a bare LF: some clients end the checksum line with
  // "\n" and put a lone CRLF before x-amz-trailer-signature.
  if (++trailer_lines_ > kMaxTrailerLines) {
    return malformed_trailer("too many lines");
  }
  if (line.empty()) {
    if (!signing_ || trailer_signature_) {
      state_ = State::kDone;
    }
    // Otherwise the signature is still to come (and finish() fails if it never does).
    return {};
  }
  if (trailer_signature_) {
    return malformed_trailer("a trailing header after x-amz-trailer-signature");
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return malformed_trailer("not name:value");
  }
  std::string name(line.substr(0, colon));
  if (!std::all_of(name.begin(), name.end(), is_token_char)) {
    return malformed_trailer("bad name");
  }
  std::transform(name.begin(), name.end(), name.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  const std::string_view value = trim(line.substr(colon + 1));
  if (has_control_char(value)) {
    return malformed_trailer("control character in a value");
  }
  if (name == kTrailerSignature) {
    if (!signing_) {
      return malformed_trailer("x-amz-trailer-signature in an unsigned body");
    }
    trailer_signature_ = parse_signature(value);
    if (!trailer_signature_) {
      return malformed("x-amz-trailer-signature is not 64 hex digits");
    }
    return verify_trailer();
  }
  for (const auto& existing : trailers_) {
    if (existing.first == name) {
      return malformed_trailer("repeated " + name);
    }
  }
  trailers_.emplace_back(std::move(name), std::string(value));
  return {};
}

S3Result<void> ChunkedDecoder::verify_chunk() {
  const std::string chunk_hash = to_hex(chunk_sha256_.finish());
  chunk_sha256_.reset();
  const std::string expected = sigv4::signature(
      signing_->signing_key, sigv4::chunk_string_to_sign(signing_->amz_date, signing_->scope,
                                                         previous_signature_, chunk_hash));
  if (!constant_time_equal(expected, chunk_signature_)) {
    return S3Error(S3Code::kSignatureDoesNotMatch);
  }
  previous_signature_ = expected;
  return {};
}

// The trailer is signed over "name:value\n" per trailing header, sorted by name.
S3Result<void> ChunkedDecoder::verify_trailer() {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(trailers_.size());
  for (const auto& t : trailers_) {
    sorted.push_back(&t);
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
  std::string canonical;
  for (const auto* t : sorted) {
    canonical.append(t->first).push_back(':');
    canonical.append(t->second).push_back('\n');
  }
  const std::string expected = sigv4::signature(
      signing_->signing_key,
      sigv4::trailer_string_to_sign(signing_->amz_date, signing_->scope, previous_signature_,
                                    to_hex(sha256(canonical))));
  if (!constant_time_equal(expected, *trailer_signature_)) {
    return S3Error(S3Code::kSignatureDoesNotMatch);
  }
  return {};
}

}  // namespace vaultaire::s3
