#pragma once

// AWS Signature Version 2, the scheme of old S3 clients: the string to sign, its canonical parts
// and the signature. Pure functions, checked against the examples of the S3 documentation
// (tests/unit/s3/sigv2_test.cc). Verification of incoming requests is in auth.h.
//
//   Authorization = "AWS " AccessKeyId ":" Signature
//   Signature     = Base64(HMAC-SHA1(secret, StringToSign))
//   StringToSign  = VERB "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//                   CanonicalizedAmzHeaders CanonicalizedResource
//
// A presigned URL carries AWSAccessKeyId, Expires and Signature as query parameters and signs
// Expires in the place of Date. The payload is never signed.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sigv4.h"
#include "common/uri.h"

namespace vaultaire::s3::sigv2 {

inline constexpr std::string_view kScheme = "AWS ";

// The parts of "Authorization: AWS <access key>:<signature>".
struct Authorization {
  std::string access_key;
  std::string signature;  // base64, as sent
};

// nullopt unless the header is "AWS ", then a non-empty access key, one ':' and a non-empty
// signature, with no further space.
std::optional<Authorization> parse_authorization(std::string_view header);

// Whether a query parameter is one of the sub-resources the CanonicalizedResource names: those
// of the S3 documentation (acl, delete, lifecycle, ..., website and the response-* overrides)
// and cors, restore and tagging, which clients sign too.
bool is_signed_subresource(std::string_view name);

// The request path as sent (still percent-encoded; path-style, so it names the bucket), then the
// signed sub-resources present, sorted by name, with their decoded values:
// "/bucket/key?partNumber=2&uploadId=abc". A parameter sent without '=' appears without one.
std::string canonical_resource(std::string_view raw_path, const std::vector<QueryParam>& query);

// "name:value\n" for each x-amz-* header: names lowercased and sorted, the values of a repeated
// header joined with ',' in arrival order, each value trimmed and its line folds made one space.
std::string canonical_amz_headers(const std::vector<sigv4::Header>& headers);

// The string to sign. `date` stands in the Date position: the Date header as sent, "" when the
// request has an x-amz-date header (which the amz headers then carry), or the Expires parameter
// of a presigned URL. Content-MD5 and Content-Type are taken from `headers` ("" when absent).
std::string string_to_sign(std::string_view method, const std::vector<sigv4::Header>& headers,
                           std::string_view date, std::string_view canonical_resource);

// Base64 of the HMAC-SHA1 of the string to sign under the secret key.
std::string signature(std::string_view secret, std::string_view string_to_sign);

}  // namespace vaultaire::s3::sigv2
