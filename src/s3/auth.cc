#include "s3/auth.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <unordered_map>

#include "common/crypto.h"
#include "common/time_format.h"
#include "s3/sigv2.h"

namespace vaultaire::s3 {
namespace {

constexpr std::string_view kService = "s3";
constexpr int64_t kMaxPresignSeconds = 7 * 24 * 3600;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) {
      return out;
    }
    start = pos + 1;
  }
}

const QueryParam* find_param(const std::vector<QueryParam>& query, std::string_view name) {
  for (const auto& p : query) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

// The parts of a SigV4 signature, from the header or the query string.
struct Signed {
  std::string access_key;
  std::string date;  // YYYYMMDD of the credential scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
  std::string amz_date;  // YYYYMMDDTHHMMSSZ
};

// "AKID/20150830/us-east-1/s3/aws4_request"
bool parse_credential(std::string_view credential, Signed& out) {
  const auto parts = split(credential, '/');
  if (parts.size() != 5 || parts[4] != "aws4_request" || parts[1].size() != 8) {
    return false;
  }
  out.access_key = parts[0];
  out.date = parts[1];
  out.region = parts[2];
  out.service = parts[3];
  return !out.access_key.empty();
}

S3Result<Signed> parse_authorization(std::string_view header) {
  const S3Error malformed(S3Code::kAuthorizationHeaderMalformed);
  if (header.substr(0, sigv4::kAlgorithm.size()) != sigv4::kAlgorithm) {
    return malformed;
  }
  Signed out;
  bool have_credential = false;
  bool have_headers = false;
  for (const auto& raw : split(header.substr(sigv4::kAlgorithm.size()), ',')) {
    const std::string_view part = trim(raw);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return malformed;
    }
    const std::string_view key = part.substr(0, eq);
    const std::string_view value = part.substr(eq + 1);
    if (key == "Credential") {
      if (!parse_credential(value, out)) {
        return malformed;
      }
      have_credential = true;
    } else if (key == "SignedHeaders") {
      out.signed_headers = split(value, ';');
      have_headers = true;
    } else if (key == "Signature") {
      out.signature = std::string(value);
    }
  }
  if (!have_credential || !have_headers || out.signature.empty()) {
    return malformed;
  }
  return out;
}

bool is_sorted_lowercase(const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (n.empty() || std::any_of(n.begin(), n.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      return false;
    }
  }
  return std::is_sorted(names.begin(), names.end());
}

// Checks the scope and the signature; fills `out` on success.
// The signing key depends on the secret and the day only: derive it once per thread and day
// rather than with four HMACs per request.
std::string cached_signing_key(const std::string& secret, const std::string& date,
                               const std::string& region) {
  thread_local std::unordered_map<std::string, std::string> cache;
  std::string id = secret;
  id.push_back('\0');
  id.append(date).push_back('\0');
  id.append(region);
  if (auto it = cache.find(id); it != cache.end()) {
    return it->second;
  }
  if (cache.size() >= 4096) {
    cache.clear();  // days roll over and keys come and go; start afresh now and then
  }
  std::string key = sigv4::signing_key(secret, date, region, kService);
  cache.emplace(std::move(id), key);
  return key;
}

// Where the signature came from decides how its scope errors are named.
enum class Via { kHeader, kQuery };

