#pragma once

// The time formats S3 speaks: ISO 8601 in XML bodies, RFC 1123 in HTTP headers, the compact
// form of x-amz-date.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vaultaire {

// 2009-10-12T17:50:30.123Z (years 0 to 9999)
std::string format_iso8601(int64_t unix_nanos);
inline constexpr size_t kIso8601Size = 24;
// The same into `out`, without allocating; returns the text.
std::string_view write_iso8601(int64_t unix_nanos, std::array<char, kIso8601Size>& out);
// Mon, 12 Oct 2009 17:50:30 GMT
std::string format_http_date(int64_t unix_nanos);
// 2009-10-12T17:50:30[.fraction]Z, as format_iso8601 writes and S3 listings carry -> seconds
// since the epoch (the fraction is dropped)
std::optional<int64_t> parse_iso8601(std::string_view s);
// The `n` decimal digits at `pos` of `s` into `out`; false when they are not all there.
bool parse_digits(std::string_view s, size_t pos, size_t n, int& out);
// 20091012T175030Z -> seconds since the epoch
std::optional<int64_t> parse_amz_date(std::string_view s);
// RFC 1123 ("Mon, 12 Oct 2009 17:50:30 GMT") -> seconds since the epoch
std::optional<int64_t> parse_http_date(std::string_view s);
// What S3 clients put in Date and x-amz-date for Signature Version 2: RFC 822 / 1123 dates with
// an optional weekday, a one- or two-digit day and the zone "GMT", "UT", "UTC", "Z" or +hhmm /
// -hhmm ("Tue, 27 Mar 2007 19:36:42 +0000", as s3cmd and the AWS examples send) -> seconds since
// the epoch. The weekday is not checked against the date.
std::optional<int64_t> parse_rfc822_date(std::string_view s);

}  // namespace vaultaire
