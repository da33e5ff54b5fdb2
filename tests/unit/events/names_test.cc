#include "events/names.h"

#include <gtest/gtest.h>

namespace vaultaire::events {
namespace {

TEST(NamesTest, ValidContainerNamesFollowS3BucketRules) {
  for (const std::string ok : {"abc", "my-bucket", "my.bucket.01", "0abc"}) {
    EXPECT_TRUE(is_valid_container_name(ok)) << ok;
  }
  EXPECT_TRUE(is_valid_container_name(std::string(63, 'a')));
}

TEST(NamesTest, InvalidContainerNamesAreRefused) {
  for (const char* bad :
       {"ab", "UPPER", "has_underscore", "-start", "end-", "a..b", "a.-b", "a-.b", "192.168.1.1",
        "xn--abc", "sthree-x", "abc-s3alias", "abc--ol-s3", "sp ace", ""}) {
    EXPECT_FALSE(is_valid_container_name(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_container_name(std::string(64, 'a')));
}

TEST(NamesTest, PathsAreNonEmptyUtf8UpTo1024Bytes) {
  EXPECT_TRUE(is_valid_path("a"));
  EXPECT_TRUE(is_valid_path("dir/with space/+%/\xe2\x82\xac/line\nbreak"));
  EXPECT_TRUE(is_valid_path(std::string(1024, 'k')));
  EXPECT_FALSE(is_valid_path(""));
  EXPECT_FALSE(is_valid_path(std::string(1025, 'k')));
  EXPECT_FALSE(is_valid_path("bad\xff"));
  EXPECT_FALSE(is_valid_path("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(is_valid_path("\xed\xa0\x80"));  // a surrogate
  EXPECT_FALSE(is_valid_path("cut\xe2\x82"));   // truncated sequence
}

}  // namespace
}  // namespace vaultaire::events
