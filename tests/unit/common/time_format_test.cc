#include "common/time_format.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

#include <gtest/gtest.h>

namespace vaultaire {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

TEST(TimeFormatTest, FormatsIso8601WithMilliseconds) {
  EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(1'700'000'000'123'456'789), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_iso8601(1'255'369'830 * kNanosPerSecond), "2009-10-12T17:50:30.000Z");
  EXPECT_EQ(format_iso8601(951'868'799 * kNanosPerSecond + 999'999'999),
            "2000-02-29T23:59:59.999Z");
}

TEST(TimeFormatTest, FormatsHttpDateInGmt) {
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(1'700'000'000'123'456'789), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(format_http_date(1'255'369'830 * kNanosPerSecond), "Mon, 12 Oct 2009 17:50:30 GMT");
  EXPECT_EQ(format_http_date(4'102'444'800 * kNanosPerSecond), "Fri, 01 Jan 2100 00:00:00 GMT");
}

// The formatters compute the calendar themselves; gmtime_r is the reference, over every day of
// 1900 to 2262 (leap years, 1900, 2000, 2100; int64 nanoseconds end in April 2262) at a time of
// day that varies.
TEST(TimeFormatTest, CalendarAgreesWithGmtimeEveryDayFrom1900To2262) {
  constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const int64_t first_day = -25'567;  // 1900-01-01
  const int64_t last_day = 106'750;   // 2262-04-10
  for (int64_t day = first_day; day <= last_day; ++day) {
    const int64_t seconds = day * 86'400 + (day * 7919) % 86'400;
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    char iso[80];
    std::snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d.042Z", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    char http[80];
    std::snprintf(http, sizeof http, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    const int64_t nanos = seconds * kNanosPerSecond + 42'000'000;
    ASSERT_EQ(format_iso8601(nanos), iso) << "day " << day;
    ASSERT_EQ(format_http_date(nanos), http) << "day " << day;
    std::array<char, kIso8601Size> buf;
    ASSERT_EQ(write_iso8601(nanos, buf), iso);
  }
}

TEST(TimeFormatTest, ParsesAmzDate) {
  EXPECT_EQ(parse_amz_date("19700101T000000Z").value(), 0);
  EXPECT_EQ(parse_amz_date("20150830T123600Z").value(), 1'440'938'160);
  EXPECT_EQ(parse_amz_date("20000229T235959Z").value(), 951'868'799);
}

TEST(TimeFormatTest, ParsesHttpDate) {
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT").value(), 0);
  EXPECT_EQ(parse_http_date("Mon, 12 Oct 2009 17:50:30 GMT").value(), 1'255'369'830);
}

TEST(TimeFormatTest, HttpDateRoundTrips) {
  for (const int64_t seconds : {int64_t{0}, int64_t{951'868'799}, int64_t{1'255'369'830},
                                int64_t{1'700'000'000}, int64_t{4'102'444'800}}) {
    SCOPED_TRACE(seconds);
    const auto parsed = parse_http_date(format_http_date(seconds * kNanosPerSecond));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, seconds);
  }
}

TEST(TimeFormatTest, AmzDateRoundTripsThroughIso8601) {
  for (const int64_t seconds : {int64_t{0}, int64_t{951'868'799}, int64_t{1'440'938'160},
                                int64_t{1'700'000'000}, int64_t{4'102'444'800}}) {
    SCOPED_TRACE(seconds);
    // 2015-08-30T12:36:00.000Z -> 20150830T123600Z
    std::string compact;
    for (const char c : format_iso8601(seconds * kNanosPerSecond).substr(0, 19)) {
      if (c != '-' && c != ':') {
        compact.push_back(c);
      }
    }
    compact.push_back('Z');
    const auto parsed = parse_amz_date(compact);
    ASSERT_TRUE(parsed.has_value()) << compact;
    EXPECT_EQ(*parsed, seconds);
  }
}

TEST(TimeFormatTest, RejectsMalformedAmzDate) {
  for (const char* s :
       {"", "20150830T123600", "20150830T123600ZZ", "2015-08-30T12:36:00Z", "20150830T1236000",
        "20150830 123600Z", "20151330T123600Z", "20150030T123600Z", "20150800T123600Z",
        "20150832T123600Z", "20150830T243600Z", "20150830T126000Z", "2015O830T123600Z"}) {
    SCOPED_TRACE(s);
    EXPECT_FALSE(parse_amz_date(s).has_value());
  }
}

TEST(TimeFormatTest, RejectsMalformedHttpDate) {
  for (const char* s : {"", "Mon, 12 Oct 2009 17:50:30 GM", "Mon, 12 Oct 2009 17:50:30 GMTX",
                        "Mon, 12 Oct 2009 17:50:30 UTC", "Mon, 12 Okt 2009 17:50:30 GMT",
                        "Mon, 12 oct 2009 17:50:30 GMT", "Mon 12, Oct 2009 17:50:30 GMT",
                        "Mon, 12 Oct 2009 17-50-30 GMT", "Mon, 1x Oct 2009 17:50:30 GMT",
                        "Mon, 12 Oct 2009 25:50:30 GMT", "Monday, 12-Oct-09 17:50:30 GMT",
                        "Mon Oct 12 17:50:30 2009"}) {
    SCOPED_TRACE(s);
    EXPECT_FALSE(parse_http_date(s).has_value());
  }
}

TEST(TimeFormatTest, ParsesRfc822DateWithAnyZone) {
  // The AWS Signature Version 2 examples and s3cmd write "+0000".
  EXPECT_EQ(parse_rfc822_date("Tue, 27 Mar 2007 19:36:42 +0000").value(), 1'175'024'202);
  EXPECT_EQ(parse_rfc822_date("Tue, 27 Mar 2007 19:36:42 GMT").value(), 1'175'024'202);
  EXPECT_EQ(parse_rfc822_date("Tue, 27 Mar 2007 19:36:42 UTC").value(), 1'175'024'202);
  EXPECT_EQ(parse_rfc822_date("27 Mar 2007 19:36:42 UT").value(), 1'175'024'202);
  EXPECT_EQ(parse_rfc822_date("Tue, 27 Mar 2007 21:36:42 +0200").value(), 1'175'024'202);
  EXPECT_EQ(parse_rfc822_date("Tue, 27 Mar 2007 14:06:42 -0530").value(), 1'175'024'202);
  EXPECT_EQ(parse_rfc822_date("Thu, 1 Jan 1970 00:00:00 GMT").value(), 0);
  EXPECT_EQ(parse_rfc822_date(format_http_date(1'255'369'830 * kNanosPerSecond)).value(),
            1'255'369'830);
}

TEST(TimeFormatTest, RejectsMalformedRfc822Date) {
  for (const char* s :
       {"", "Bad Date", "Tue, 27 Mar 2007 19:36:42", "Tue, 27 Mar 2007 19:36:42 +000",
        "Tue, 27 Mar 2007 19:36:42 +2400", "Tue, 27 Mar 2007 19:36:42 CET",
        "Tue, 27 Mar 07 19:36:42 GMT", "Tue, 127 Mar 2007 19:36:42 GMT",
        "Tue, 27 Mrz 2007 19:36:42 GMT", "Tue, 27 Mar 2007 19:36 GMT",
        "Tue, 30 Feb 2007 19:36:42 GMT", "Xyz, 27 Mar 2007 19:36:42 GMT",
        "Tue, 27 Mar 2007 19:36:42 GMT extra", "20070327T193642Z"}) {
    SCOPED_TRACE(s);
    EXPECT_FALSE(parse_rfc822_date(s).has_value());
  }
}

TEST(TimeFormatTest, ParsesIso8601AsListingsCarryIt) {
  EXPECT_EQ(parse_iso8601("2009-10-12T17:50:30.123Z").value(), 1'255'369'830);
  EXPECT_EQ(parse_iso8601("2009-10-12T17:50:30Z").value(), 1'255'369'830);
  EXPECT_EQ(parse_iso8601("2009-10-12T17:50:30.123456789Z").value(), 1'255'369'830);
  const int64_t nanos = 1'700'000'000'123'000'000;
  EXPECT_EQ(parse_iso8601(format_iso8601(nanos)).value(), nanos / 1'000'000'000);
}

TEST(TimeFormatTest, RejectsMalformedIso8601) {
  for (const char* bad : {"", "2009-10-12T17:50:30", "2009-10-12 17:50:30Z",
                          "2009-10-12T17:50:30.Z", "2009-02-30T17:50:30Z",
                          "2009-10-12T17:50:30.12a4Z", "2009-10-12T17:50:30.1234567890123Z"}) {
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace vaultaire
