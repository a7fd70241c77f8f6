#include "bulwark/http/proxy_request.hpp"

#include <algorithm>
#include <charconv>

#include "http/common.hpp"

namespace bulwark::http {
namespace {

using detail::iequals;
using detail::trim_ows;

// RFC 9110 §5.6.2: tchar.
bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

Error malformed(std::string what) {
  return Error(Errc::decode_failed, std::move(what));
}

// The field lines of a head (each ending in CRLF, the empty line removed).
Status parse_fields(std::string_view lines, std::size_t max_fields, std::vector<HeaderField>& out) {
  while (!lines.empty()) {
    const std::size_t end = lines.find("\r\n");
    const std::string_view field = lines.substr(0, end);
    lines.remove_prefix(end + 2);
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
    if (out.size() == max_fields)
      return Error(Errc::limit_exceeded, "more than " + std::to_string(max_fields) + " fields");
    out.push_back(HeaderField{std::string(name), std::string(value)});
  }
  return Status{};
}

// Calls `each` with every comma-separated element of every field named `name`, trimmed.
template <class F>
void for_each_list_element(const std::vector<HeaderField>& fields, std::string_view name, F each) {
  for (const HeaderField& f : fields) {
    if (!iequals(f.name, name)) continue;
    std::string_view rest = f.value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      each(trim_ows(rest.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
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

  BW_TRY(parse_fields(head, max_fields, out.fields));
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

RequestStart classify_request_start(std::string_view prefix) noexcept {
  constexpr std::size_t longest_method = 32;
  std::size_t i = 0;
  for (; i < prefix.size() && i <= longest_method; ++i) {
    const char c = prefix[i];
    if (c == ' ') break;
    if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_')) return RequestStart::not_http;
  }
  if (i > longest_method) return RequestStart::not_http;
  if (i == prefix.size()) return RequestStart::need_more;
  if (i == 0) return RequestStart::not_http;
  if (i + 1 == prefix.size()) return RequestStart::need_more;
  // origin-form "/", absolute-form "http:", asterisk-form "*", authority-form "host:port".
  const char t = prefix[i + 1];
  const bool target = t == '/' || t == '*' || (t >= 'a' && t <= 'z') || (t >= 'A' && t <= 'Z') ||
                      (t >= '0' && t <= '9') || t == '[';
  return target ? RequestStart::http : RequestStart::not_http;
}

std::optional<std::string_view> ProxyResponseHead::find(std::string_view name) const noexcept {
  for (const HeaderField& f : fields)
    if (iequals(f.name, name)) return std::string_view(f.value);
  return std::nullopt;
}

Result<ProxyResponseHead> parse_proxy_response_head(std::string_view head, std::size_t max_fields) {
  if (!head.ends_with("\r\n\r\n"))
    return malformed("response head does not end with an empty line");
  head.remove_suffix(2);
  const std::size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  head.remove_prefix(line_end + 2);
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
  ProxyResponseHead out;
  if (line.starts_with("HTTP/1.1 ")) {
    out.version = 11;
  } else if (line.starts_with("HTTP/1.0 ")) {
    out.version = 10;
  } else {
    return malformed("response is not HTTP/1.0 or HTTP/1.1");
  }
  const std::string_view rest = line.substr(9);
  if (rest.size() < 3 || (rest.size() > 3 && rest[3] != ' '))
    return malformed("status line without a three-digit status code");
  int status = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    if (rest[i] < '0' || rest[i] > '9') return malformed("status code is not three digits");
    status = status * 10 + (rest[i] - '0');
  }
  if (status < 100 || status > 599) return malformed("status code outside 100..599");
  out.status = status;
  out.reason = rest.size() > 4 ? rest.substr(4) : std::string_view();
  for (const char c : out.reason) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f)
      return malformed("control character in the reason phrase");
  }
  BW_TRY(parse_fields(head, max_fields, out.fields));
  return out;
}

bool is_hop_by_hop_field(std::string_view name) noexcept {
  // RFC 9110 §7.6.1 names Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding and
  // Upgrade; Proxy-Authorization is meant for this proxy alone.
  for (const std::string_view hop : {"connection", "proxy-connection", "keep-alive", "te",
                                     "transfer-encoding", "upgrade", "proxy-authorization"})
    if (iequals(name, hop)) return true;
  return false;
}

bool connection_has_option(const std::vector<HeaderField>& fields,
                           std::string_view option) noexcept {
  bool found = false;
  for_each_list_element(fields, "connection", [&](std::string_view e) {
    if (iequals(e, option)) found = true;
  });
  return found;
}

Result<std::optional<std::uint64_t>> content_length(const std::vector<HeaderField>& fields) {
  std::optional<std::uint64_t> length;
  bool bad = false;
  for_each_list_element(fields, "content-length", [&](std::string_view e) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), value);
    if (e.empty() || e.size() > 18 || ec != std::errc() || end != e.data() + e.size() ||
        (length && *length != value)) {
      bad = true;
      return;
    }
    length = value;
  });
  // RFC 9112 §6.3 item 5: an invalid Content-Length is unrecoverable framing.
  if (bad) return malformed("invalid or conflicting Content-Length");
  for (const HeaderField& f : fields)
    if (iequals(f.name, "content-length") && trim_ows(f.value).empty())
      return malformed("empty Content-Length");
  return length;
}

