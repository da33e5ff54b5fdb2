#include "vaultctl/event_commands.h"

#include <cstdint>
#include <filesystem>

#include <gtest/gtest.h>

namespace vaultaire::vaultctl {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kNov21 = 1'795'219'200 * kSecond;  // 2026-11-21T00:00:00Z

TEST(ParseTimeArgTest, DateCoversTheWholeDay) {
  const auto span = parse_time_arg("2026-11-21");
  ASSERT_TRUE(span);
  EXPECT_EQ(span->first, kNov21);
  EXPECT_EQ(span->last, kNov21 + 86400 * kSecond - 1);
}

TEST(ParseTimeArgTest, SpanFollowsThePrecisionWritten) {
  const int64_t ten = kNov21 + 10 * 3600 * kSecond;
  auto minute = parse_time_arg("2026-11-21T10:00Z");
  ASSERT_TRUE(minute);
  EXPECT_EQ(minute->first, ten);
  EXPECT_EQ(minute->last, ten + 60 * kSecond - 1);

  auto second = parse_time_arg("2026-11-21T10:00:07Z");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->first, ten + 7 * kSecond);
  EXPECT_EQ(second->last, ten + 8 * kSecond - 1);

  auto milli = parse_time_arg("2026-11-21T10:00:07.123Z");
  ASSERT_TRUE(milli);
  EXPECT_EQ(milli->first, ten + 7 * kSecond + 123'000'000);
  EXPECT_EQ(milli->last, ten + 7 * kSecond + 123'999'999);

  auto nano = parse_time_arg("2026-11-21T10:00:07.000000042Z");
  ASSERT_TRUE(nano);
  EXPECT_EQ(nano->first, ten + 7 * kSecond + 42);
  EXPECT_EQ(nano->last, nano->first);
}

TEST(ParseTimeArgTest, OffsetsMoveToUtcAndNoneMeansUtc) {
  const int64_t ten = kNov21 + 10 * 3600 * kSecond;
  for (const char* text :
       {"2026-11-21T12:00:00+02:00", "2026-11-21T12:00:00+0200", "2026-11-21T12:00:00+02",
        "2026-11-21T05:00:00-05:00", "2026-11-21T05:30:00-0430", "2026-11-21T10:00:00",
        "2026-11-21t10:00:00z", "2026-11-21 10:00:00Z"}) {
    const auto span = parse_time_arg(text);
    ASSERT_TRUE(span) << text;
    EXPECT_EQ(span->first, ten) << text;
    EXPECT_EQ(span->last, ten + kSecond - 1) << text;
  }
}

TEST(ParseTimeArgTest, LeapDayIsADate) {
  const auto span = parse_time_arg("2024-02-29");
  ASSERT_TRUE(span);
  EXPECT_EQ(span->first, 1'709'164'800 * kSecond);
}

TEST(ParseTimeArgTest, RefusesWhatIsNotATime) {
  for (const char* text : {"",
                           "yesterday",
                           "2026",
                           "2026-11",
                           "2026-1-21",
                           "2026-13-01",
                           "2026-02-30",
                           "2025-02-29",
                           "2026-11-21T",
                           "2026-11-21T10",
                           "2026-11-21T24:00Z",
                           "2026-11-21T10:60Z",
                           "2026-11-21T10:00:60Z",
                           "2026-11-21T10:00:00.Z",
                           "2026-11-21T10:00:00.1234567891Z",
                           "2026-11-21T10:00:00Zjunk",
                           "2026-11-21T10:00:00+2",
                           "2026-11-21T10:00:00+02:0",
                           "2026-11-21T10:00:00+24:00",
                           "2026-11-21X10:00:00Z",
                           "2026-11-21T10:00:00 Z",
                           "1795219200"}) {
    EXPECT_FALSE(parse_time_arg(text)) << text;
  }
}

TEST(ScratchDirTest, IsRemovedWithEverythingInIt) {
  std::filesystem::path path;
  {
    const ScratchDir scratch;
    path = scratch.path();
    ASSERT_TRUE(std::filesystem::is_directory(path));
    std::filesystem::create_directories(path / "a" / "b");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace vaultaire::vaultctl
