// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark::http {

// Appends "Sun, 06 Nov 1994 08:49:37 GMT".
void append_http_date(std::string& out, std::chrono::sys_seconds when);
std::string format_http_date(std::chrono::sys_seconds when);

// Parses any of the three formats; nullopt when the text is not exactly one valid date.
// `now` resolves RFC 850's two-digit years (RFC 9110 §5.6.7: more than 50 years ahead means
// the most recent past year with those digits).
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text,
                                                        std::chrono::sys_seconds now);

}  // namespace bulwark::http
