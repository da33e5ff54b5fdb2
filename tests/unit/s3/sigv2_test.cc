#include "s3/sigv2.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "s3/auth.h"
#include "common/sigv4.h"
#include "common/uri.h"

namespace vaultaire::s3::sigv2 {
namespace {

// The credentials of the examples in "Signing and authenticating REST requests (AWS signature
// version 2)" of the S3 documentation.
constexpr std::string_view kDocKey = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kDocSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

// A request as the server sees it: the target as sent, split and decoded as s3_service does.
RequestFacts request(std::string_view method, std::string_view target,
                     std::vector<sigv4::Header> headers) {
  const Target parts = split_target(target);
  RequestFacts r;
  r.method = std::string(method);
  r.raw_path = std::string(parts.path);
  r.decoded_path = uri_decode(parts.path, false).value();
  r.query = parse_query(parts.query).value();
  r.headers = std::move(headers);
  return r;
}

std::string string_to_sign_of(const RequestFacts& r, std::string_view date) {
  return string_to_sign(r.method, r.headers, date, canonical_resource(r.raw_path, r.query));
}

// One example of the documentation: the request in path-style form (the canonical resource of
// a virtual-hosted request names its bucket first, which makes it the path-style path), what
// stands in the Date position, and the published string to sign and signature.
struct DocExample {
  std::string name;
  std::string method;
  std::string target;
  std::vector<sigv4::Header> headers;
  std::string date;
  std::string string_to_sign;
  std::string signature;
};

// The current edition of the page names the bucket awsexamplebucket1; the examples it did not
// re-sign keep the signatures of the earlier edition, computed for the bucket johnsmith, and
// are used in that form. (The Delete example is left out: its string to sign puts x-amz-date in
// the Date position, against the page's own rule that Date is then empty.)
std::vector<DocExample> doc_examples() {
  return {
      {"ObjectGet",
       "GET",
       "/awsexamplebucket1/photos/puppy.jpg",
       {{"host", "s3.us-west-1.amazonaws.com"}, {"date", "Tue, 27 Mar 2007 19:36:42 +0000"}},
       "Tue, 27 Mar 2007 19:36:42 +0000",
       "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg",
       "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="},
      {"ObjectGetFirstEdition",
       "GET",
       "/johnsmith/photos/puppy.jpg",
       {{"host", "s3.amazonaws.com"}, {"date", "Tue, 27 Mar 2007 19:36:42 +0000"}},
       "Tue, 27 Mar 2007 19:36:42 +0000",
       "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg",
       "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
      {"ObjectPut",
       "PUT",
       "/awsexamplebucket1/photos/puppy.jpg",
       {{"content-type", "image/jpeg"},
        {"content-length", "94328"},
        {"host", "s3.us-west-1.amazonaws.com"},
        {"date", "Tue, 27 Mar 2007 21:15:45 +0000"}},
       "Tue, 27 Mar 2007 21:15:45 +0000",
       "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg",
       "iqRzw+ileNPu1fhspnRs8nOjjIA="},
      {"List",
       "GET",
       "/awsexamplebucket1/?prefix=photos&max-keys=50&marker=puppy",
       {{"user-agent", "Mozilla/5.0"},
        {"host", "s3.us-west-1.amazonaws.com"},
        {"date", "Tue, 27 Mar 2007 19:42:41 +0000"}},
       "Tue, 27 Mar 2007 19:42:41 +0000",
       "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/",
       "m0WP8eCtspQl5Ahe6L1SozdX9YA="},
      {"FetchAcl",
       "GET",
       "/awsexamplebucket1/?acl",
       {{"host", "s3.us-west-1.amazonaws.com"}, {"date", "Tue, 27 Mar 2007 19:44:46 +0000"}},
       "Tue, 27 Mar 2007 19:44:46 +0000",
       "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl",
       "82ZHiFIjc+WbcwFKGUVEQspPn+0="},
      {"UploadWithMetadata",
       "PUT",
       "/static.johnsmith.net/db-backup.dat.gz",
       {{"User-Agent", "curl/7.15.5"},
        {"Host", "s3.amazonaws.com"},
        {"Date", "Tue, 27 Mar 2007 21:06:08 +0000"},
        {"x-amz-acl", "public-read"},
        {"content-type", "application/x-download"},
        {"Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="},
        {"X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"},
        {"X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"},
        {"X-Amz-Meta-FileChecksum", "0x02661779"},
        {"X-Amz-Meta-ChecksumAlgorithm", "crc32"},
        {"Content-Disposition", "attachment; filename=database.dat"},
        {"Content-Encoding", "gzip"},
        {"Content-Length", "5913339"}},
       "Tue, 27 Mar 2007 21:06:08 +0000",
       "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n"
       "x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\n"
       "x-amz-meta-filechecksum:0x02661779\n"
       "x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n"
       "/static.johnsmith.net/db-backup.dat.gz",
       "ilyl83RwaSoYIEdixDQcA4OnAnc="},
      {"ListAllMyBuckets",
       "GET",
       "/",
       {{"host", "s3.us-west-1.amazonaws.com"}, {"date", "Wed, 28 Mar 2007 01:29:59 +0000"}},
       "Wed, 28 Mar 2007 01:29:59 +0000",
       "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
       "qGdzdERIC03wnaRNKh6OqZehG9s="},
      {"UnicodeKeysSignedAsSent",
       "GET",
       "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
       {{"host", "s3.us-west-1.amazonaws.com"}, {"date", "Wed, 28 Mar 2007 01:49:49 +0000"}},
       "Wed, 28 Mar 2007 01:49:49 +0000",
       "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
       "DNEZGsoieTZ92F3bUfSPQcbGmlM="},
      {"QueryString",
       "GET",
       "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&"
       "Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
       {{"host", "s3.amazonaws.com"}},
       "1175139620",
       "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg",
       "NpgCjnDzrM+WFzoENXmpNDUsSn8="},
  };
}

class Sigv2DocExampleTest : public testing::TestWithParam<DocExample> {};

TEST_P(Sigv2DocExampleTest, ReproducesPublishedStringToSignAndSignature) {
  const DocExample& ex = GetParam();
  const RequestFacts r = request(ex.method, ex.target, ex.headers);
  const std::string sts = string_to_sign_of(r, ex.date);
  EXPECT_EQ(sts, ex.string_to_sign);
  EXPECT_EQ(signature(kDocSecret, sts), ex.signature);
}

INSTANTIATE_TEST_SUITE_P(AwsDocumentation, Sigv2DocExampleTest, testing::ValuesIn(doc_examples()),
                         [](const testing::TestParamInfo<DocExample>& info) {
                           return info.param.name;
                         });

TEST(Sigv2Test, CanonicalResourceNamesSignedSubresourcesSortedWithDecodedValues) {
  const RequestFacts r = request(
      "PUT", "/bucket/my%20key?uploadId=a%2Fb%2Bc&max-keys=5&partNumber=2&prefix=x&acl", {});
  EXPECT_EQ(canonical_resource(r.raw_path, r.query),
            "/bucket/my%20key?acl&partNumber=2&uploadId=a/b+c");
}

TEST(Sigv2Test, CanonicalResourceSignsResponseOverridesUnencoded) {
  const RequestFacts r =
      request("GET",
              "/b/k?response-content-type=text%2Fplain&versionId=3&"
              "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22",
              {});
  EXPECT_EQ(canonical_resource(r.raw_path, r.query),
            "/b/k?response-content-disposition=attachment; filename=\"a b.txt\"&"
            "response-content-type=text/plain&versionId=3");
}

TEST(Sigv2Test, CanonicalResourceKeepsWhetherAParameterHadAValue) {
  EXPECT_EQ(canonical_resource("/b", request("GET", "/b?acl", {}).query), "/b?acl");
  EXPECT_EQ(canonical_resource("/b", request("GET", "/b?acl=", {}).query), "/b?acl=");
  EXPECT_EQ(canonical_resource("/b", request("GET", "/b?delete&tagging", {}).query),
            "/b?delete&tagging");
}

TEST(Sigv2Test, CanonicalResourceIgnoresOtherParameters) {
  const RequestFacts r = request("GET", "/b/?list-type=2&prefix=a&Acl&ACL=1&X-Amz-Date=x", {});
  EXPECT_EQ(canonical_resource(r.raw_path, r.query), "/b/");
}

TEST(Sigv2Test, SignedSubresourcesAreTheDocumentedOnes) {
  for (const char* name : {"acl",
                           "cors",
                           "delete",
                           "lifecycle",
                           "location",
                           "logging",
                           "notification",
                           "partNumber",
                           "policy",
                           "requestPayment",
                           "restore",
                           "tagging",
                           "torrent",
                           "uploadId",
                           "uploads",
                           "versionId",
                           "versioning",
                           "versions",
                           "website",
                           "response-content-type",
                           "response-content-language",
                           "response-expires",
                           "response-cache-control",
                           "response-content-disposition",
                           "response-content-encoding"}) {
    EXPECT_TRUE(is_signed_subresource(name)) << name;
  }
  for (const char* name : {"prefix", "marker", "max-keys", "list-type", "delimiter", "uploadid",
                           "versionid", "Signature", "Expires", "AWSAccessKeyId", ""}) {
    EXPECT_FALSE(is_signed_subresource(name)) << name;
  }
}

TEST(Sigv2Test, AmzHeadersLowercasedSortedJoinedAndTrimmed) {
  const std::vector<sigv4::Header> headers = {
      {"X-Amz-Meta-B", " two "},
      {"x-amz-meta-a", "1"},
      {"content-type", "text/plain"},
      {"X-AMZ-META-B", "three"},
      {"x-amz-meta-c", "folded\r\n   value"},
      {"x-amz-meta-d", "a  b"},
      {"x-amzfake", "no"},
  };
  EXPECT_EQ(canonical_amz_headers(headers),
            "x-amz-meta-a:1\nx-amz-meta-b:two,three\nx-amz-meta-c:folded value\n"
            "x-amz-meta-d:a  b\n");
  EXPECT_EQ(canonical_amz_headers({{"host", "h"}, {"date", "d"}}), "");
}

TEST(Sigv2Test, StringToSignWithXAmzDateHasEmptyDate) {
  // The caller puts "" in the Date position when x-amz-date is present; it signs as a header.
  const RequestFacts r = request("DELETE", "/awsexamplebucket1/photos/puppy.jpg",
                                 {{"user-agent", "dotnet"},
                                  {"date", "Tue, 27 Mar 2007 21:20:27 +0000"},
                                  {"x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"}});
  EXPECT_EQ(string_to_sign_of(r, ""),
            "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n"
            "/awsexamplebucket1/photos/puppy.jpg");
}

TEST(Sigv2Test, ParsesAuthorizationHeader) {
  const auto a = parse_authorization("AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->access_key, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(a->signature, "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
  for (const char* malformed :
       {"", "AWS", "AWS ", "AWS HAHAHA", "AWS AKID:", "AWS :sig", "AWS  AKID:sig", "AWS AKID: sig",
        "AWS AKID:sig extra", "AWS AKID:si:g", "aws AKID:sig", "AWS4-HMAC-SHA256 Credential=x"}) {
    EXPECT_FALSE(parse_authorization(malformed).has_value()) << malformed;
  }
}

// --- authenticate() with Signature Version 2 ---------------------------------------------------

constexpr std::string_view kAccessKey = "AKIDVAULTAIRE";
constexpr std::string_view kSecret = "vaultaire/secret+KEY";
constexpr std::string_view kDate = "Sun, 30 Aug 2015 12:36:00 GMT";
constexpr int64_t kNow = 1'440'938'160;  // 2015-08-30T12:36:00Z, the time of kDate

// Signs in the Authorization header as an old client does, over what the server will see.
void sign_header(RequestFacts& r, std::string_view access_key = kAccessKey,
                 std::string_view secret = kSecret) {
  const bool amz_date = find_header(r.headers, "x-amz-date").has_value();
  const auto date = find_header(r.headers, "date");
  const std::string sig =
      signature(secret, string_to_sign_of(r, amz_date || !date ? "" : std::string(*date)));
  r.headers.push_back({"authorization", "AWS " + std::string(access_key) + ":" + sig});
}

// A PUT of an object whose name needs encoding, with the headers s3cmd sends.
RequestFacts put_object() {
  return request("PUT", "/photos/my%20cat.jpg",
                 {{"host", "localhost:9000"},
                  {"content-type", "image/jpeg"},
                  {"content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
                  {"content-length", "0"},
                  {"x-amz-meta-owner", "vaultaire"},
                  {"date", std::string(kDate)}});
}

void set_header(RequestFacts& r, std::string_view name, std::string value) {
  for (auto& h : r.headers) {
    if (h.name == name) {
      h.value = std::move(value);
    }
  }
}

class Sigv2AuthTest : public testing::Test {
 protected:
  Sigv2AuthTest() {
    store_.add({.access_key = std::string(kAccessKey),
                .secret = std::string(kSecret),
                .identity = {.tenant = "acme", .principal = std::string(kAccessKey)}});
    store_.add({.access_key = std::string(kDocKey),
                .secret = std::string(kDocSecret),
                .identity = {.tenant = "example", .principal = std::string(kDocKey)}});
  }

  S3Result<Authenticated> authenticate_at(const RequestFacts& r, int64_t now = kNow) const {
    return authenticate(r, store_, options_, now);
  }

  void expect_error(const RequestFacts& r, S3Code code, int64_t now = kNow) const {
    const auto result = authenticate_at(r, now);
    ASSERT_TRUE(result.has_error());
    EXPECT_EQ(result.error().code, code) << result.error().text();
  }

  StaticCredentialStore store_;
  AuthOptions options_;
};

TEST_F(Sigv2AuthTest, HeaderSignedRequestAuthenticatesToKeyIdentity) {
  RequestFacts r = put_object();
  sign_header(r);
  const auto result = authenticate_at(r);
  ASSERT_TRUE(result.has_value()) << result.error().text();
  EXPECT_EQ(result->identity.tenant, "acme");
  EXPECT_EQ(result->identity.principal, kAccessKey);
  EXPECT_FALSE(result->identity.anonymous);
  EXPECT_EQ(result->payload_hash, sigv4::kUnsignedPayload);
}

TEST_F(Sigv2AuthTest, AcceptsDocumentedExamplesAsSent) {
  RequestFacts get =
      request("GET", "/awsexamplebucket1/photos/puppy.jpg",
              {{"host", "s3.us-west-1.amazonaws.com"},
               {"date", "Tue, 27 Mar 2007 19:36:42 +0000"},
               {"authorization", "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g="}});
  const auto result = authenticate_at(get, 1'175'024'202);
  ASSERT_TRUE(result.has_value()) << result.error().text();
  EXPECT_EQ(result->identity.tenant, "example");

  RequestFacts query = request("GET",
                               "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&"
                               "Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
                               {{"host", "s3.amazonaws.com"}});
  const auto presigned = authenticate_at(query, 1'175'139'620);
  ASSERT_TRUE(presigned.has_value()) << presigned.error().text();
  EXPECT_EQ(presigned->identity.tenant, "example");
  EXPECT_EQ(presigned->payload_hash, sigv4::kUnsignedPayload);
}

TEST_F(Sigv2AuthTest, WrongSecretIsSignatureDoesNotMatch) {
  RequestFacts r = put_object();
  sign_header(r, kAccessKey, "not-the-secret");
  expect_error(r, S3Code::kSignatureDoesNotMatch);
}

TEST_F(Sigv2AuthTest, UnknownAccessKeyIsInvalidAccessKeyId) {
  RequestFacts r = put_object();
  sign_header(r, "AKIDUNKNOWN");
  expect_error(r, S3Code::kInvalidAccessKeyId);
}

TEST_F(Sigv2AuthTest, MalformedAuthorizationIsInvalidArgument) {
  for (const char* authorization : {"AWS HAHAHA", "AWS  AKIDVAULTAIRE:c2ln", "AWS :c2ln"}) {
    RequestFacts r = put_object();
    r.headers.push_back({"authorization", authorization});
    SCOPED_TRACE(authorization);
    expect_error(r, S3Code::kInvalidArgument);
  }
}

TEST_F(Sigv2AuthTest, ChangedSignedPartsAreSignatureDoesNotMatch) {
  const auto tampered = [&](auto change) {
    RequestFacts r = put_object();
    sign_header(r);
    change(r);
    expect_error(r, S3Code::kSignatureDoesNotMatch);
  };
  tampered([](RequestFacts& r) { r.method = "DELETE"; });
  tampered([](RequestFacts& r) { r.raw_path = "/photos/my%20dog.jpg"; });
  tampered([](RequestFacts& r) { set_header(r, "content-type", "text/html"); });
  tampered([](RequestFacts& r) { set_header(r, "content-md5", "XrY7u+Ae7tCTyyK7j1rNww=="); });
  tampered([](RequestFacts& r) { set_header(r, "x-amz-meta-owner", "mallory"); });
  tampered([](RequestFacts& r) { r.headers.push_back({"x-amz-acl", "public-read"}); });
  tampered([](RequestFacts& r) { set_header(r, "date", "Sun, 30 Aug 2015 12:36:01 GMT"); });
}

TEST_F(Sigv2AuthTest, SubresourceChangesCanonicalResource) {
  RequestFacts r = request("GET", "/photos/?acl", {{"date", std::string(kDate)}});
  sign_header(r);
  EXPECT_TRUE(authenticate_at(r).has_value());

  RequestFacts other = r;
  other.query = parse_query("acl&versionId=7").value();
  expect_error(other, S3Code::kSignatureDoesNotMatch);
  other.query = parse_query("policy").value();
  expect_error(other, S3Code::kSignatureDoesNotMatch);
  // Parameters that are not sub-resources are outside the signature, as in S3.
  other.query = parse_query("acl&max-keys=5").value();
  EXPECT_TRUE(authenticate_at(other).has_value());
}

TEST_F(Sigv2AuthTest, BucketSignedWithTrailingSlashIsAccepted) {
  // botocore sends PUT /photos and signs the resource "/photos/".
  const auto signed_as = [](std::string_view method, std::string_view sent,
                            std::string_view resource) {
    RequestFacts r = request(method, sent, {{"date", std::string(kDate)}});
    const std::string sig =
        signature(kSecret, string_to_sign(r.method, r.headers, kDate, resource));
    r.headers.push_back({"authorization", "AWS AKIDVAULTAIRE:" + sig});
    return r;
  };
  EXPECT_TRUE(authenticate_at(signed_as("PUT", "/photos", "/photos/")).has_value());
  EXPECT_TRUE(authenticate_at(signed_as("GET", "/photos?acl", "/photos/?acl")).has_value());
  // Only a bucket's path: an object's resource is signed as sent.
  expect_error(signed_as("GET", "/photos/cat.jpg", "/photos/cat.jpg/"),
               S3Code::kSignatureDoesNotMatch);
  expect_error(signed_as("GET", "/", "//"), S3Code::kSignatureDoesNotMatch);
}

TEST_F(Sigv2AuthTest, XAmzDateTimesTheRequestAndDateSignsEmpty) {
  // s3cmd's form: x-amz-date with a numeric zone, no Date; a stale Date is ignored.
  RequestFacts r = request("GET", "/photos/cat.jpg",
                           {{"host", "localhost:9000"},
                            {"date", "Thu, 01 Jan 2015 00:00:00 GMT"},
                            {"x-amz-date", "Sun, 30 Aug 2015 12:36:00 +0000"}});
  sign_header(r);
  EXPECT_TRUE(authenticate_at(r).has_value());

  // Signed with Date in the Date position: not what S3 expects when x-amz-date is present.
  RequestFacts with_date = request(
      "GET", "/photos/cat.jpg", {{"date", std::string(kDate)}, {"x-amz-date", std::string(kDate)}});
  const std::string sig = signature(kSecret, string_to_sign_of(with_date, kDate));
  with_date.headers.push_back({"authorization", "AWS AKIDVAULTAIRE:" + sig});
  expect_error(with_date, S3Code::kSignatureDoesNotMatch);
}

TEST_F(Sigv2AuthTest, MissingOrInvalidDateIsAccessDenied) {
  for (const auto& headers : std::vector<std::vector<sigv4::Header>>{
           {},
           {{"date", "yesterday"}},
           {{"x-amz-date", "Bad Date"}},
           {{"x-amz-date", ""}, {"date", std::string(kDate)}},
           {{"x-amz-date", "20150830T123600Z"}},
           {{"x-amz-date", "Tue, 07 Jul 1950 21:53:04 GMT"}},
       }) {
    RequestFacts r = request("PUT", "/photos/cat.jpg", headers);
    sign_header(r);
    expect_error(r, S3Code::kAccessDenied);
  }
}

TEST_F(Sigv2AuthTest, ClockSkewOverFifteenMinutesIsRequestTimeTooSkewed) {
  for (const char* name : {"date", "x-amz-date"}) {
    RequestFacts r = request("GET", "/photos/cat.jpg", {{name, std::string(kDate)}});
    sign_header(r);
    SCOPED_TRACE(name);
    expect_error(r, S3Code::kRequestTimeTooSkewed, kNow + 15 * 60 + 1);
    expect_error(r, S3Code::kRequestTimeTooSkewed, kNow - 15 * 60 - 1);
    EXPECT_TRUE(authenticate_at(r, kNow + 15 * 60).has_value());
    EXPECT_TRUE(authenticate_at(r, kNow - 15 * 60).has_value());
  }
}

// --- query-string form ---

constexpr int64_t kExpires = kNow + 3600;

// Adds AWSAccessKeyId, Expires and Signature to a request, as a client presigning a URL does.
RequestFacts presign(RequestFacts r, std::string_view access_key = kAccessKey,
                     std::string_view secret = kSecret) {
  const std::string expires = std::to_string(kExpires);
  const std::string sig = signature(secret, string_to_sign_of(r, expires));
  r.query.push_back({.name = "AWSAccessKeyId", .value = std::string(access_key)});
  r.query.push_back({.name = "Expires", .value = expires});
  r.query.push_back({.name = "Signature", .value = sig});
  return r;
}

// A presigned GET, as a browser follows it: only a Host header.
RequestFacts presigned_get(std::string_view access_key = kAccessKey,
                           std::string_view secret = kSecret) {
  return presign(request("GET", "/photos/my%20cat.jpg?response-content-type=image%2Fjpeg",
                         {{"host", "localhost:9000"}}),
                 access_key, secret);
}

TEST_F(Sigv2AuthTest, PresignedRequestAuthenticatesUntilExpires) {
  const RequestFacts r = presigned_get();
  for (const int64_t now : {kNow, kExpires}) {
    const auto result = authenticate_at(r, now);
    ASSERT_TRUE(result.has_value()) << result.error().text();
    EXPECT_EQ(result->identity.tenant, "acme");
    EXPECT_EQ(result->payload_hash, sigv4::kUnsignedPayload);
  }
  // Date headers do not matter to a presigned URL: no clock-skew check.
  RequestFacts old = r;
  old.headers.push_back({"date", "Thu, 01 Jan 2015 00:00:00 GMT"});
  EXPECT_TRUE(authenticate_at(old).has_value());
}

TEST_F(Sigv2AuthTest, ExpiredPresignedRequestIsAccessDenied) {
  const auto result = authenticate_at(presigned_get(), kExpires + 1);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().code, S3Code::kAccessDenied);
  EXPECT_EQ(result.error().text(), "Request has expired");
}

TEST_F(Sigv2AuthTest, PresignedErrors) {
  expect_error(presigned_get("AKIDUNKNOWN"), S3Code::kInvalidAccessKeyId);
  expect_error(presigned_get(kAccessKey, "not-the-secret"), S3Code::kSignatureDoesNotMatch);

  RequestFacts later = presigned_get();
  for (auto& p : later.query) {
    if (p.name == "Expires") {
      p.value = std::to_string(kExpires + 3600);  // a longer life than was signed
    }
  }
  expect_error(later, S3Code::kSignatureDoesNotMatch);

  RequestFacts other_type = presigned_get();
  other_type.query[0].value = "text/html";  // response-content-type is signed
  expect_error(other_type, S3Code::kSignatureDoesNotMatch);

  for (const char* dropped : {"AWSAccessKeyId", "Expires", "Signature"}) {
    RequestFacts r = presigned_get();
    std::erase_if(r.query, [&](const QueryParam& p) { return p.name == dropped; });
    SCOPED_TRACE(dropped);
    expect_error(r, S3Code::kAccessDenied);
  }
  for (const char* expires : {"", "soon", "1e9", "+1440941760"}) {
    RequestFacts r = presigned_get();
    for (auto& p : r.query) {
      if (p.name == "Expires") {
        p.value = expires;
      }
    }
    SCOPED_TRACE(expires);
    expect_error(r, S3Code::kAccessDenied);
  }
}

TEST_F(Sigv2AuthTest, PresignedSignatureWithUnescapedPlusIsAccepted) {
  // A client that leaves the signature's '+' unescaped sends what the query decodes as a space.
  for (int n = 0; n < 100; ++n) {
    RequestFacts r = presign(
        request("GET", "/photos/cat-" + std::to_string(n) + ".jpg", {{"host", "localhost:9000"}}));
    std::string& sig = r.query.back().value;
    if (sig.find('+') == std::string::npos) {
      continue;
    }
    std::replace(sig.begin(), sig.end(), '+', ' ');
    const auto result = authenticate_at(r);
    EXPECT_TRUE(result.has_value()) << result.error().text();
    return;
  }
  ADD_FAILURE() << "no signature with a '+' in 100 tries";
}

}  // namespace
}  // namespace vaultaire::s3::sigv2
