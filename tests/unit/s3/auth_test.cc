#include "s3/auth.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "common/sigv4.h"

namespace vaultaire::s3 {
namespace {

constexpr std::string_view kAccessKey = "AKIDVAULTAIRE";
constexpr std::string_view kSecret = "vaultaire/secret+KEY";
constexpr std::string_view kAmzDate = "20150830T123600Z";
constexpr int64_t kNow = 1'440'938'160;  // 2015-08-30T12:36:00Z, the time of kAmzDate

// What a client signs with: its key, and the scope it believes in.
struct ClientKey {
  std::string access_key = std::string(kAccessKey);
  std::string secret = std::string(kSecret);
  std::string region = "us-east-1";
};

// A GET of an object whose name needs encoding, with the headers an S3 client sends.
RequestFacts get_object() {
  RequestFacts r;
  r.method = "GET";
  r.raw_path = "/photos/my%20cat.jpg";
  r.decoded_path = "/photos/my cat.jpg";
  r.headers = {{"host", "localhost:9000"},
               {"range", "bytes=0-9"},
               {"x-amz-content-sha256", std::string(sigv4::kEmptySha256)},
               {"x-amz-date", std::string(kAmzDate)}};
  return r;
}

std::string signature_of(const RequestFacts& request, const ClientKey& key,
                         std::vector<QueryParam> query, std::vector<std::string> signed_headers,
                         std::string_view payload_hash) {
  const std::string date(kAmzDate.substr(0, 8));
  const sigv4::CanonicalInput in{.method = request.method,
                                 .canonical_uri = sigv4::canonical_uri(request.decoded_path, false),
                                 .query = std::move(query),
                                 .headers = request.headers,
                                 .signed_headers = std::move(signed_headers),
                                 .payload_hash = payload_hash};
  return sigv4::signature(sigv4::signing_key(key.secret, date, key.region, "s3"),
                          sigv4::string_to_sign(kAmzDate, sigv4::scope(date, key.region, "s3"),
                                                sigv4::canonical_request(in)));
}

// Signs in the Authorization header, as an S3 client does: every header present is signed.
void sign_header(RequestFacts& request, const ClientKey& key = {}) {
  std::vector<std::string> names;
  for (const auto& h : request.headers) {
    names.push_back(h.name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string joined;
  for (const auto& n : names) {
    joined.append(joined.empty() ? "" : ";").append(n);
  }
  const auto declared = find_header(request.headers, "x-amz-content-sha256");
  const std::string payload(declared ? *declared : sigv4::kEmptySha256);
  const std::string sig = signature_of(request, key, request.query, names, payload);
  request.headers.push_back(
      {"authorization", "AWS4-HMAC-SHA256 Credential=" + key.access_key + "/" +
                            std::string(kAmzDate.substr(0, 8)) + "/" + key.region +
                            "/s3/aws4_request, SignedHeaders=" + joined + ", Signature=" + sig});
}

// Signs in the query string (a presigned URL), host the only signed header.
void presign(RequestFacts& request, std::string_view expires, const ClientKey& key = {}) {
  request.query.push_back({.name = "X-Amz-Algorithm", .value = "AWS4-HMAC-SHA256"});
  request.query.push_back({.name = "X-Amz-Credential",
                           .value = key.access_key + "/" + std::string(kAmzDate.substr(0, 8)) +
                                    "/" + key.region + "/s3/aws4_request"});
  request.query.push_back({.name = "X-Amz-Date", .value = std::string(kAmzDate)});
  request.query.push_back({.name = "X-Amz-Expires", .value = std::string(expires)});
  request.query.push_back({.name = "X-Amz-SignedHeaders", .value = "host"});
  const std::string sig =
      signature_of(request, key, request.query, {"host"}, sigv4::kUnsignedPayload);
  request.query.push_back({.name = "X-Amz-Signature", .value = sig});
}

// A GET as a browser follows a presigned URL: only a Host header.
RequestFacts presigned_get() {
  RequestFacts r;
  r.method = "GET";
  r.raw_path = "/photos/cat.jpg";
  r.decoded_path = "/photos/cat.jpg";
  r.headers = {{"host", "localhost:9000"}};
  return r;
}

void set_header(RequestFacts& request, std::string_view name, std::string value) {
  for (auto& h : request.headers) {
    if (h.name == name) {
      h.value = std::move(value);
    }
  }
}

class AuthTest : public ::testing::Test {
 protected:
  AuthTest() {
    store_.add({.access_key = std::string(kAccessKey),
                .secret = std::string(kSecret),
                .identity = {.tenant = "acme", .principal = std::string(kAccessKey)}});
  }

  S3Result<Authenticated> authenticate_at(const RequestFacts& request, int64_t now = kNow) const {
    return authenticate(request, store_, options_, now);
  }

  StaticCredentialStore store_;
  AuthOptions options_;
};

TEST_F(AuthTest, HeaderSignedRequestAuthenticatesToKeyIdentity) {
  RequestFacts request = get_object();
  sign_header(request);
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_value()) << result.error().text();
  EXPECT_EQ(result->identity.tenant, "acme");
  EXPECT_EQ(result->identity.principal, kAccessKey);
  EXPECT_FALSE(result->identity.anonymous);
  EXPECT_EQ(result->payload_hash, sigv4::kEmptySha256);
}

// The GET Object example of the S3 documentation, as a client sends it.
TEST_F(AuthTest, AcceptsDocumentedS3Example) {
  store_.add({.access_key = "AKIAIOSFODNN7EXAMPLE",
              .secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
              .identity = {.tenant = "example", .principal = "AKIAIOSFODNN7EXAMPLE"}});
  RequestFacts request;
  request.method = "GET";
  request.raw_path = "/test.txt";
  request.decoded_path = "/test.txt";
  request.headers = {
      {"host", "examplebucket.s3.amazonaws.com"},
      {"authorization",
       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
       "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
      {"range", "bytes=0-9"},
      {"x-amz-content-sha256", std::string(sigv4::kEmptySha256)},
      {"x-amz-date", "20130524T000000Z"}};
  const auto result = authenticate_at(request, 1'369'353'600);  // 2013-05-24T00:00:00Z
  ASSERT_TRUE(result.has_value()) << result.error().text();
  EXPECT_EQ(result->identity.tenant, "example");
}

TEST_F(AuthTest, UnknownAccessKeyIsInvalidAccessKeyId) {
  RequestFacts request = get_object();
  sign_header(request, {.access_key = "AKIDUNKNOWN"});
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kInvalidAccessKeyId);
}

TEST_F(AuthTest, WrongSecretIsSignatureDoesNotMatch) {
  RequestFacts request = get_object();
  sign_header(request, {.secret = "not-the-secret"});
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kSignatureDoesNotMatch);
}

TEST_F(AuthTest, ChangedSignedHeaderIsSignatureDoesNotMatch) {
  RequestFacts request = get_object();
  sign_header(request);
  set_header(request, "range", "bytes=0-99");
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kSignatureDoesNotMatch);
}

TEST_F(AuthTest, UnsignedAmzHeaderIsAccessDenied) {
  RequestFacts request = get_object();
  sign_header(request);
  // Added on the way, after signing: it would change what the request does.
  request.headers.push_back({"x-amz-meta-owner", "mallory"});
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kAccessDenied);
  EXPECT_NE(result.error().text().find("x-amz-meta-owner"), std::string_view::npos);
}

TEST_F(AuthTest, PresignedWrongRegionIsAuthorizationQueryParametersError) {
  RequestFacts request = presigned_get();
  presign(request, "3600", {.region = "eu-west-1"});
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kAuthorizationQueryParametersError);
}

