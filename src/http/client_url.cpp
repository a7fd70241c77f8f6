// URLs, Location resolution (RFC 3986 §5) and request heads for the HTTP client.
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <array>

#include "bulwark/http/client_message.hpp"
#include "http/common.hpp"

namespace bulwark::http {

namespace {

using detail::iequals;

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

// RFC 9110 §5.6.2: tchar.
bool is_tchar(char c) {
  return is_alpha(c) || is_digit(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

Error bad_url(std::string_view text, std::string_view why) {
  return Error(Errc::invalid_argument,
               "malformed URL '" + std::string(text) + "': " + std::string(why));
}

// Appends a path or query, percent-encoding what may not appear in a request target as is
// (space, "<>\^`{|}", non-ASCII) and refusing control characters: a raw CR or LF in a target
// would end the request line and inject fields of the sender's choosing.
Status append_target_part(std::string& out, std::string_view part, std::string_view whole) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : part) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return bad_url(whole, "control character in the path or query");
    if (c >= 0x80 || std::string_view(" \"<>\\^`{|}").find(ch) != std::string_view::npos) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    } else {
      out += ch;
    }
  }
  return {};
}

// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view input) {
  std::string output;
  auto drop_last_segment = [&] {
    const std::size_t slash = output.rfind('/');
    output.erase(slash == std::string::npos ? 0 : slash);
  };
  while (!input.empty()) {
    if (input.starts_with("../")) {
      input.remove_prefix(3);
    } else if (input.starts_with("./")) {
      input.remove_prefix(2);
    } else if (input.starts_with("/./")) {
      input.remove_prefix(2);
    } else if (input == "/.") {
      input = "/";
    } else if (input.starts_with("/../")) {
      input.remove_prefix(3);
      drop_last_segment();
    } else if (input == "/..") {
      input = "/";
      drop_last_segment();
    } else if (input == "." || input == "..") {
      input = {};
    } else {
      const std::size_t next = input.find('/', 1);
      const std::size_t n = next == std::string_view::npos ? input.size() : next;
      output.append(input.substr(0, n));
      input.remove_prefix(n);
    }
  }
  return output;
}

// Splits "path?query#fragment" (the fragment is dropped).
struct PathQuery {
  std::string_view path;
  std::optional<std::string_view> query;
};
PathQuery split_path_query(std::string_view rest) {
  rest = rest.substr(0, rest.find('#'));
  PathQuery pq;
  const std::size_t q = rest.find('?');
  pq.path = rest.substr(0, q);
  if (q != std::string_view::npos) pq.query = rest.substr(q + 1);
  return pq;
}

Status set_target(Url& url, std::string_view path, std::optional<std::string_view> query,
                  std::string_view whole) {
  url.target.clear();
  const std::string clean = remove_dot_segments(path);
  BW_TRY(append_target_part(url.target, clean.empty() ? "/" : clean, whole));
  if (query) {
    url.target += '?';
    BW_TRY(append_target_part(url.target, *query, whole));
  }
  return {};
}

// The scheme of a URI reference, if it has one (RFC 3986 §3.1).
std::optional<std::string_view> scheme_of(std::string_view text) {
  if (text.empty() || !is_alpha(text.front())) return std::nullopt;
  for (std::size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ':') return text.substr(0, i);
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return std::nullopt;
  }
  return std::nullopt;
}

Status parse_authority(Url& url, std::string_view authority, std::string_view whole) {
  if (authority.find('@') != std::string_view::npos) {
    return Error(Errc::invalid_argument,
                 "'" + std::string(whole) +
                     "': credentials in a URL are not supported (they would end up in logs and "
                     "could disguise the real host); send them with -H 'Authorization: ...'");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(whole, "no ']' after an IPv6 address");
    const std::string_view literal = authority.substr(1, close - 1);
    if (literal.find('%') != std::string_view::npos) {
      return bad_url(whole, "IPv6 zone identifiers are not supported");
    }
    boost::system::error_code ec;
    const auto v6 = boost::asio::ip::make_address_v6(std::string(literal), ec);
    if (ec) return bad_url(whole, "'" + std::string(literal) + "' is not an IPv6 address");
    url.host = v6.to_string();
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url(whole, "unexpected text after ']'");
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (host.empty()) return bad_url(whole, "no host");
    for (const char c : host) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        return bad_url(whole, "non-ASCII host name: use its xn-- (punycode) form");
      }
      if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_') {
        return bad_url(whole, std::string("invalid character '") + c + "' in the host");
      }
    }
    url.host = lower(host);
  }
  url.port = url.tls() ? 443 : 80;
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit)) {
      return bad_url(whole, "the port is not a number 1..65535");
    }
    const unsigned long value = std::stoul(std::string(port));
    if (value == 0 || value > 65535) return bad_url(whole, "the port is not a number 1..65535");
    url.port = static_cast<std::uint16_t>(value);
  }
  return {};
}

}  // namespace