S3Result<Authenticated> verify(const RequestFacts& request, const CredentialStore& store,
                               const AuthOptions& options, const Signed& sig, Via via,
                               std::vector<QueryParam> query, std::string payload_hash) {
  const S3Code malformed = via == Via::kHeader ? S3Code::kAuthorizationHeaderMalformed
                                               : S3Code::kAuthorizationQueryParametersError;
  const auto credential = store.find(sig.access_key);
  if (!credential) {
    return S3Error(S3Code::kInvalidAccessKeyId);
  }
  if (sig.amz_date.substr(0, 8) != sig.date) {
    return S3Error(malformed, "Invalid credential date. Date is not the same as X-Amz-Date.");
  }
  if (sig.region != options.region) {
    return S3Error(malformed, "The credential scope is malformed; the region '" + sig.region +
                                  "' is wrong; expecting '" + options.region + "'");
  }
  if (sig.service != kService) {
    return S3Error(malformed, "The credential scope is malformed; incorrect service '" +
                                  sig.service + "'. This endpoint belongs to 's3'.");
  }
  if (!is_sorted_lowercase(sig.signed_headers) ||
      !std::binary_search(sig.signed_headers.begin(), sig.signed_headers.end(), "host")) {
    return S3Error(malformed, "SignedHeaders must be sorted, lowercase and include host.");
  }
  // Every x-amz-* header changes what the request does: an unsigned one could have been added
  // or altered on the way.
  for (const auto& h : request.headers) {
    if (h.name.substr(0, 6) == "x-amz-" &&
        !std::binary_search(sig.signed_headers.begin(), sig.signed_headers.end(), h.name)) {
      return S3Error(S3Code::kAccessDenied,
                     "There were headers present in the request which were not signed: " + h.name);
    }
  }

  const std::string key = cached_signing_key(credential->secret, sig.date, sig.region);
  const std::string scope = sigv4::scope(sig.date, sig.region, sig.service);
  sigv4::CanonicalInput in{.method = request.method,
                           .canonical_uri = sigv4::canonical_uri(request.decoded_path, false),
                           .query = std::move(query),
                           .headers = request.headers,
                           .signed_headers = sig.signed_headers,
                           .payload_hash = payload_hash};
  auto matches = [&](const sigv4::CanonicalInput& input) {
    const std::string expected = sigv4::signature(
        key, sigv4::string_to_sign(sig.amz_date, scope, sigv4::canonical_request(input)));
    return constant_time_equal(expected, sig.signature);
  };
  bool ok = matches(in);
  if (!ok && in.canonical_uri != request.raw_path && !request.raw_path.empty()) {
    // Some clients encode the path with other rules than ours and sign what they sent.
    in.canonical_uri = std::string(request.raw_path);
    ok = matches(in);
  }
  if (!ok) {
    return S3Error(S3Code::kSignatureDoesNotMatch);
  }
  Authenticated out;
  out.identity = credential->identity;
  out.payload_hash = std::move(payload_hash);
  out.signing_key = key;
  out.scope = scope;
  out.amz_date = sig.amz_date;
  out.signature = sig.signature;
  return out;
}

