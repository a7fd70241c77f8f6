// Combined-log-format lines for `serve --access-log`.
#include "bulwark/http/access_log.hpp"

#include <array>

#include "common.hpp"

namespace bulwark::http {
namespace {

void append_2digits(std::string& out, unsigned v) {
  out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
}

// Client bytes in a log line: printable ASCII except '"' and '\\' as is, the rest as \xHH,
// so that no request can end a quoted field or a line early.
void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (text.empty()) {
    out += '-';
    return;
  }
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
}

// [10/Oct/2000:13:55:36 +0000]
void append_log_time(std::string& out, std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto second = floor<seconds>(now);
  const sys_days day_point = floor<days>(second);
  const year_month_day ymd{day_point};
  const hh_mm_ss<seconds> tod{second - day_point};
  out += '[';
  append_2digits(out, static_cast<unsigned>(ymd.day()));
  out += '/';
  out += kMonths[static_cast<unsigned>(ymd.month()) - 1];
  out += '/';
  detail::append_decimal(out, static_cast<std::uint64_t>(static_cast<int>(ymd.year())));
  out += ':';
  append_2digits(out, static_cast<unsigned>(tod.hours().count()));
  out += ':';
  append_2digits(out, static_cast<unsigned>(tod.minutes().count()));
  out += ':';
  append_2digits(out, static_cast<unsigned>(tod.seconds().count()));
  out += " +0000]";
}

}  // namespace

void append_access_log(std::string& out, std::string_view client_address, const Request& request,
                       int status, std::uint64_t body_bytes,
                       std::chrono::system_clock::time_point now) {
  append_escaped(out, client_address);
  out += " - - ";
  append_log_time(out, now);
  out += " \"";
  if (request.method.empty()) {
    out += '-';  // no request line could be parsed
  } else {
    append_escaped(out, request.method);
    out += ' ';
    append_escaped(out, request.target);
    if (request.version != 0) {
      out += request.version == 10 ? " HTTP/1.0" : " HTTP/1.1";
    }
  }
  out += "\" ";
  detail::append_decimal(out, static_cast<std::uint64_t>(status));
  out += ' ';
  detail::append_decimal(out, body_bytes);
  out += " \"";
  append_escaped(out, request.referer);
  out += "\" \"";
  append_escaped(out, request.user_agent);
  out += "\"\n";
}

std::string format_access_log(std::string_view client_address, const Request& request, int status,
                              std::uint64_t body_bytes, std::chrono::system_clock::time_point now) {
  std::string out;
  out.reserve(128 + request.target.size() + request.user_agent.size());
  append_access_log(out, client_address, request, status, body_bytes, now);
  return out;
}

}  // namespace bulwark::http
