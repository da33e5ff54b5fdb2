#pragma once

// Authentication of S3 requests: SigV4 or Signature Version 2 (old clients), each in the
// Authorization header or in a presigned query string. Resolves the access key to an identity
// through a CredentialStore; the S3 client never names its tenant.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "s3/errors.h"
#include "common/sigv4.h"
#include "common/uri.h"

namespace vaultaire::s3 {

template <typename T>
using S3Result = boost::system::result<T, S3Error>;

struct Identity {
  std::string tenant;
  std::string principal;  // the access key id, or "anonymous"
  bool anonymous = false;
  std::string user;                // the tenant's user the key belongs to (empty for root)
  std::string role;                // "root", "admin" or "member"
  double requests_per_second = 0;  // the key's rate limit; 0: unlimited
  double burst = 0;
};

struct Credential {
  std::string access_key;
  std::string secret;
  Identity identity;
};

// Looks up access keys. Thread-safe; called on network threads, so it must not block.
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  virtual std::optional<Credential> find(std::string_view access_key) const = 0;
};

// A fixed set of keys (the root credentials from the environment).
class StaticCredentialStore final : public CredentialStore {
 public:
  void add(Credential c) { keys_.push_back(std::move(c)); }
  std::optional<Credential> find(std::string_view access_key) const override;

 private:
  std::vector<Credential> keys_;
};

// What authentication looks at in a request.
struct RequestFacts {
  std::string method;
  std::string raw_path;  // as sent, still percent-encoded
  std::string decoded_path;
  std::vector<QueryParam> query;       // decoded
  std::vector<sigv4::Header> headers;  // names lowercase, in arrival order
  std::string host_bucket;             // the bucket named by the Host header (virtual-hosted style)
};

struct AuthOptions {
  std::string region = "us-east-1";
  int64_t max_skew_seconds = 15 * 60;
};

struct Authenticated {
  Identity identity;
  // The payload's declared SHA-256 (hex), or "UNSIGNED-PAYLOAD" (presigned URLs and every
  // Signature Version 2 request included), or a STREAMING-* mode. The body is checked against a
  // hex value as it is read.
  std::string payload_hash;
  // SigV4: what verifying the chunk signatures of an aws-chunked body needs (the seed
  // signature is the request's own).
  std::string signing_key;  // raw bytes
  std::string scope;
  std::string amz_date;
  std::string signature;
};

// Verifies the request's signature. Errors: AccessDenied (anonymous is not an error: the
// identity says so), InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed,
// AuthorizationHeaderMalformed, AuthorizationQueryParametersError, InvalidRequest, and for
// Signature Version 2: InvalidArgument (a malformed "AWS" header), AccessDenied (no valid Date
// or x-amz-date, missing or malformed query parameters, "Request has expired").
S3Result<Authenticated> authenticate(const RequestFacts& request, const CredentialStore& store,
                                     const AuthOptions& options, int64_t now_unix_seconds);

// The value of the first header called `name` (lowercase), if any.
std::optional<std::string_view> find_header(const std::vector<sigv4::Header>& headers,
                                            std::string_view name);

}  // namespace vaultaire::s3