S3Result<Authenticated> authenticate_header(const RequestFacts& request,
                                            const CredentialStore& store,
                                            const AuthOptions& options, std::string_view header,
                                            int64_t now) {
  auto sig = parse_authorization(header);
  if (!sig) {
    return sig.error();
  }
  const auto amz_date = find_header(request.headers, "x-amz-date");
  std::optional<int64_t> when;
  if (amz_date) {
    when = parse_amz_date(*amz_date);
    sig->amz_date = std::string(*amz_date);
  } else if (const auto date = find_header(request.headers, "date")) {
    when = parse_http_date(*date);
    if (when) {
      // The signature covers the compact form of the Date header's time.
      const std::string iso = format_iso8601(*when * 1'000'000'000);
      sig->amz_date = iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2) + "T" +
                      iso.substr(11, 2) + iso.substr(14, 2) + iso.substr(17, 2) + "Z";
    }
  }
  if (!when) {
    return S3Error(S3Code::kAccessDenied,
                   "AWS authentication requires a valid Date or x-amz-date header");
  }
  if (std::llabs(*when - now) > options.max_skew_seconds) {
    return S3Error(S3Code::kRequestTimeTooSkewed);
  }
  const auto payload = find_header(request.headers, "x-amz-content-sha256");
  if (!payload) {
    return S3Error(S3Code::kInvalidRequest,
                   "Missing required header for this request: x-amz-content-sha256");
  }
  const bool known_mode = *payload == sigv4::kUnsignedPayload ||
                          payload->substr(0, 10) == "STREAMING-" ||
                          (payload->size() == 64 && from_hex(*payload).has_value());
  if (!known_mode) {
    return S3Error(S3Code::kInvalidArgument,
                   "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                   "STREAMING-... or a SHA-256 in hex");
  }
  return verify(request, store, options, *sig, Via::kHeader, request.query, std::string(*payload));
}

S3Result<Authenticated> authenticate_presigned(const RequestFacts& request,
                                               const CredentialStore& store,
                                               const AuthOptions& options, int64_t now) {
  const S3Error bad(S3Code::kAuthorizationQueryParametersError);
  const QueryParam* algorithm = find_param(request.query, "X-Amz-Algorithm");
  const QueryParam* credential = find_param(request.query, "X-Amz-Credential");
  const QueryParam* date = find_param(request.query, "X-Amz-Date");
  const QueryParam* expires = find_param(request.query, "X-Amz-Expires");
  const QueryParam* headers = find_param(request.query, "X-Amz-SignedHeaders");
  const QueryParam* signature = find_param(request.query, "X-Amz-Signature");
  if (!algorithm || !credential || !date || !expires || !headers || !signature ||
      algorithm->value != sigv4::kAlgorithm) {
    return S3Error(S3Code::kAuthorizationQueryParametersError,
                   "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                   "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                   "X-Amz-Expires parameters.");
  }
  Signed sig;
  if (!parse_credential(credential->value, sig)) {
    return bad;
  }
  sig.amz_date = date->value;
  sig.signed_headers = split(headers->value, ';');
  sig.signature = signature->value;
  const auto when = parse_amz_date(date->value);
  int64_t lifetime = 0;
  const auto [end, ec] = std::from_chars(expires->value.data(),
                                         expires->value.data() + expires->value.size(), lifetime);
  if (!when || ec != std::errc() || end != expires->value.data() + expires->value.size() ||
      lifetime < 1 || lifetime > kMaxPresignSeconds) {
    return S3Error(S3Code::kAuthorizationQueryParametersError,
                   "X-Amz-Expires must be between 1 and 604800 seconds and X-Amz-Date valid.");
  }
  if (*when - now > options.max_skew_seconds) {
    return S3Error(S3Code::kAccessDenied, "Request is not yet valid");
  }
  if (now > *when + lifetime) {
    return S3Error(S3Code::kAccessDenied, "Request has expired");
  }
  std::vector<QueryParam> query;
  query.reserve(request.query.size());
  for (const auto& p : request.query) {
    if (p.name != "X-Amz-Signature") {
      query.push_back(p);
    }
  }
  const auto declared = find_header(request.headers, "x-amz-content-sha256");
  std::string payload = declared ? std::string(*declared) : std::string(sigv4::kUnsignedPayload);
  return verify(request, store, options, sig, Via::kQuery, std::move(query), std::move(payload));
}

// Signature Version 2: the key, then the signature over the request with `date` in the Date
// position. The payload is not signed.
S3Result<Authenticated> verify_v2(const RequestFacts& request, const CredentialStore& store,
                                  std::string_view access_key, std::string_view signature,
                                  std::string_view date) {
  const auto credential = store.find(access_key);
  if (!credential) {
    return S3Error(S3Code::kInvalidAccessKeyId);
  }
  auto matches = [&](std::string_view path) {
    const std::string expected = sigv2::signature(
        credential->secret, sigv2::string_to_sign(request.method, request.headers, date,
                                                  sigv2::canonical_resource(path, request.query)));
    return constant_time_equal(expected, signature);
  };
  // Virtual-hosted style: the canonical resource still starts with the bucket.
  const std::string resource =
      request.host_bucket.empty() ? request.raw_path : "/" + request.host_bucket + request.raw_path;
  bool ok = matches(resource);
  const std::string_view path = resource;
  if (!ok && path.size() > 1 && path.find('/', 1) == std::string_view::npos) {
    // botocore signs a bucket's path-style resource as "/bucket/" and sends "/bucket": both
    // name the bucket.
    ok = matches(request.raw_path + "/");
  }
  if (!ok) {
    return S3Error(S3Code::kSignatureDoesNotMatch);
  }
  Authenticated out;
  out.identity = credential->identity;
  out.payload_hash = std::string(sigv4::kUnsignedPayload);
  return out;
}

// "Authorization: AWS AKID:signature", timed by x-amz-date or else Date.
S3Result<Authenticated> authenticate_v2_header(const RequestFacts& request,
                                               const CredentialStore& store,
                                               const AuthOptions& options, std::string_view header,
                                               int64_t now) {
  const auto authorization = sigv2::parse_authorization(header);
  if (!authorization) {
    return S3Error(S3Code::kInvalidArgument,
                   "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature");
  }
  // When x-amz-date is present it is the request's time, and Date signs as "" whatever it says.
  const auto amz_date = find_header(request.headers, "x-amz-date");
  const auto date = amz_date ? amz_date : find_header(request.headers, "date");
  const std::optional<int64_t> when = date ? parse_rfc822_date(*date) : std::nullopt;
  if (!when || *when < 0) {
    return S3Error(S3Code::kAccessDenied,
                   "AWS authentication requires a valid Date or x-amz-date header");
  }
  if (std::llabs(*when - now) > options.max_skew_seconds) {
    return S3Error(S3Code::kRequestTimeTooSkewed);
  }
  return verify_v2(request, store, authorization->access_key, authorization->signature,
                   amz_date ? std::string_view() : *date);
}

// "?AWSAccessKeyId=AKID&Expires=<unix seconds>&Signature=<base64>", valid until Expires.
S3Result<Authenticated> authenticate_v2_query(const RequestFacts& request,
                                              const CredentialStore& store, int64_t now) {
  const QueryParam* access_key = find_param(request.query, "AWSAccessKeyId");
  const QueryParam* expires = find_param(request.query, "Expires");
  const QueryParam* signature = find_param(request.query, "Signature");
  if (!access_key || !expires || !signature || access_key->value.empty() ||
      signature->value.empty()) {
    return S3Error(S3Code::kAccessDenied,
                   "Query-string authentication requires the Signature, Expires and "
                   "AWSAccessKeyId parameters");
  }
  int64_t deadline = 0;
  const char* const end = expires->value.data() + expires->value.size();
  const auto [last, ec] = std::from_chars(expires->value.data(), end, deadline);
  if (ec != std::errc() || last != end || expires->value.empty()) {
    return S3Error(S3Code::kAccessDenied,
                   "Invalid date (should be seconds since epoch): " + expires->value);
  }
  if (now > deadline) {
    return S3Error(S3Code::kAccessDenied, "Request has expired");
  }
  // Base64 has no spaces: a space is a '+' the client did not escape, decoded as a query's '+'.
  std::string sent = signature->value;
  std::replace(sent.begin(), sent.end(), ' ', '+');
  return verify_v2(request, store, access_key->value, sent, expires->value);
}

}  // namespace

