#include "common/uri.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace vaultaire {
namespace {

TEST(UriTest, EncodeKeepsUnreservedCharacters) {
  const std::string unreserved =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
  EXPECT_EQ(uri_encode(unreserved, false), unreserved);
  EXPECT_EQ(uri_encode(unreserved, true), unreserved);
  EXPECT_EQ(uri_encode("", false), "");
}

TEST(UriTest, EncodeKeepsSlashOnlyWhenAsked) {
  EXPECT_EQ(uri_encode("a/b/", true), "a/b/");
  EXPECT_EQ(uri_encode("a/b/", false), "a%2Fb%2F");
}

TEST(UriTest, EncodeEscapesReservedCharactersInUppercaseHex) {
  EXPECT_EQ(uri_encode("a b", true), "a%20b");
  EXPECT_EQ(uri_encode("a+b", true), "a%2Bb");
  EXPECT_EQ(uri_encode("%=&?#:*", false), "%25%3D%26%3F%23%3A%2A");
  EXPECT_EQ(uri_encode(std::string("\0\x7f", 2), false), "%00%7F");
}

TEST(UriTest, EncodeEscapesEachUtf8Byte) {
  EXPECT_EQ(uri_encode("\xe1\x88\xb4", false), "%E1%88%B4");  // U+1234
  EXPECT_EQ(uri_encode("caf\xc3\xa9/x", true), "caf%C3%A9/x");
}

TEST(UriTest, DecodeResolvesEscapesInEitherCase) {
  EXPECT_EQ(uri_decode("a%20b%2Fc", false).value(), "a b/c");
  EXPECT_EQ(uri_decode("%e1%88%B4", false).value(), "\xe1\x88\xb4");
  EXPECT_EQ(uri_decode("%00", false).value(), std::string(1, '\0'));
  EXPECT_EQ(uri_decode("", false).value(), "");
  EXPECT_EQ(uri_decode("%41", false).value(), "A");
}

TEST(UriTest, DecodeRejectsMalformedEscapes) {
  for (const char* s : {"%", "%4", "%zz", "%4g", "%g4", "a%", "a%2", "%%41"}) {
    SCOPED_TRACE(s);
    EXPECT_FALSE(uri_decode(s, false).has_value());
    EXPECT_FALSE(uri_decode(s, true).has_value());
  }
}

TEST(UriTest, DecodeTurnsPlusIntoSpaceOnlyWhenAsked) {
  EXPECT_EQ(uri_decode("a+b", true).value(), "a b");
  EXPECT_EQ(uri_decode("a+b", false).value(), "a+b");
  EXPECT_EQ(uri_decode("a%2Bb", true).value(), "a+b");
}

TEST(UriTest, ParseQueryKeepsRepeatedNamesInOrder) {
  const auto query = parse_query("tag=b&tag=a&x=1");
  ASSERT_TRUE(query.has_value());
  ASSERT_EQ(query->size(), 3u);
  EXPECT_EQ((*query)[0].name, "tag");
  EXPECT_EQ((*query)[0].value, "b");
  EXPECT_EQ((*query)[1].name, "tag");
  EXPECT_EQ((*query)[1].value, "a");
  EXPECT_EQ((*query)[2].name, "x");
  EXPECT_EQ((*query)[2].value, "1");
}

TEST(UriTest, ParseQueryMarksNameWithoutEquals) {
  const auto query = parse_query("acl&prefix=");
  ASSERT_TRUE(query.has_value());
  ASSERT_EQ(query->size(), 2u);
  EXPECT_EQ((*query)[0].name, "acl");
  EXPECT_EQ((*query)[0].value, "");
  EXPECT_TRUE((*query)[0].no_value);
  EXPECT_EQ((*query)[1].name, "prefix");
  EXPECT_EQ((*query)[1].value, "");
  EXPECT_FALSE((*query)[1].no_value);
}

TEST(UriTest, ParseQuerySkipsEmptyParts) {
  const auto query = parse_query("&&a=1&&b=2&");
  ASSERT_TRUE(query.has_value());
  ASSERT_EQ(query->size(), 2u);
  EXPECT_EQ((*query)[0].name, "a");
  EXPECT_EQ((*query)[1].name, "b");
  EXPECT_TRUE(parse_query("").value().empty());
  EXPECT_TRUE(parse_query("&").value().empty());
}

TEST(UriTest, ParseQueryDecodesNamesAndValues) {
  const auto query = parse_query("key%20name=x%20y+z&plus=%2B&eq=a%3Db=c");
  ASSERT_TRUE(query.has_value());
  ASSERT_EQ(query->size(), 3u);
  EXPECT_EQ((*query)[0].name, "key name");
  EXPECT_EQ((*query)[0].value, "x y z");
  EXPECT_EQ((*query)[1].name, "plus");
  EXPECT_EQ((*query)[1].value, "+");
  // Only the first '=' separates; the rest belongs to the value.
  EXPECT_EQ((*query)[2].name, "eq");
  EXPECT_EQ((*query)[2].value, "a=b=c");
}

TEST(UriTest, ParseQueryRejectsMalformedEscape) {
  EXPECT_FALSE(parse_query("a=%zz").has_value());
  EXPECT_FALSE(parse_query("%4=1").has_value());
  EXPECT_FALSE(parse_query("ok=1&bad%").has_value());
}

TEST(UriTest, SplitTargetSeparatesPathAndQuery) {
  const Target plain = split_target("/bucket/key");
  EXPECT_EQ(plain.path, "/bucket/key");
  EXPECT_EQ(plain.query, "");

  const Target with_query = split_target("/bucket/a%20b?list-type=2&prefix=x");
  EXPECT_EQ(with_query.path, "/bucket/a%20b");
  EXPECT_EQ(with_query.query, "list-type=2&prefix=x");

  const Target empty_query = split_target("/bucket?");
  EXPECT_EQ(empty_query.path, "/bucket");
  EXPECT_EQ(empty_query.query, "");

  // Only the first '?' separates: a later one is part of the query.
  const Target two = split_target("/b?x=1?2");
  EXPECT_EQ(two.path, "/b");
  EXPECT_EQ(two.query, "x=1?2");
}

}  // namespace
}  // namespace vaultaire
