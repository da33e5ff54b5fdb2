#include "common/utf8.h"

#include <gtest/gtest.h>

namespace vaultaire {
namespace {

TEST(Utf8Test, AcceptsEveryLengthOfSequence) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii\t\x01"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82 \xf4\x8f\xbf\xbf"));
  EXPECT_EQ(utf8_sequence_length("a"), 1u);
  EXPECT_EQ(utf8_sequence_length("\xc3\xa9"), 2u);
  EXPECT_EQ(utf8_sequence_length("\xe6\x97\xa5"), 3u);
  EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x99\x82"), 4u);
}

TEST(Utf8Test, RefusesWhatRfc3629Forbids) {
  for (const char* bad : {
           "\x80",              // a continuation byte alone
           "\xe9",              // Latin-1
           "\xc0\xaf",          // overlong '/'
           "\xe0\x80\xaf",      // overlong, three bytes
           "\xed\xa0\x80",      // a surrogate
           "\xf4\x90\x80\x80",  // past U+10FFFF
           "\xf5\x80\x80\x80",  // no such lead byte
           "\xe6\x97",          // cut short
       }) {
    EXPECT_FALSE(is_valid_utf8(bad)) << bad;
    EXPECT_EQ(utf8_sequence_length(bad), 0u) << bad;
  }
}

TEST(Utf8Test, ReplacesEachStrayByteWithTheReplacementCharacter) {
  EXPECT_EQ(to_valid_utf8("caf\xe9!"), "caf\xef\xbf\xbd!");
  EXPECT_EQ(to_valid_utf8("\xe6\x97 \xe6\x97\xa5"), "\xef\xbf\xbd\xef\xbf\xbd \xe6\x97\xa5");
  EXPECT_EQ(to_valid_utf8("fine \xf0\x9f\x99\x82"), "fine \xf0\x9f\x99\x82");
  EXPECT_TRUE(is_valid_utf8(to_valid_utf8("\xff\xfe\xc0\x80\xed\xbf\xbf")));
}

}  // namespace
}  // namespace vaultaire