std::optional<Credential> StaticCredentialStore::find(std::string_view access_key) const {
  for (const auto& c : keys_) {
    if (c.access_key == access_key) {
      return c;
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> find_header(const std::vector<sigv4::Header>& headers,
                                            std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == name) {
      return std::string_view(h.value);
    }
  }
  return std::nullopt;
}

S3Result<Authenticated> authenticate(const RequestFacts& request, const CredentialStore& store,
                                     const AuthOptions& options, int64_t now_unix_seconds) {
  if (const auto header = find_header(request.headers, "authorization")) {
    if (header->starts_with(sigv2::kScheme)) {
      return authenticate_v2_header(request, store, options, *header, now_unix_seconds);
    }
    return authenticate_header(request, store, options, *header, now_unix_seconds);
  }
  if (find_param(request.query, "X-Amz-Signature") != nullptr ||
      find_param(request.query, "X-Amz-Credential") != nullptr) {
    return authenticate_presigned(request, store, options, now_unix_seconds);
  }
  if (find_param(request.query, "AWSAccessKeyId") != nullptr ||
      find_param(request.query, "Signature") != nullptr) {
    return authenticate_v2_query(request, store, now_unix_seconds);
  }
  Authenticated anonymous;
  anonymous.identity.principal = "anonymous";
  anonymous.identity.anonymous = true;
  anonymous.payload_hash = std::string(sigv4::kUnsignedPayload);
  return anonymous;
}

}  // namespace vaultaire::s3