TEST_F(AuthTest, ChangedPathIsSignatureDoesNotMatch) {
  RequestFacts request = get_object();
  sign_header(request);
  request.raw_path = "/photos/my%20dog.jpg";
  request.decoded_path = "/photos/my dog.jpg";
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kSignatureDoesNotMatch);
}

TEST_F(AuthTest, ClockSkewOverFifteenMinutesIsRequestTimeTooSkewed) {
  RequestFacts request = get_object();
  sign_header(request);
  for (const int64_t now : {kNow + 15 * 60 + 1, kNow - 15 * 60 - 1}) {
    SCOPED_TRACE(now - kNow);
    const auto result = authenticate_at(request, now);
    ASSERT_TRUE(result.has_error());
    EXPECT_EQ(result.error().code, S3Code::kRequestTimeTooSkewed);
  }
}

TEST_F(AuthTest, ClockSkewOfFifteenMinutesIsAccepted) {
  RequestFacts request = get_object();
  sign_header(request);
  for (const int64_t now : {kNow + 15 * 60, kNow - 15 * 60, kNow + 15 * 60 - 1}) {
    SCOPED_TRACE(now - kNow);
    const auto result = authenticate_at(request, now);
    EXPECT_TRUE(result.has_value()) << result.error().text();
  }
}

TEST_F(AuthTest, WrongRegionIsAuthorizationHeaderMalformed) {
  RequestFacts request = get_object();
  sign_header(request, {.region = "eu-west-1"});
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kAuthorizationHeaderMalformed);
  EXPECT_NE(result.error().message.find("'eu-west-1' is wrong"), std::string::npos)
      << result.error().message;
}

TEST_F(AuthTest, MissingContentSha256IsInvalidRequest) {
  RequestFacts request = get_object();
  std::erase_if(request.headers,
                [](const sigv4::Header& h) { return h.name == "x-amz-content-sha256"; });
  sign_header(request);
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kInvalidRequest);
}

