#pragma once

// AWS Signature Version 4: canonical request, string to sign, signing key and signature.
// Pure functions, checked against the published AWS test-suite vectors
// (tests/unit/s3/sigv4_test.cc). Verification of incoming requests is in auth.h.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/uri.h"

namespace vaultaire::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Header {
  std::string name;   // lowercase
  std::string value;  // as received
};

struct CanonicalInput {
  std::string_view method;
  std::string canonical_uri;                // see canonical_uri()
  std::vector<QueryParam> query;            // decoded; the signature parameter already removed
  std::vector<Header> headers;              // every header of the request (names lowercase)
  std::vector<std::string> signed_headers;  // lowercase, sorted, as listed in the signature
  std::string_view payload_hash;
};

// The canonical URI of a decoded path: each byte URI-encoded once ('/' kept). With `normalize`
// (every AWS service but S3) "." and ".." segments and repeated slashes are resolved first.
std::string canonical_uri(std::string_view decoded_path, bool normalize);

// Parameters encoded, then sorted by name and value, joined with '&'.
std::string canonical_query(const std::vector<QueryParam>& query);

// "name:value\n" for each signed header: values of repeated headers joined with ',', each value
// trimmed and its runs of spaces collapsed.
std::string canonical_headers(const std::vector<Header>& headers,
                              const std::vector<std::string>& signed_headers);

std::string canonical_request(const CanonicalInput& in);

// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of canonical request>"
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

// HMAC chain: "AWS4"+secret, date (YYYYMMDD), region, service, "aws4_request". Raw bytes.
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);

// Hex HMAC-SHA256 of the string to sign under the signing key.
std::string signature(std::string_view signing_key, std::string_view string_to_sign);

// "<date>/<region>/<service>/aws4_request"
std::string scope(std::string_view date, std::string_view region, std::string_view service);

// aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]): each chunk is signed over
// the previous signature (the request's own for the first chunk), and the trailer over the final
// chunk's. Signatures are signature(signing_key, <string to sign>).
inline constexpr std::string_view kChunkAlgorithm = "AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kTrailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER";

// "AWS4-HMAC-SHA256-PAYLOAD\n<amz date>\n<scope>\n<previous signature>\n<kEmptySha256>\n<hex
// sha256 of the chunk data>"
std::string chunk_string_to_sign(std::string_view amz_date, std::string_view scope,
                                 std::string_view previous_signature,
                                 std::string_view chunk_sha256_hex);

// "AWS4-HMAC-SHA256-TRAILER\n<amz date>\n<scope>\n<previous signature>\n<hex sha256 of the
// canonical trailer>", the canonical trailer being "name:value\n" for each trailing header but
// x-amz-trailer-signature, names lowercase and sorted, values trimmed.
std::string trailer_string_to_sign(std::string_view amz_date, std::string_view scope,
                                   std::string_view previous_signature,
                                   std::string_view trailer_sha256_hex);

}  // namespace vaultaire::sigv4
