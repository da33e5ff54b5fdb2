#include "common/time_format.h"

#include <algorithm>
#include <ctime>
#include <iterator>

namespace vaultaire {
namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// A UTC calendar time, computed (no gmtime_r: glibc takes its time-zone lock even for UTC,
// and listings format a thousand times per page).
struct Civil {
  int64_t year;
  int month;  // 1-12
  int day;    // 1-31
  int hour;
  int minute;
  int second;
  int weekday;  // 0 = Sunday
};

Civil civil(int64_t unix_seconds) {
  const int64_t days = floor_div(unix_seconds, 86'400);
  const auto rest = static_cast<int>(unix_seconds - days * 86'400);
  // Days to year/month/day in the proleptic Gregorian calendar, by 400-year eras counted from
  // 0000-03-01 (H. Hinnant's civil_from_days).
  const int64_t z = days + 719'468;
  const int64_t era = floor_div(z, 146'097);
  const auto doe = static_cast<int>(z - era * 146'097);                     // [0, 146096]
  const int yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;  // [0, 399]
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  // [0, 365]
  const int mp = (5 * doy + 2) / 153;                                       // March = 0
  Civil c{};
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  c.hour = rest / 3600;
  c.minute = rest / 60 % 60;
  c.second = rest % 60;
  c.weekday = static_cast<int>(days + 4 - floor_div(days + 4, 7) * 7);  // 1970-01-01: Thursday
  return c;
}

// `n` decimal digits of `v` (0 <= v < 10^n), zero-padded.
char* put_digits(char* p, int64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + n;
}

std::optional<int64_t> to_unix(int year, int month, int day, int hour, int minute, int second) {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  // timegm normalises 31 February into March; a date that moved was not a date.
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_mday != day || back.tm_mon != month - 1 || back.tm_sec != second) {
    return std::nullopt;
  }
  return static_cast<int64_t>(t);
}

// The next space-separated word of `s`, which loses it and the spaces before it.
std::string_view next_word(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  const size_t end = std::min(s.find(' '), s.size());
  const std::string_view word = s.substr(0, end);
  s.remove_prefix(end);
  return word;
}

// "GMT", "UT", "UTC", "Z", "+hhmm", "-hhmm" -> seconds east of UTC.
std::optional<int> zone_offset(std::string_view zone) {
  if (zone == "GMT" || zone == "UT" || zone == "UTC" || zone == "Z") {
    return 0;
  }
  int hh, mm;
  if (zone.size() != 5 || (zone[0] != '+' && zone[0] != '-') || !parse_digits(zone, 1, 2, hh) ||
      !parse_digits(zone, 3, 2, mm) || hh > 23 || mm > 59) {
    return std::nullopt;
  }
  const int offset = hh * 3600 + mm * 60;
  return zone[0] == '-' ? -offset : offset;
}

}  // namespace

bool parse_digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) {
    return false;
  }
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

std::string_view write_iso8601(int64_t unix_nanos, std::array<char, kIso8601Size>& out) {
  const int64_t seconds = floor_div(unix_nanos, 1'000'000'000);
  const int millis = static_cast<int>((unix_nanos - seconds * 1'000'000'000) / 1'000'000);
  const Civil c = civil(seconds);
  char* p = out.data();
  p = put_digits(p, c.year, 4);
  *p++ = '-';
  p = put_digits(p, c.month, 2);
  *p++ = '-';
  p = put_digits(p, c.day, 2);
  *p++ = 'T';
  p = put_digits(p, c.hour, 2);
  *p++ = ':';
  p = put_digits(p, c.minute, 2);
  *p++ = ':';
  p = put_digits(p, c.second, 2);
  *p++ = '.';
  p = put_digits(p, millis, 3);
  *p = 'Z';
  return {out.data(), out.size()};
}

std::string format_iso8601(int64_t unix_nanos) {
  std::array<char, kIso8601Size> buf;
  return std::string(write_iso8601(unix_nanos, buf));
}

std::string format_http_date(int64_t unix_nanos) {
  const Civil c = civil(floor_div(unix_nanos, 1'000'000'000));
  char buf[29];
  char* p = buf;
  p = std::copy_n(kDays[c.weekday], 3, p);
  *p++ = ',';
  *p++ = ' ';
  p = put_digits(p, c.day, 2);
  *p++ = ' ';
  p = std::copy_n(kMonths[c.month - 1], 3, p);
  *p++ = ' ';
  p = put_digits(p, c.year, 4);
  *p++ = ' ';
  p = put_digits(p, c.hour, 2);
  *p++ = ':';
  p = put_digits(p, c.minute, 2);
  *p++ = ':';
  p = put_digits(p, c.second, 2);
  p = std::copy_n(" GMT", 4, p);
  return std::string(buf, static_cast<size_t>(p - buf));
}

std::optional<int64_t> parse_amz_date(std::string_view s) {
  int y, mo, d, h, mi, se;
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z' || !parse_digits(s, 0, 4, y) ||
      !parse_digits(s, 4, 2, mo) || !parse_digits(s, 6, 2, d) || !parse_digits(s, 9, 2, h) ||
      !parse_digits(s, 11, 2, mi) || !parse_digits(s, 13, 2, se)) {
    return std::nullopt;
  }
  return to_unix(y, mo, d, h, mi, se);
}

std::optional<int64_t> parse_iso8601(std::string_view s) {
  int y, mo, d, h, mi, se;
  if (s.size() < 20 || s.back() != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':' || !parse_digits(s, 0, 4, y) || !parse_digits(s, 5, 2, mo) ||
      !parse_digits(s, 8, 2, d) || !parse_digits(s, 11, 2, h) || !parse_digits(s, 14, 2, mi) ||
      !parse_digits(s, 17, 2, se)) {
    return std::nullopt;
  }
  if (s.size() > 20) {
    int fraction;
    if (s[19] != '.' || s.size() == 21 || s.size() > 30 ||
        !parse_digits(s, 20, s.size() - 21, fraction)) {
      return std::nullopt;
    }
  }
  return to_unix(y, mo, d, h, mi, se);
}

std::optional<int64_t> parse_http_date(std::string_view s) {
  // "Mon, 12 Oct 2009 17:50:30 GMT"
  if (s.size() != 29 || s[3] != ',' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  int d, y, h, mi, se;
  if (!parse_digits(s, 5, 2, d) || !parse_digits(s, 12, 4, y) || !parse_digits(s, 17, 2, h) ||
      !parse_digits(s, 20, 2, mi) || !parse_digits(s, 23, 2, se) || s[19] != ':' || s[22] != ':') {
    return std::nullopt;
  }
  const std::string_view month = s.substr(8, 3);
  for (int m = 0; m < 12; ++m) {
    if (month == kMonths[m]) {
      return to_unix(y, m + 1, d, h, mi, se);
    }
  }
  return std::nullopt;
}

std::optional<int64_t> parse_rfc822_date(std::string_view s) {
  // [Tue, ]27 Mar 2007 19:36:42 +0000
  std::string_view word = next_word(s);
  if (word.size() == 4 && word[3] == ',') {
    if (std::find(std::begin(kDays), std::end(kDays), word.substr(0, 3)) == std::end(kDays)) {
      return std::nullopt;
    }
    word = next_word(s);
  }
  int d, y, h, mi, se;
  if (word.empty() || word.size() > 2 || !parse_digits(word, 0, word.size(), d)) {
    return std::nullopt;
  }
  const std::string_view month = next_word(s);
  const auto m = std::find(std::begin(kMonths), std::end(kMonths), month);
  const std::string_view year = next_word(s);
  const std::string_view time = next_word(s);
  const auto zone = zone_offset(next_word(s));
  if (m == std::end(kMonths) || year.size() != 4 || !parse_digits(year, 0, 4, y) ||
      time.size() != 8 || !parse_digits(time, 0, 2, h) || time[2] != ':' ||
      !parse_digits(time, 3, 2, mi) || time[5] != ':' || !parse_digits(time, 6, 2, se) || !zone ||
      !next_word(s).empty()) {
    return std::nullopt;
  }
  const auto local = to_unix(y, static_cast<int>(m - std::begin(kMonths)) + 1, d, h, mi, se);
  if (!local) {
    return std::nullopt;
  }
  return *local - *zone;
}

}  // namespace vaultaire