TEST_F(AuthTest, MalformedAuthorizationIsAuthorizationHeaderMalformed) {
  const std::string sig(64, 'a');
  const std::vector<std::string> malformed = {
      "AWS4-HMAC-SHA512 Credential=AKIDVAULTAIRE/20150830/us-east-1/s3/aws4_request, "
      "SignedHeaders=host, Signature=" +
          sig,
      "AWS4-HMAC-SHA256 Credential=AKIDVAULTAIRE/20150830/us-east-1/s3, SignedHeaders=host, "
      "Signature=" +
          sig,
      "AWS4-HMAC-SHA256 Credential=AKIDVAULTAIRE/20150830/us-east-1/s3/aws4_request, "
      "Signature=" +
          sig,
      "AWS4-HMAC-SHA256 Credential=AKIDVAULTAIRE/20150830/us-east-1/s3/aws4_request, "
      "SignedHeaders=host",
      "AWS4-HMAC-SHA256 Credential=AKIDVAULTAIRE/20150830/us-east-1/s3/aws4_request "
      "SignedHeaders=host Signature=" +
          sig,
      "AWS4-HMAC-SHA256",
  };
  for (const auto& authorization : malformed) {
    SCOPED_TRACE(authorization);
    RequestFacts request = get_object();
    request.headers.push_back({"authorization", authorization});
    const auto result = authenticate_at(request);
    ASSERT_TRUE(result.has_error());
    EXPECT_EQ(result.error().code, S3Code::kAuthorizationHeaderMalformed);
  }
}

TEST_F(AuthTest, PresignedRequestAuthenticatesWithUnsignedPayload) {
  RequestFacts request = presigned_get();
  presign(request, "3600");
  const auto result = authenticate_at(request, kNow + 3000);
  ASSERT_TRUE(result.has_value()) << result.error().text();
  EXPECT_EQ(result->identity.tenant, "acme");
  EXPECT_EQ(result->identity.principal, kAccessKey);
  EXPECT_EQ(result->payload_hash, sigv4::kUnsignedPayload);
}

TEST_F(AuthTest, ExpiredPresignedRequestIsAccessDenied) {
  RequestFacts request = presigned_get();
  presign(request, "60");
  EXPECT_TRUE(authenticate_at(request, kNow + 60).has_value());
  const auto result = authenticate_at(request, kNow + 61);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kAccessDenied);
  EXPECT_EQ(result.error().text(), "Request has expired");
}

TEST_F(AuthTest, PresignedExpiresOutOfRangeIsAuthorizationQueryParametersError) {
  for (const std::string_view expires : {"0", "604801", "-1", "60s", ""}) {
    SCOPED_TRACE(expires);
    RequestFacts request = presigned_get();
    presign(request, expires);
    const auto result = authenticate_at(request);
    ASSERT_TRUE(result.has_error());
    EXPECT_EQ(result.error().code, S3Code::kAuthorizationQueryParametersError);
  }
}

TEST_F(AuthTest, PresignedExpiresOfSevenDaysIsAccepted) {
  RequestFacts request = presigned_get();
  presign(request, "604800");
  const auto result = authenticate_at(request, kNow + 604800);
  EXPECT_TRUE(result.has_value()) << result.error().text();
}

TEST_F(AuthTest, PresignedMissingParameterIsAuthorizationQueryParametersError) {
  for (const std::string_view missing :
       {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
        "X-Amz-Signature"}) {
    SCOPED_TRACE(missing);
    RequestFacts request = presigned_get();
    presign(request, "3600");
    std::erase_if(request.query, [&](const QueryParam& p) { return p.name == missing; });
    const auto result = authenticate_at(request);
    ASSERT_TRUE(result.has_error());
    EXPECT_EQ(result.error().code, S3Code::kAuthorizationQueryParametersError);
  }
}

TEST_F(AuthTest, TamperedPresignedQueryIsSignatureDoesNotMatch) {
  RequestFacts request = presigned_get();
  request.query.push_back({.name = "response-content-type", .value = "image/jpeg"});
  presign(request, "3600");
  ASSERT_TRUE(authenticate_at(request).has_value());
  for (auto& p : request.query) {
    if (p.name == "response-content-type") {
      p.value = "text/html";
    }
  }
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kSignatureDoesNotMatch);
}

TEST_F(AuthTest, PresignedLifetimeExtensionIsSignatureDoesNotMatch) {
  RequestFacts request = presigned_get();
  presign(request, "60");
  for (auto& p : request.query) {
    if (p.name == "X-Amz-Expires") {
      p.value = "604800";
    }
  }
  const auto result = authenticate_at(request, kNow + 3600);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kSignatureDoesNotMatch);
}

TEST_F(AuthTest, RequestWithoutAuthenticationIsAnonymous) {
  const RequestFacts request = presigned_get();
  const auto result = authenticate_at(request);
  ASSERT_TRUE(result.has_value()) << result.error().text();
  EXPECT_TRUE(result->identity.anonymous);
  EXPECT_EQ(result->identity.principal, "anonymous");
  EXPECT_EQ(result->identity.tenant, "");
}

}  // namespace
}  // namespace vaultaire::s3
