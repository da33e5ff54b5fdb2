// aws-chunked decoding against the two worked examples of the S3 documentation ("Signature
// Calculations for the Authorization Header: Transferring Payload in Multiple Chunks" and
// "...: Including Trailing Headers"): a PUT of 66560 bytes of 'a' in chunks of 65536 and 1024
// bytes, 20130524T000000Z, us-east-1, with the documentation's example key.

#include "s3/chunked.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "common/checksum.h"
#include "common/crypto.h"
#include "s3/errors.h"
#include "common/sigv4.h"

namespace vaultaire::s3 {
namespace {

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kAmzDate = "20130524T000000Z";
constexpr std::string_view kScope = "20130524/us-east-1/s3/aws4_request";

// STREAMING-AWS4-HMAC-SHA256-PAYLOAD example.
constexpr std::string_view kSeed =
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
constexpr std::string_view kChunk1 =
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
constexpr std::string_view kChunk2 =
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
constexpr std::string_view kChunk3 =
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER example (x-amz-trailer: x-amz-checksum-crc32c).
constexpr std::string_view kTrailerSeed =
    "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
constexpr std::string_view kTrailerChunk1 =
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2";
constexpr std::string_view kTrailerChunk2 =
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7";
constexpr std::string_view kTrailerChunk3 =
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992";
constexpr std::string_view kTrailerSignature =
    "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";

ChunkSigning signing(std::string_view seed) {
  return ChunkSigning{.signing_key = sigv4::signing_key(kSecret, "20130524", "us-east-1", "s3"),
                      .scope = std::string(kScope),
                      .amz_date = std::string(kAmzDate),
                      .seed_signature = std::string(seed)};
}

std::string signed_chunk(size_t size, std::string_view signature, std::string_view data) {
  std::ostringstream header;
  header << std::hex << size << ";chunk-signature=" << signature << "\r\n";
  return header.str() + std::string(data) + (size > 0 ? "\r\n" : "");
}

// The documented body: 65536 and 1024 bytes of 'a', then the final chunk, then `ending` (the
// CRLF that ends a body without trailer, or the trailer).
std::string doc_body(std::string_view sig1, std::string_view sig2, std::string_view sig3,
                     std::string_view ending) {
  return signed_chunk(65536, sig1, std::string(65536, 'a')) +
         signed_chunk(1024, sig2, std::string(1024, 'a')) + signed_chunk(0, sig3, "") +
         std::string(ending);
}

std::string signed_example() { return doc_body(kChunk1, kChunk2, kChunk3, "\r\n"); }

std::string trailer_example(std::string_view trailer = "x-amz-checksum-crc32c:sOO8/Q==\r\n") {
  return doc_body(kTrailerChunk1, kTrailerChunk2, kTrailerChunk3,
                  std::string(trailer) +
                      "x-amz-trailer-signature:" + std::string(kTrailerSignature) + "\r\n\r\n");
}

// Signs `chunks` (then the final empty chunk) the way a client does, from `s.seed_signature`.
// Returns the body without its ending; the final chunk's signature goes to *last.
std::string sign_chunks(const ChunkSigning& s, const std::vector<std::string>& chunks,
                        std::string* last) {
  std::string previous = s.seed_signature;
  std::string body;
  std::vector<std::string> all = chunks;
  all.emplace_back();
  for (const std::string& data : all) {
    previous = sigv4::signature(
        s.signing_key,
        sigv4::chunk_string_to_sign(s.amz_date, s.scope, previous, to_hex(sha256(data))));
    body += signed_chunk(data.size(), previous, data);
  }
  *last = previous;
  return body;
}

std::string unsigned_body(const std::vector<std::string>& chunks, std::string_view ending) {
  std::string body;
  for (const std::string& data : chunks) {
    std::ostringstream header;
    header << std::hex << data.size() << "\r\n";
    body += header.str() + data + "\r\n";
  }
  return body + "0\r\n" + std::string(ending);
}

// Feeds `body` whole (max_piece 0) or in random pieces of 1 to max_piece bytes, then finishes.
// Returns the first error; the payload goes to *out.
std::optional<S3Error> decode(ChunkedDecoder& decoder, std::string_view body, std::string* out,
                              size_t max_piece = 0, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  size_t at = 0;
  while (at < body.size()) {
    const size_t n =
        max_piece == 0 ? body.size() : std::uniform_int_distribution<size_t>(1, max_piece)(rng);
    const S3Result<void> fed = decoder.feed(body.substr(at, std::min(n, body.size() - at)), out);
    if (!fed) {
      return fed.error();
    }
    at += n;
  }
  const S3Result<void> finished = decoder.finish();
  if (!finished) {
    return finished.error();
  }
  return std::nullopt;
}

std::optional<S3Code> code_of(const std::optional<S3Error>& e) {
  return e ? std::optional<S3Code>(e->code) : std::nullopt;
}

TEST(ChunkedDecoderTest, DocumentedSeedSignatureComesFromTheDocumentedRequest) {
  const std::vector<sigv4::Header> headers = {
      {"content-encoding", "aws-chunked"},
      {"content-length", "66824"},
      {"host", "s3.amazonaws.com"},
      {"x-amz-content-sha256", std::string(kStreamingSignedPayload)},
      {"x-amz-date", std::string(kAmzDate)},
      {"x-amz-decoded-content-length", "66560"},
      {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  std::vector<std::string> signed_headers;
  for (const auto& h : headers) {
    signed_headers.push_back(h.name);
  }
  const sigv4::CanonicalInput in{.method = "PUT",
                                 .canonical_uri = "/examplebucket/chunkObject.txt",
                                 .query = {},
                                 .headers = headers,
                                 .signed_headers = signed_headers,
                                 .payload_hash = kStreamingSignedPayload};
  EXPECT_EQ(sigv4::signature(signing(kSeed).signing_key,
                             sigv4::string_to_sign(kAmzDate, kScope, sigv4::canonical_request(in))),
            kSeed);
  EXPECT_EQ(signed_example().size(), 66824u);  // the documented Content-Length
}

TEST(ChunkedDecoderTest, ChunkSignaturesChainAsDocumented) {
  const ChunkSigning s = signing(kSeed);
  std::string previous(kSeed);
  for (const auto& [size, expected] : std::vector<std::pair<size_t, std::string_view>>{
           {65536, kChunk1}, {1024, kChunk2}, {0, kChunk3}}) {
    previous = sigv4::signature(
        s.signing_key, sigv4::chunk_string_to_sign(kAmzDate, kScope, previous,
                                                   to_hex(sha256(std::string(size, 'a')))));
    EXPECT_EQ(previous, expected);
  }
}

TEST(ChunkedDecoderTest, DecodesTheDocumentedSignedUpload) {
  ChunkedDecoder decoder(signing(kSeed), false);
  std::string out;
  EXPECT_EQ(code_of(decode(decoder, signed_example(), &out)), std::nullopt);
  EXPECT_EQ(out, std::string(66560, 'a'));
  EXPECT_EQ(decoder.decoded_bytes(), 66560u);
  EXPECT_TRUE(decoder.done());
  EXPECT_TRUE(decoder.trailers().empty());
}

TEST(ChunkedDecoderTest, DecodesTheDocumentedSignedUploadFedInRandomPieces) {
  const std::string body = signed_example();
  for (const size_t max_piece : {1, 2, 3, 7, 100, 5000, 70000}) {
    ChunkedDecoder decoder(signing(kSeed), false);
    std::string out;
    ASSERT_EQ(code_of(decode(decoder, body, &out, max_piece, static_cast<uint32_t>(max_piece))),
              std::nullopt)
        << "pieces up to " << max_piece;
    EXPECT_EQ(out, std::string(66560, 'a'));
  }
}

TEST(ChunkedDecoderTest, TamperedChunkByteIsSignatureDoesNotMatch) {
  for (const size_t at : {size_t{90}, size_t{65536 + 80}, size_t{65700}}) {
    std::string body = signed_example();
    ASSERT_EQ(body[at], 'a');
    body[at] = 'b';
    ChunkedDecoder decoder(signing(kSeed), false);
    std::string out;
    EXPECT_EQ(code_of(decode(decoder, body, &out, 4096)), S3Code::kSignatureDoesNotMatch)
        << "byte " << at;
  }
}

TEST(ChunkedDecoderTest, WrongSignaturesAreSignatureDoesNotMatch) {
  const std::string other_seed(64, '0');
  for (const std::string& body :
       {doc_body(kChunk1, kChunk2, std::string(kChunk3.substr(0, 63)) + "a", "\r\n"),
        doc_body(kChunk2, kChunk1, kChunk3, "\r\n"),  // each valid, in the wrong order
        doc_body(kChunk1, kChunk2, kChunk2, "\r\n")}) {
    ChunkedDecoder decoder(signing(kSeed), false);
    std::string out;
    EXPECT_EQ(code_of(decode(decoder, body, &out)), S3Code::kSignatureDoesNotMatch);
  }
  ChunkedDecoder decoder(signing(other_seed), false);
  std::string out;
  EXPECT_EQ(code_of(decode(decoder, signed_example(), &out)), S3Code::kSignatureDoesNotMatch);
}

TEST(ChunkedDecoderTest, UppercaseSignaturesAreAccepted) {
  std::string sig1(kChunk1);
  for (char& c : sig1) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  ChunkedDecoder decoder(signing(kSeed), false);
  std::string out;
  EXPECT_EQ(code_of(decode(decoder, doc_body(sig1, kChunk2, kChunk3, "\r\n"), &out)), std::nullopt);
}

TEST(ChunkedDecoderTest, ErrorsAreRepeatedAfterwards) {
  std::string body = signed_example();
  body[100] = 'b';
  ChunkedDecoder decoder(signing(kSeed), false);
  std::string out;
  ASSERT_FALSE(decoder.feed(body, &out));
  const S3Result<void> again = decoder.feed("", &out);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, S3Code::kSignatureDoesNotMatch);
  ASSERT_FALSE(decoder.finish());
  EXPECT_EQ(decoder.finish().error().code, S3Code::kSignatureDoesNotMatch);
  EXPECT_FALSE(decoder.done());
}

TEST(ChunkedDecoderTest, TruncatedBodyFailsFinishWithIncompleteBody) {
  const std::string body = signed_example();
  // Inside the first size line, its data, its CRLF, the final chunk's line, the last CRLF.
  for (const size_t keep :
       {size_t{0}, size_t{3}, size_t{50}, size_t{87}, size_t{30000}, size_t{65623}, size_t{65624},
        body.size() - 80, body.size() - 2, body.size() - 1}) {
    ChunkedDecoder decoder(signing(kSeed), false);
    std::string out;
    EXPECT_EQ(code_of(decode(decoder, std::string_view(body).substr(0, keep), &out, 999)),
              S3Code::kIncompleteBody)
        << "kept " << keep << " bytes";
    EXPECT_FALSE(decoder.done());
  }
}

TEST(ChunkedDecoderTest, DecodesTheDocumentedSignedTrailerUpload) {
  const std::string body = trailer_example();
  for (const size_t max_piece : {0, 1, 5, 333, 40000}) {
    ChunkedDecoder decoder(signing(kTrailerSeed), true);
    std::string out;
    ASSERT_EQ(code_of(decode(decoder, body, &out, max_piece)), std::nullopt)
        << "pieces up to " << max_piece;
    EXPECT_EQ(out, std::string(66560, 'a'));
    EXPECT_TRUE(decoder.done());
    ASSERT_EQ(decoder.trailers().size(), 1u);
    EXPECT_EQ(decoder.trailers()[0].first, "x-amz-checksum-crc32c");
    EXPECT_EQ(decoder.trailers()[0].second, "sOO8/Q==");
    EXPECT_EQ(base64_encode([&] {
                Checksum c(ChecksumAlgorithm::kCrc32c);
                c.update(out);
                return c.finish();
              }()),
              decoder.trailers()[0].second);
  }
}

TEST(ChunkedDecoderTest, TrailerSignatureIsOverTheCanonicalTrailer) {
  const ChunkSigning s = signing(kTrailerSeed);
  EXPECT_EQ(
      sigv4::signature(s.signing_key, sigv4::trailer_string_to_sign(
                                          kAmzDate, kScope, kTrailerChunk3,
                                          to_hex(sha256("x-amz-checksum-crc32c:sOO8/Q==\n")))),
      kTrailerSignature);
}

TEST(ChunkedDecoderTest, AcceptsABareLfAndAnEmptyLineBeforeTheTrailerSignature) {
  ChunkedDecoder decoder(signing(kTrailerSeed), true);
  std::string out;
  EXPECT_EQ(
      code_of(decode(decoder, trailer_example("x-amz-checksum-crc32c: sOO8/Q==\n\r\n"), &out, 7)),
      std::nullopt);
  ASSERT_EQ(decoder.trailers().size(), 1u);
  EXPECT_EQ(decoder.trailers()[0].second, "sOO8/Q==");
}

TEST(ChunkedDecoderTest, TamperedTrailerIsSignatureDoesNotMatch) {
  for (const std::string& body :
       {trailer_example("x-amz-checksum-crc32c:AAAAAA==\r\n"),
        trailer_example("x-amz-checksum-crc32:sOO8/Q==\r\n"),
        trailer_example("x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-meta-extra:1\r\n"),
        doc_body(kTrailerChunk1, kTrailerChunk2, kTrailerChunk3,
                 "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" +
                     std::string(64, 'f') + "\r\n\r\n")}) {
    ChunkedDecoder decoder(signing(kTrailerSeed), true);
    std::string out;
    EXPECT_EQ(code_of(decode(decoder, body, &out)), S3Code::kSignatureDoesNotMatch);
  }
}

TEST(ChunkedDecoderTest, SignedTrailerWithoutItsSignatureIsIncomplete) {
  for (const std::string_view ending : {"x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n", "\r\n"}) {
    ChunkedDecoder decoder(signing(kTrailerSeed), true);
    std::string out;
    EXPECT_EQ(code_of(decode(
                  decoder, doc_body(kTrailerChunk1, kTrailerChunk2, kTrailerChunk3, ending), &out)),
              S3Code::kIncompleteBody);
  }
}

TEST(ChunkedDecoderTest, HeadersAfterTheTrailerSignatureAreMalformed) {
  ChunkedDecoder decoder(signing(kTrailerSeed), true);
  std::string out;
  const std::string body =
      doc_body(kTrailerChunk1, kTrailerChunk2, kTrailerChunk3,
               "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" +
                   std::string(kTrailerSignature) + "\r\nx-amz-meta-late:1\r\n\r\n");
  EXPECT_EQ(code_of(decode(decoder, body, &out)), S3Code::kMalformedTrailerError);
}

TEST(ChunkedDecoderTest, DecodesAnUnsignedUploadWithAChecksumTrailer) {
  std::mt19937 rng(99);
  std::string payload(8192 * 3 + 100, '\0');
  for (char& c : payload) {
    c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
  }
  Checksum crc(ChecksumAlgorithm::kCrc32);
  crc.update(payload);
  const std::string checksum = base64_encode(crc.finish());
  const std::string body =
      unsigned_body({payload.substr(0, 8192), payload.substr(8192, 16384), payload.substr(24576)},
                    "x-amz-checksum-crc32:" + checksum + "\r\n\r\n");
  for (const size_t max_piece : {0, 1, 2, 10, 9000}) {
    ChunkedDecoder decoder(std::nullopt, true);
    std::string out;
    ASSERT_EQ(code_of(decode(decoder, body, &out, max_piece)), std::nullopt)
        << "pieces up to " << max_piece;
    EXPECT_EQ(out, payload);
    EXPECT_EQ(decoder.decoded_bytes(), payload.size());
    ASSERT_EQ(decoder.trailers().size(), 1u);
    EXPECT_EQ(decoder.trailers()[0].first, "x-amz-checksum-crc32");
    EXPECT_EQ(decoder.trailers()[0].second, checksum);
  }
}

TEST(ChunkedDecoderTest, UnsignedTrailerNamesAreLowercasedAndValuesTrimmed) {
  ChunkedDecoder decoder(std::nullopt, true);
  std::string out;
  EXPECT_EQ(
      code_of(decode(decoder, unsigned_body({"abc"}, "X-Amz-Checksum-CRC32: \tNSRBwg== \r\n\r\n"),
                     &out)),
      std::nullopt);
  EXPECT_EQ(out, "abc");
  ASSERT_EQ(decoder.trailers().size(), 1u);
  EXPECT_EQ(decoder.trailers()[0],
            (std::pair<std::string, std::string>("x-amz-checksum-crc32", "NSRBwg==")));
}

TEST(ChunkedDecoderTest, UnsignedBodyMayHaveNoTrailersAndNoPayload) {
  ChunkedDecoder decoder(std::nullopt, true);
  std::string out;
  EXPECT_EQ(code_of(decode(decoder, "0\r\n\r\n", &out, 1)), std::nullopt);
  EXPECT_EQ(out, "");
  EXPECT_TRUE(decoder.trailers().empty());
  EXPECT_EQ(decoder.decoded_bytes(), 0u);
}

TEST(ChunkedDecoderTest, SignedEmptyPayload) {
  const ChunkSigning s = signing(kSeed);
  std::string last;
  const std::string body = sign_chunks(s, {}, &last) + "\r\n";
  ChunkedDecoder decoder(s, false);
  std::string out;
  EXPECT_EQ(code_of(decode(decoder, body, &out)), std::nullopt);
  EXPECT_EQ(decoder.decoded_bytes(), 0u);
}

TEST(ChunkedDecoderTest, ChunkUnder8KiBBeforeAnotherDataChunkIsInvalidChunkSize) {
  {
    ChunkedDecoder decoder(std::nullopt, true);
    std::string out;
    EXPECT_EQ(code_of(decode(decoder, unsigned_body({"abc", "def"}, "\r\n"), &out)),
              S3Code::kInvalidChunkSizeError);
  }
  {
    const ChunkSigning s = signing(kSeed);
    std::string last;
    const std::string body = sign_chunks(s, {std::string(8191, 'x'), "y"}, &last) + "\r\n";
    ChunkedDecoder decoder(s, false);
    std::string out;
    EXPECT_EQ(code_of(decode(decoder, body, &out)), S3Code::kInvalidChunkSizeError);
  }
}

TEST(ChunkedDecoderTest, OnlyTheLastDataChunkMayBeSmall) {
  const ChunkSigning s = signing(kSeed);
  std::string last;
  const std::string body =
      sign_chunks(s, {std::string(8192, 'x'), std::string(9000, 'y'), "z"}, &last) + "\r\n";
  ChunkedDecoder decoder(s, false);
  std::string out;
  EXPECT_EQ(code_of(decode(decoder, body, &out, 100)), std::nullopt);
  EXPECT_EQ(out, std::string(8192, 'x') + std::string(9000, 'y') + "z");
}

TEST(ChunkedDecoderTest, SignedTrailerOfOurOwnSigning) {
  // Two trailing headers: the canonical trailer sorts them by name.
  const ChunkSigning s = signing(kSeed);
  std::string last;
  const std::string chunks = sign_chunks(s, {"hello"}, &last);
  const std::string canonical = "x-amz-checksum-sha256:abc=\nx-amz-meta-z:1\n";
  const std::string trailer_signature = sigv4::signature(
      s.signing_key,
      sigv4::trailer_string_to_sign(kAmzDate, kScope, last, to_hex(sha256(canonical))));
  const std::string body = chunks + "x-amz-meta-z:1\r\nx-amz-checksum-sha256:abc=\r\n" +
                           "x-amz-trailer-signature:" + trailer_signature + "\r\n\r\n";
  ChunkedDecoder decoder(s, true);
  std::string out;
  EXPECT_EQ(code_of(decode(decoder, body, &out, 3)), std::nullopt);
  EXPECT_EQ(out, "hello");
  ASSERT_EQ(decoder.trailers().size(), 2u);
  EXPECT_EQ(decoder.trailers()[0].first, "x-amz-meta-z");  // arrival order
}

struct Malformed {
  std::string name;
  bool signed_mode;
  bool trailer;
  std::string body;
  S3Code code;
};

void PrintTo(const Malformed& m, std::ostream* os) { *os << m.name; }

class ChunkedDecoderMalformedTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(ChunkedDecoderMalformedTest, IsRefused) {
  const Malformed& m = GetParam();
  for (const size_t max_piece : {0, 1}) {
    ChunkedDecoder decoder(
        m.signed_mode ? std::optional<ChunkSigning>(signing(kSeed)) : std::nullopt, m.trailer);
    std::string out;
    EXPECT_EQ(code_of(decode(decoder, m.body, &out, max_piece)), m.code)
        << "pieces up to " << max_piece;
  }
}

std::string sig(std::string_view s) { return ";chunk-signature=" + std::string(s); }

INSTANTIATE_TEST_SUITE_P(
    Framing, ChunkedDecoderMalformedTest,
    ::testing::Values(
        Malformed{"BadHexSize", false, true, "zz\r\n", S3Code::kIncompleteBody},
        Malformed{"EmptySize", false, true, "\r\nabc\r\n0\r\n\r\n", S3Code::kIncompleteBody},
        Malformed{"SizeWithSpace", false, true, "3 \r\nabc\r\n0\r\n\r\n", S3Code::kIncompleteBody},
        Malformed{"SeventeenHexDigits", false, true, "00000000000000003\r\nabc\r\n0\r\n\r\n",
                  S3Code::kIncompleteBody},
        Malformed{"SizeLineWithBareLf", false, true, "3\nabc\r\n0\r\n\r\n",
                  S3Code::kIncompleteBody},
        Malformed{"DataLongerThanItsSize", false, true, "3\r\nabcd\r\n0\r\n\r\n",
                  S3Code::kIncompleteBody},
        Malformed{"DataShorterThanItsSize", false, true, "5\r\nabc\r\n0\r\n\r\n",
                  S3Code::kIncompleteBody},
        Malformed{"DataWithoutCrlf", false, true, "3\r\nabc0\r\n\r\n", S3Code::kIncompleteBody},
        Malformed{"BytesAfterTheEnd", false, true, "0\r\n\r\nx", S3Code::kIncompleteBody},
        Malformed{"SizeLineTooLong", false, true, std::string(5000, '0'), S3Code::kIncompleteBody},
        Malformed{"TrailerWithoutColon", false, true, "0\r\nx-amz-checksum-crc32\r\n\r\n",
                  S3Code::kMalformedTrailerError},
        Malformed{"TrailerWithoutName", false, true, "0\r\n:abc\r\n\r\n",
                  S3Code::kMalformedTrailerError},
        Malformed{"TrailerNameWithSpace", false, true, "0\r\nx-amz checksum:abc\r\n\r\n",
                  S3Code::kMalformedTrailerError},
        Malformed{"TrailerValueWithControl", false, true, "0\r\nx-amz-checksum-crc32:a\rb\r\n\r\n",
                  S3Code::kMalformedTrailerError},
        Malformed{"RepeatedTrailer", false, true,
                  "0\r\nx-amz-checksum-crc32:a\r\nX-Amz-Checksum-Crc32:b\r\n\r\n",
                  S3Code::kMalformedTrailerError},
        Malformed{"TrailerLineTooLong", false, true, "0\r\nx-amz-a:" + std::string(5000, 'b'),
                  S3Code::kMalformedTrailerError},
        Malformed{"TooManyTrailers", false, true,
                  [] {
                    std::string body = "0\r\n";
                    for (int i = 0; i < 20; ++i) {
                      body += "x-amz-meta-" + std::to_string(i) + ":v\r\n";
                    }
                    return body + "\r\n";
                  }(),
                  S3Code::kMalformedTrailerError},
        Malformed{"TrailerSignatureInUnsignedBody", false, true,
                  "0\r\nx-amz-checksum-crc32:a\r\nx-amz-trailer-signature:" +
                      std::string(kTrailerSignature) + "\r\n\r\n",
                  S3Code::kMalformedTrailerError},
        Malformed{"SignedChunkWithoutSignature", true, false, "10000\r\n", S3Code::kIncompleteBody},
        Malformed{"SignatureTooShort", true, false,
                  "10000" + sig(std::string(kChunk1.substr(1))) + "\r\n", S3Code::kIncompleteBody},
        Malformed{"SignatureNotHex", true, false,
                  "10000" + sig(std::string(63, 'a') + "g") + "\r\n", S3Code::kIncompleteBody},
        Malformed{"MisspelledExtension", true, false,
                  "10000;chunk-signatur=" + std::string(kChunk1) + "\r\n",
                  S3Code::kIncompleteBody}),
    [](const ::testing::TestParamInfo<Malformed>& info) { return info.param.name; });

TEST(ChunkedDecoderTest, FinalChunkWithoutTrailerMustBeFollowedByCrlf) {
  ChunkedDecoder decoder(signing(kSeed), false);
  std::string out;
  EXPECT_EQ(code_of(decode(decoder, doc_body(kChunk1, kChunk2, kChunk3, "x\r\n"), &out)),
            S3Code::kIncompleteBody);
}

TEST(ChunkedDecoderTest, ItsErrorsAnswerAsS3Does) {
  // Status and code of the replies S3 sends for these conditions (InvalidChunkSizeError is a
  // 403 on S3, as aws-sdk-cpp#2727 and #3132 logged it).
  EXPECT_EQ(info(S3Code::kInvalidChunkSizeError).code, "InvalidChunkSizeError");
  EXPECT_EQ(info(S3Code::kInvalidChunkSizeError).status, boost::beast::http::status::forbidden);
  EXPECT_EQ(info(S3Code::kMalformedTrailerError).code, "MalformedTrailerError");
  EXPECT_EQ(info(S3Code::kMalformedTrailerError).status, boost::beast::http::status::bad_request);
  EXPECT_EQ(info(S3Code::kIncompleteBody).code, "IncompleteBody");
}

TEST(ChunkedDecoderTest, HoldsNoMoreThanOneLine) {
  // A size line that never ends is refused once it passes the line limit, however it is fed.
  ChunkedDecoder decoder(std::nullopt, true);
  std::string out;
  S3Result<void> fed;
  size_t fed_bytes = 0;
  while (fed && fed_bytes < 100'000) {
    fed = decoder.feed("0", &out);
    ++fed_bytes;
  }
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().code, S3Code::kIncompleteBody);
  EXPECT_LE(fed_bytes, 4097u);
}

}  // namespace
}  // namespace vaultaire::s3