std::string Url::authority() const {
  std::string out = ipv6_literal() ? "[" + host + "]" : host;
  if (port != (tls() ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::string Url::text() const {
  return scheme + "://" + authority() + target;
}

bool Url::same_origin(const Url& other) const noexcept {
  return scheme == other.scheme && host == other.host && port == other.port;
}

Result<Url> parse_url(std::string_view text) {
  const auto scheme = scheme_of(text);
  if (!scheme) return bad_url(text, "no scheme (write https://HOST/PATH)");
  Url url;
  url.scheme = lower(*scheme);
  if (url.scheme != "https" && url.scheme != "http") {
    return Error(Errc::unsupported,
                 "unsupported URL scheme '" + url.scheme + "' (only https and http are)");
  }
  std::string_view rest = text.substr(scheme->size() + 1);
  if (!rest.starts_with("//")) return bad_url(text, "no '//' after the scheme");
  rest.remove_prefix(2);
  const std::size_t end = rest.find_first_of("/?#");
  BW_TRY(parse_authority(url, rest.substr(0, end), text));
  const PathQuery pq = split_path_query(end == std::string_view::npos ? "" : rest.substr(end));
  BW_TRY(set_target(url, pq.path, pq.query, text));
  return url;
}

Result<Url> resolve_reference(const Url& base, std::string_view reference) {
  // Leading and trailing whitespace is not part of a URI (RFC 3986 appendix C).
  while (!reference.empty() && (reference.front() == ' ' || reference.front() == '\t'))
    reference.remove_prefix(1);
  while (!reference.empty() && (reference.back() == ' ' || reference.back() == '\t'))
    reference.remove_suffix(1);
  if (reference.empty()) return base;  // RFC 3986 §5.2.2: the base itself
  if (scheme_of(reference)) return parse_url(reference);
  if (reference.starts_with("//")) return parse_url(base.scheme + ":" + std::string(reference));

  Url url = base;
  const PathQuery ref = split_path_query(reference);
  const PathQuery here = split_path_query(base.target);
  // The base target was encoded already; the parts taken from it are re-encoded unchanged.
  if (ref.path.empty()) {
    BW_TRY(set_target(url, here.path, ref.query ? ref.query : here.query, reference));
  } else if (ref.path.front() == '/') {
    BW_TRY(set_target(url, ref.path, ref.query, reference));
  } else {
    // RFC 3986 §5.2.3: merge with everything up to the base path's last "/".
    const std::size_t slash = here.path.rfind('/');
    std::string merged(slash == std::string_view::npos ? "/" : here.path.substr(0, slash + 1));
    merged += ref.path;
    BW_TRY(set_target(url, merged, ref.query, reference));
  }
  return url;
}

Result<HeaderOption> parse_header_option(std::string_view text) {
  const std::size_t end = text.find_first_of(":;");
  if (end == std::string_view::npos || end == 0) {
    return Error(Errc::invalid_argument,
                 "'" + std::string(text) + "' is not a header field: write 'Name: value'");
  }
  HeaderOption option;
  option.name = std::string(text.substr(0, end));
  if (!std::all_of(option.name.begin(), option.name.end(), is_tchar)) {
    return Error(Errc::invalid_argument,
                 "'" + option.name + "' is not a valid field name (RFC 9110 §5.1: a token)");
  }
  if (iequals(option.name, "Content-Length") || iequals(option.name, "Transfer-Encoding")) {
    return Error(Errc::invalid_argument,
                 "-H " + option.name + ": bulwark get sends no request body, so it frames none");
  }
  std::string_view value = text.substr(end + 1);
  if (text[end] == ';') {
    if (!value.empty()) {
      return Error(
          Errc::invalid_argument,
          "'" + std::string(text) + "': 'Name;' sends an empty field; write 'Name: value'");
    }
    option.value = std::string();
    return option;
  }
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  // RFC 9110 §5.5: field values hold no CR, LF, NUL or other control character (HTAB aside).
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return Error(Errc::invalid_argument,
                   "-H " + option.name + ": control characters (CR, LF, ...) are not allowed");
    }
  }
  if (!value.empty()) option.value = std::string(value);
  return option;
}

std::string serialize_request(const Url& url, const RequestSpec& spec) {
  std::string out;
  out.reserve(256);
  out += spec.head ? "HEAD " : "GET ";
  out += url.target;
  out += " HTTP/1.1\r\n";
  auto mentioned = [&](std::string_view name) {
    return std::any_of(spec.headers.begin(), spec.headers.end(),
                       [&](const HeaderOption& h) { return iequals(h.name, name); });
  };
  auto field = [&](std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  // RFC 9112 §3.2: Host first, so that a server sees it before anything else.
  if (!mentioned("Host")) field("Host", url.authority());
  if (!mentioned("User-Agent")) {
    field("User-Agent",
          spec.user_agent.empty() ? std::string("bulwark/") + BULWARK_VERSION : spec.user_agent);
  }
  if (!mentioned("Accept")) field("Accept", "*/*");
  // One request per connection: saying so lets the server close (with close_notify) right
  // after the response instead of waiting for another request.
  if (!mentioned("Connection")) field("Connection", "close");
  for (const HeaderOption& h : spec.headers) {
    if (h.value) field(h.name, *h.value);
  }
  out += "\r\n";
  return out;
}

}  // namespace bulwark::http