Result<std::size_t> ChunkedDecoder::feed(std::string_view input, std::string* data) {
  constexpr std::size_t max_line = 4096;
  constexpr std::size_t max_trailer = 64 * 1024;
  std::size_t used = 0;
  while (used < input.size() && state_ != State::done) {
    const std::string_view rest = input.substr(used);
    if (state_ == State::data) {
      const std::size_t n = static_cast<std::size_t>(
          std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(rest.size())));
      if (data) data->append(rest.substr(0, n));
      remaining_ -= n;
      body_bytes_ += n;
      used += n;
      if (remaining_ == 0) state_ = State::data_end;
      continue;
    }
    // The other states read a line.
    const std::size_t lf = rest.find('\n');
    const std::size_t take = lf == std::string_view::npos ? rest.size() : lf + 1;
    if (line_.size() + take > max_line)
      return Error(Errc::limit_exceeded, "chunk size or trailer line over 4096 bytes");
    line_.append(rest.substr(0, take));
    used += take;
    if (lf == std::string_view::npos) break;
    // RFC 9112 §7.1: every line of the chunked coding ends in CRLF.
    if (line_.size() < 2 || line_[line_.size() - 2] != '\r')
      return malformed("chunked coding line without CRLF");
    const std::string_view line = std::string_view(line_).substr(0, line_.size() - 2);
    if (state_ == State::data_end) {
      if (!line.empty()) return malformed("chunk data longer than its size");
      state_ = State::size;
    } else if (state_ == State::size) {
      // chunk-size [ chunk-ext ]: hex digits, then anything from ';' (or whitespace) on.
      std::uint64_t size = 0;
      std::size_t digits = 0;
      for (; digits < line.size(); ++digits) {
        const char c = line[digits];
        int v = -1;
        if (c >= '0' && c <= '9') v = c - '0';
        if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        if (v < 0) break;
        if (digits == 15) return Error(Errc::limit_exceeded, "chunk size over 15 hex digits");
        size = size * 16 + static_cast<std::uint64_t>(v);
      }
      const std::string_view ext = line.substr(digits);
      if (digits == 0 ||
          !(ext.empty() || ext.front() == ';' || ext.front() == ' ' || ext.front() == '\t'))
        return malformed("bad chunk size");
      remaining_ = size;
      state_ = size == 0 ? State::trailer : State::data;
    } else {  // trailer
      trailer_bytes_ += line_.size();
      if (trailer_bytes_ > max_trailer) return Error(Errc::limit_exceeded, "trailer over 64 KiB");
      if (line.empty()) state_ = State::done;
    }
    line_.clear();
  }
  return used;
}

}  // namespace bulwark::http
