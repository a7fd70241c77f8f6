#include "bulwark/http/proxy_request.hpp"

#include <algorithm>
#include <charconv>

namespace bulwark::http {
namespace {

// RFC 9110 §5.6.2: tchar.
bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

Error malformed(std::string what) {
  return Error(Errc::decode_failed, std::move(what));
}

}  // namespace

std::optional<std::string_view> ProxyRequestHead::find(std::string_view name) const noexcept {
  for (const HeaderField& f : fields)
    if (iequals(f.name, name)) return std::string_view(f.value);
  return std::nullopt;
}

Result<std::optional<std::size_t>> find_head_end(std::string_view buffer,
                                                 std::size_t max_head_bytes) {
  const std::size_t end = buffer.find("\r\n\r\n");
  if (end != std::string_view::npos && end + 4 <= max_head_bytes)
    return std::optional<std::size_t>(end + 4);
  if (end != std::string_view::npos || buffer.size() >= max_head_bytes)
    return Error(Errc::limit_exceeded,
                 "request head longer than " + std::to_string(max_head_bytes) + " bytes");
  return std::optional<std::size_t>();
}

Result<ProxyRequestHead> parse_proxy_request_head(std::string_view head, std::size_t max_fields) {
  // RFC 9112 §2.2: a recipient may ignore at least one empty line before the request line.
  while (head.starts_with("\r\n"))
    head.remove_prefix(2);
  if (!head.ends_with("\r\n\r\n")) return malformed("request head does not end with an empty line");
  head.remove_suffix(2);  // keep each line's CRLF, drop the empty line's

  const std::size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  head.remove_prefix(line_end + 2);

  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version.
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return malformed("request line is not METHOD TARGET VERSION");
  ProxyRequestHead out;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return malformed("request method is not a token");
  if (target.empty()) return malformed("empty request target");
  for (const char c : target) {
    // RFC 9112 §3.2: a target holds no whitespace or control characters.
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return malformed("control character in the request target");
  }
  if (version == "HTTP/1.1") {
    out.version = 11;
  } else if (version == "HTTP/1.0") {
    out.version = 10;
  } else {
    return malformed("unsupported HTTP version (only HTTP/1.0 and HTTP/1.1)");
  }
  out.method = method;
  out.target = target;

  while (!head.empty()) {
    const std::size_t end = head.find("\r\n");
    const std::string_view field = head.substr(0, end);
    head.remove_prefix(end + 2);
    // RFC 9112 §5.2: obsolete line folding is refused (a proxy must not forward it as is).
    if (!field.empty() && (field.front() == ' ' || field.front() == '\t'))
      return malformed("obsolete line folding");
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) return malformed("header field without a colon");
    // RFC 9112 §5.1: no whitespace between the field name and the colon.
    const std::string_view name = field.substr(0, colon);
    if (!is_token(name)) return malformed("header field name is not a token");
    const std::string_view value = trim_ows(field.substr(colon + 1));
    for (const char c : value) {
      // RFC 9110 §5.5: CR, LF and NUL are never allowed in a field value.
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f)
        return malformed("control character in a header field value");
    }
    if (out.fields.size() == max_fields)
      return Error(Errc::limit_exceeded, "more than " + std::to_string(max_fields) + " fields");
    out.fields.push_back(HeaderField{std::string(name), std::string(value)});
  }
  return out;
}

Result<Authority> parse_authority(std::string_view text) {
  Authority out;
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return malformed("CONNECT target is not [ADDRESS]:PORT");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (host.empty() ||
        host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
      return malformed("CONNECT target has a bad IPv6 literal");
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return malformed("CONNECT target has no port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.empty() || host.find(':') != std::string_view::npos)
      return malformed("CONNECT target is not HOST:PORT");
    for (const char c : host) {
      // RFC 3986 §3.2.2 reg-name, without percent-encoding (no DNS name needs it).
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_';
      if (!ok) return malformed("CONNECT target host has a forbidden character");
    }
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  // RFC 9110 §9.3.6: the port is required (there is no default for CONNECT).
  if (port.empty() || port.size() > 5 || ec != std::errc() || end != port.data() + port.size() ||
      value == 0 || value > 65535)
    return malformed("CONNECT target has a bad port");
  out.host.reserve(host.size());
  for (const char c : host)
    out.host.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

}  // namespace bulwark::http
