// HTTP-date formatting and parsing (RFC 9110 §5.6.7).
#include "bulwark/http/date.hpp"

#include <array>
#include <cstdint>

namespace bulwark::http {
namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDayNames = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void append_2digits(std::string& out, unsigned v) {
  out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
}

// A cursor over the date text; every step checks the remaining length first.
class DateReader {
 public:
  explicit DateReader(std::string_view text) : text_(text) {}

  bool literal(std::string_view s) {
    if (text_.substr(pos_, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }
  // Exactly `n` digits.
  bool digits(std::size_t n, int& value) {
    if (text_.size() - pos_ < n) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = text_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    value = v;
    pos_ += n;
    return true;
  }
  template <std::size_t N>
  bool one_of(const std::array<std::string_view, N>& names, unsigned& index) {
    for (std::size_t i = 0; i < N; ++i) {
      if (literal(names[i])) {
        index = static_cast<unsigned>(i);
        return true;
      }
    }
    return false;
  }
  bool at_end() const { return pos_ == text_.size(); }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool read_time_of_day(DateReader& r, int& h, int& m, int& s) {
  return r.digits(2, h) && r.literal(":") && r.digits(2, m) && r.literal(":") && r.digits(2, s);
}

std::optional<sys_seconds> make_time(int y, unsigned month_index, int d, int h, int m, int s) {
  // time-of-day allows a leap second (60); it is counted as the last second of the minute.
  if (h > 23 || m > 59 || s > 60) return std::nullopt;
  if (s == 60) s = 59;
  const year_month_day ymd{year{y}, month{month_index + 1}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{m} + seconds{s};
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<sys_seconds> parse_imf_fixdate(std::string_view text) {
  DateReader r(text);
  unsigned wd = 0, mon = 0;
  int d = 0, y = 0, h = 0, m = 0, s = 0;
  if (!r.one_of(kDayNames, wd) || !r.literal(", ") || !r.digits(2, d) || !r.literal(" ") ||
      !r.one_of(kMonthNames, mon) || !r.literal(" ") || !r.digits(4, y) || !r.literal(" ") ||
      !read_time_of_day(r, h, m, s) || !r.literal(" GMT") || !r.at_end())
    return std::nullopt;
  return make_time(y, mon, d, h, m, s);
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<sys_seconds> parse_rfc850(std::string_view text, sys_seconds now) {
  DateReader r(text);
  unsigned wd = 0, mon = 0;
  int d = 0, yy = 0, h = 0, m = 0, s = 0;
  if (!r.one_of(kLongDayNames, wd) || !r.literal(", ") || !r.digits(2, d) || !r.literal("-") ||
      !r.one_of(kMonthNames, mon) || !r.literal("-") || !r.digits(2, yy) || !r.literal(" ") ||
      !read_time_of_day(r, h, m, s) || !r.literal(" GMT") || !r.at_end())
    return std::nullopt;
  // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is the most recent
  // past year with the same last two digits.
  const int now_year = static_cast<int>(year_month_day{floor<days>(now)}.year());
  int y = now_year - now_year % 100 + yy;
  if (y > now_year + 50) y -= 100;
  return make_time(y, mon, d, h, m, s);
}

// asctime: "Sun Nov  6 08:49:37 1994"
std::optional<sys_seconds> parse_asctime(std::string_view text) {
  DateReader r(text);
  unsigned wd = 0, mon = 0;
  int d = 0, y = 0, h = 0, m = 0, s = 0;
  if (!r.one_of(kDayNames, wd) || !r.literal(" ") || !r.one_of(kMonthNames, mon) || !r.literal(" "))
    return std::nullopt;
  if (!(r.literal(" ") ? r.digits(1, d) : r.digits(2, d))) return std::nullopt;
  if (!r.literal(" ") || !read_time_of_day(r, h, m, s) || !r.literal(" ") || !r.digits(4, y) ||
      !r.at_end())
    return std::nullopt;
  return make_time(y, mon, d, h, m, s);
}

}  // namespace

void append_http_date(std::string& out, sys_seconds when) {
  const sys_days day_point = floor<days>(when);
  const year_month_day ymd{day_point};
  const hh_mm_ss<seconds> tod{when - day_point};
  out += kDayNames[weekday{day_point}.c_encoding()];
  out += ", ";
  append_2digits(out, static_cast<unsigned>(ymd.day()));
  out += ' ';
  out += kMonthNames[static_cast<unsigned>(ymd.month()) - 1];
  out += ' ';
  const int y = static_cast<int>(ymd.year());
  append_2digits(out, static_cast<unsigned>(y / 100));
  append_2digits(out, static_cast<unsigned>(y % 100));
  out += ' ';
  append_2digits(out, static_cast<unsigned>(tod.hours().count()));
  out += ':';
  append_2digits(out, static_cast<unsigned>(tod.minutes().count()));
  out += ':';
  append_2digits(out, static_cast<unsigned>(tod.seconds().count()));
  out += " GMT";
}

std::string format_http_date(sys_seconds when) {
  std::string out;
  out.reserve(29);
  append_http_date(out, when);
  return out;
}

std::optional<sys_seconds> parse_http_date(std::string_view text, sys_seconds now) {
  // The three forms differ at the fourth character: ',' (IMF-fixdate), ' ' (asctime), or a
  // letter of a long day name (RFC 850).
  if (text.size() < 4) return std::nullopt;
  if (text[3] == ',') return parse_imf_fixdate(text);
  if (text[3] == ' ') return parse_asctime(text);
  return parse_rfc850(text, now);
}

}  // namespace bulwark::http
